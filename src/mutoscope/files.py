"""User files (the OpenAI Files API): uploads owned by one user, kept in the file store.

A file's bytes live in the deployment's ``FileStore`` under its ``file-…`` id (variant
``file``); its row in the ``files`` table says who owns it. Another user's file answers exactly
as a missing one does, so ids reveal nothing.

Files expire ``MUTOSCOPE_FILE_TTL_SECONDS`` after upload (7 days; 0 keeps them): from then on
they answer 404 ``file_expired``, and the retention sweep (``retention.expire_files``) deletes
the row and the bytes. No video or job reads a file after its create request: the request copies the
image or clip into the video's own files, so a queued or running job never loses its input.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.errors import InvalidRequest, NotFound, PayloadTooLarge
from mutoscope.storage.db import Base
from mutoscope.storage.records import UserRecord, now

if TYPE_CHECKING:
    from mutoscope.services import Services

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
"""The purposes the OpenAI SDK may send; ``vision`` or ``user_data`` suit reference images."""


class FileRecord(Base):
    __tablename__ = "files"
    __table_args__ = (Index("ix_files_owner_id", "owner_id", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(32))
    bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class FileNotFound(NotFound):
    def __init__(self, file_id: str, *, param: str = "file_id"):
        super().__init__(f"No file found with id '{file_id[:80]}'.", param=param)


class FileExpired(NotFound):
    code = "file_expired"

    def __init__(self, file_id: str, expired_at: int, *, param: str = "file_id"):
        when = datetime.fromtimestamp(expired_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(
            f"file '{file_id}' expired at {when} (expires_at {expired_at}): "
            "this server keeps uploads for a limited time (MUTOSCOPE_FILE_TTL_SECONDS); "
            "upload it again. Videos made from it keep their own copy.",
            param=param,
        )


@dataclass
class FilePage:
    data: list[FileRecord]
    has_more: bool


def new_file_id() -> str:
    """``file-…`` ids (OpenAI's spelling), time-ordered so that ``ORDER BY id`` follows creation."""
    return f"file-{time.time_ns():020x}{secrets.token_hex(6)}"


def clean_filename(name: str | None) -> str:
    """The client's file name without control characters, at most 255 characters."""
    kept = "".join(c for c in (name or "") if unicodedata.category(c)[0] != "C")
    return kept.strip()[:255] or "upload"


class FileService:
    def __init__(self, services: Services):
        self.services = services
        self.sessions = services.sessions

    def create(
        self, user: UserRecord, *, filename: str | None, purpose: str, data: bytes
    ) -> FileRecord:
        """Store ``data`` for ``user``; 400 for an unknown purpose, 413 over the upload limit."""
        if purpose not in PURPOSES:
            raise InvalidRequest(
                f"purpose must be one of {', '.join(repr(p) for p in PURPOSES)} "
                f"(got {purpose[:40]!r}); use 'vision' for reference images",
                param="purpose",
            )
        limit = self.services.settings.max_upload_bytes
        if len(data) > limit:
            raise PayloadTooLarge(
                f"file is larger than the limit of {limit:,} bytes (MUTOSCOPE_MAX_UPLOAD_BYTES)",
                param="file",
            )
        record = FileRecord(
            id=new_file_id(),
            owner_id=user.id,
            filename=clean_filename(filename),
            purpose=purpose,
            bytes=len(data),
            created_at=now(),
        )
        # Bytes first: a row never points at nothing (an orphaned blob is harmless).
        self.services.files.put_bytes(record.id, "file", data)
        with self.sessions.begin() as s:
            s.add(record)
        return record

    def get(self, user: UserRecord, file_id: str, *, param: str = "file_id") -> FileRecord:
        with self.sessions() as s:
            record = s.get(FileRecord, file_id)
        if record is None or record.owner_id != user.id:
            raise FileNotFound(file_id, param=param)
        expires_at = file_expires_at(record, self.services.settings.file_ttl_seconds)
        if expires_at is not None and expires_at <= now():
            raise FileExpired(record.id, expires_at, param=param)
        return record

    def list(
        self,
        user: UserRecord,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Literal["asc", "desc"] = "desc",
        purpose: str | None = None,
    ) -> FilePage:
        """Cursor pagination over the user's files by id (ids follow creation time)."""
        query = select(FileRecord).where(FileRecord.owner_id == user.id)
        if purpose:
            query = query.where(FileRecord.purpose == purpose)
        if after:
            query = query.where(FileRecord.id > after if order == "asc" else FileRecord.id < after)
        query = query.order_by(FileRecord.id.asc() if order == "asc" else FileRecord.id.desc())
        with self.sessions() as s:
            rows = list(s.scalars(query.limit(limit + 1)))
        return FilePage(rows[:limit], len(rows) > limit)

    def read(self, user: UserRecord, file_id: str, *, param: str = "file_id") -> bytes:
        """The whole file (for small files such as reference images)."""
        record = self.get(user, file_id, param=param)
        try:
            return b"".join(self.services.files.iter_bytes(record.id, "file"))
        except Exception:
            if self.services.files.exists(record.id, "file"):
                raise
            raise FileNotFound(file_id, param=param) from None  # swept or deleted meanwhile

    def delete(self, user: UserRecord, file_id: str) -> FileRecord:
        record = self.get(user, file_id)
        with self.sessions.begin() as s:
            s.query(FileRecord).filter(FileRecord.id == record.id).delete()
        self.services.files.delete(record.id)
        return record


def file_expires_at(record: FileRecord, ttl: int) -> int | None:
    """When ``record`` expires under ``MUTOSCOPE_FILE_TTL_SECONDS`` = ``ttl`` (0: never)."""
    return record.created_at + ttl if ttl else None


def file_dict(r: FileRecord, ttl: int = 0) -> dict:
    """The wire ``FileObject`` (OpenAI's shape); ``ttl`` is ``MUTOSCOPE_FILE_TTL_SECONDS``."""
    return {
        "id": r.id,
        "object": "file",
        "bytes": r.bytes,
        "created_at": r.created_at,
        "filename": r.filename,
        "purpose": r.purpose,
        "status": "processed",
        "expires_at": file_expires_at(r, ttl),
        "status_details": None,
    }
