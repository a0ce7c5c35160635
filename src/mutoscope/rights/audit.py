"""The hash-chained audit log: every allow and block decision, tamper-evident.

Each row's ``row_hash`` is SHA-256 over the previous row's hash and the row's own fields
(canonical JSON), so editing, deleting or reordering any row breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.rights.records import AuditRecord
from mutoscope.storage.db import writing

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "created_at",
    "user_id",
    "subject_id",
    "check",
    "prompt_hash",
    "decision",
    "entity_id",
    "method",
    "score",
    "evidence",
)


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def row_hash(prev: str, fields: dict[str, Any]) -> str:
    body = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def _fields(row: AuditRecord) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


class AuditLog:
    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def append(self, **values: Any) -> AuditRecord:
        """Append one decision; retried when another process appended at the same moment."""
        for _ in range(20):
            with self.sessions() as s:
                writing(s)  # read the chain's tail under this process's write lock (SQLite)
                last = s.execute(
                    select(AuditRecord.seq, AuditRecord.row_hash)
                    .order_by(AuditRecord.seq.desc())
                    .limit(1)
                ).first()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                row = AuditRecord(
                    seq=seq, created_at=round(time.time(), 6), prev_hash=prev, **values
                )
                row.score = None if row.score is None else round(float(row.score), 4)
                row.evidence = json.loads(json.dumps(row.evidence or {}, default=str))
                row.row_hash = row_hash(prev, _fields(row))
                s.add(row)
                try:
                    s.commit()
                    return row
                except IntegrityError:
                    s.rollback()
        raise RuntimeError("could not append to the audit log (too much contention)")

    def verify(self) -> Broken | None:
        """The first row whose chain or contents do not check out, or ``None``."""
        prev, expected_seq = GENESIS, 1
        for row in self.rows():
            if row.seq != expected_seq:
                return Broken(expected_seq, f"row {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return Broken(row.seq, f"row {row.seq} does not link to row {row.seq - 1}")
            if row_hash(prev, _fields(row)) != row.row_hash:
                return Broken(row.seq, f"row {row.seq} was modified after it was written")
            prev, expected_seq = row.row_hash, expected_seq + 1
        return None

    def rows(
        self, *, entity_ids: list[str] | None = None, batch: int = 1000
    ) -> Iterator[AuditRecord]:
        last = 0
        while True:
            with self.sessions() as s:
                q = select(AuditRecord).where(AuditRecord.seq > last)
                if entity_ids is not None:
                    q = q.where(AuditRecord.entity_id.in_(entity_ids))
                chunk = list(s.scalars(q.order_by(AuditRecord.seq).limit(batch)))
            if not chunk:
                return
            yield from chunk
            last = chunk[-1].seq

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def as_dict(row: AuditRecord) -> dict[str, Any]:
    return {**_fields(row), "prev_hash": row.prev_hash, "row_hash": row.row_hash}
