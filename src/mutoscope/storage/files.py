"""Where media lives: the ``FileStore`` interface, ``LocalFileStore`` and ``S3FileStore``.

Every process that serves or makes videos reads and writes the same store; ``services.py``
picks the implementation from ``MUTOSCOPE_STORAGE_URL`` (unset: ``HOME/media`` on this disk;
``s3://bucket/prefix``: any S3-compatible store, configured by the standard AWS variables).

A job encodes into a private local staging folder (one per process, so workers never touch
each other's scratch), then ``commit`` puts the files in place under the video's id. Writing
the same video twice replaces its files, so a job re-run after a crash never leaves
duplicates behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Variant = Literal["video", "thumbnail", "spritesheet", "reference", "file", "frames", "source"]

FILENAMES: dict[str, str] = {
    "video": "video.mp4",
    "thumbnail": "thumbnail.jpg",
    "spritesheet": "spritesheet.jpg",
    "reference": "reference.png",
    "file": "file.bin",  # a user's upload through /v1/files, stored under its file id
    "source": "source.mp4",  # an uploaded clip an edit or extension starts from
    "frames": "frames.png",  # a character's reference frames, side by side
}
MEDIA_TYPES: dict[str, str] = {
    "video": "video/mp4",
    "thumbnail": "image/jpeg",
    "spritesheet": "image/jpeg",
    "reference": "image/png",
    "file": "application/octet-stream",
    "source": "video/mp4",
    "frames": "image/png",
}
VARIANT_OF = {name: variant for variant, name in FILENAMES.items()}
STALE_STAGING_SECONDS = 24 * 3600.0
"""Scratch older than this is removed by any process (its job would have lost its lease)."""
MULTIPART_BYTES = 8 << 20
"""Files from this size are uploaded to S3 in parts (boto3's own default threshold)."""


class FileStore(ABC):
    """Media files by video id and variant, shared by every process of a deployment."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        """Local staging root for this machine (each process works in its own sub-folder)."""
        self._owner = f"{socket.gethostname()}.{os.getpid()}"

    # -- writing ---------------------------------------------------------------------------
    def staging(self, video_id: str) -> Path:
        """A private, empty local scratch folder for one attempt at a job."""
        path = self.scratch / self._owner / video_id
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @abstractmethod
    def commit(self, video_id: str, staged: dict[str, Path]) -> None:
        """Put staged files in place (each one atomically), then drop the scratch folder."""

    @abstractmethod
    def put_bytes(self, video_id: str, variant: Variant | str, data: bytes) -> None:
        """Store one file from memory (e.g. an uploaded reference image)."""

    @abstractmethod
    def delete(self, video_id: str) -> None:
        """Remove every file of the video (no error if there are none)."""

    # -- reading ---------------------------------------------------------------------------
    @abstractmethod
    def exists(self, video_id: str, variant: Variant | str) -> bool: ...

    @abstractmethod
    def path(self, video_id: str, variant: Variant | str) -> Path:
        """A local path to read the file from (for a remote store, a cached copy); the path
        does not exist when the file does not."""

    @abstractmethod
    def size(self, video_id: str, variant: Variant | str) -> int: ...

    @abstractmethod
    def iter_bytes(
        self, video_id: str, variant: Variant | str, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        """Stream the file's bytes (for downloads)."""

    def url(
        self, video_id: str, variant: Variant | str, *, filename: str | None = None
    ) -> str | None:
        """A short-lived URL clients can fetch directly, or ``None`` if the store has none."""
        return None

    @abstractmethod
    def video_ids(self) -> dict[str, float]:
        """Every video id with files, and when its newest file was written (epoch seconds)."""

    # -- housekeeping ----------------------------------------------------------------------
    def clean_staging(self, *, stale_after: float = STALE_STAGING_SECONDS) -> None:
        """Remove scratch left by dead processes: this host's whose process is gone, and any
        older than ``stale_after``. Other live processes' scratch is never touched."""
        if not self.scratch.is_dir():
            return
        host = socket.gethostname()
        for entry in self.scratch.iterdir():
            name, _, pid = entry.name.rpartition(".")
            try:
                age = time.time() - entry.stat().st_mtime
            except FileNotFoundError:
                continue
            dead = name == host and pid.isdigit() and not _alive(int(pid))
            if dead or age > stale_after:
                shutil.rmtree(entry, ignore_errors=True)


class LocalFileStore(FileStore):
    """One folder per video under ``root`` (``HOME/media``); renames make writes atomic."""

    def __init__(self, root: Path, scratch: Path | None = None):
        super().__init__(scratch or root / ".staging")
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, video_id: str) -> Path:
        return self.root / video_id[-2:] / video_id

    def path(self, video_id: str, variant: Variant | str) -> Path:
        return self.folder(video_id) / FILENAMES[variant]

    def exists(self, video_id: str, variant: Variant | str) -> bool:
        return self.path(video_id, variant).is_file()

    def size(self, video_id: str, variant: Variant | str) -> int:
        return self.path(video_id, variant).stat().st_size

    def iter_bytes(
        self, video_id: str, variant: Variant | str, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        with open(self.path(video_id, variant), "rb") as fh:
            while data := fh.read(chunk):
                yield data

    def commit(self, video_id: str, staged: dict[str, Path]) -> None:
        """Move staged files into place atomically (``os.replace``), then drop the scratch."""
        folder = self.folder(video_id)
        folder.mkdir(parents=True, exist_ok=True)
        for variant, src in staged.items():
            os.replace(src, self.path(video_id, variant))
        if staged:
            shutil.rmtree(next(iter(staged.values())).parent, ignore_errors=True)

    def put_bytes(self, video_id: str, variant: Variant | str, data: bytes) -> None:
        folder = self.folder(video_id)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{FILENAMES[variant]}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.path(video_id, variant))

    def delete(self, video_id: str) -> None:
        shutil.rmtree(self.folder(video_id), ignore_errors=True)

    def video_ids(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for shard in self.root.iterdir():
            if shard.name.startswith(".") or not shard.is_dir():
                continue
            for folder in shard.iterdir():
                times = [f.stat().st_mtime for f in folder.iterdir() if f.is_file()]
                found[folder.name] = max(times, default=folder.stat().st_mtime)
        return found


class S3FileStore(FileStore):
    """Objects at ``prefix/<last two id chars>/<video id>/<file>`` in an S3-compatible bucket.

    The client is boto3's, so ``AWS_ENDPOINT_URL`` (MinIO, R2, Ceph RGW, ...),
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION`` work as they do
    for every AWS tool. Each object is written by a single PUT, which S3 makes visible
    atomically. ``path`` downloads into a local cache, re-used while the object's ETag holds.
    """

    def __init__(
        self,
        url: str,
        *,
        scratch: Path,
        cache: Path,
        presign_seconds: int = 300,
        client: Any = None,
    ):
        super().__init__(scratch)
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket:
            raise ValueError(f"storage URL must look like s3://bucket/prefix (got {url!r})")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.cache = cache
        self.presign_seconds = presign_seconds
        self.client = client if client is not None else _s3_client()

    def key(self, video_id: str, variant: Variant | str) -> str:
        return f"{self._folder(video_id)}{FILENAMES[variant]}"

    def _folder(self, video_id: str) -> str:
        base = f"{self.prefix}/" if self.prefix else ""
        return f"{base}{video_id[-2:]}/{video_id}/"

    def _head(self, video_id: str, variant: Variant | str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self.key(video_id, variant)
            )
            return head
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, video_id: str, variant: Variant | str) -> bool:
        return self._head(video_id, variant) is not None

    def size(self, video_id: str, variant: Variant | str) -> int:
        head = self._head(video_id, variant)
        if head is None:
            raise FileNotFoundError(self.key(video_id, variant))
        return int(head["ContentLength"])

    def path(self, video_id: str, variant: Variant | str) -> Path:
        local = self.cache / video_id[-2:] / video_id / FILENAMES[variant]
        head = self._head(video_id, variant)
        if head is None:
            local.unlink(missing_ok=True)
            return local
        tag = local.with_name(local.name + ".etag")
        if local.is_file() and tag.is_file() and tag.read_text() == head["ETag"]:
            return local
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{os.getpid()}.tmp")
        self.client.download_file(self.bucket, self.key(video_id, variant), str(tmp))
        os.replace(tmp, local)
        tag.write_text(head["ETag"])
        return local

    def iter_bytes(
        self, video_id: str, variant: Variant | str, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(video_id, variant))["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()

    def url(
        self, video_id: str, variant: Variant | str, *, filename: str | None = None
    ) -> str | None:
        params: dict[str, str] = {"Bucket": self.bucket, "Key": self.key(video_id, variant)}
        params["ResponseContentType"] = MEDIA_TYPES[variant]
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        url: str = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.presign_seconds
        )
        return url

    def commit(self, video_id: str, staged: dict[str, Path]) -> None:
        # The video goes last: whoever sees it can rely on the other files being there too.
        for variant, src in sorted(staged.items(), key=lambda item: item[0] == "video"):
            self._upload(src, self.key(video_id, variant), MEDIA_TYPES[variant])
        if staged:
            shutil.rmtree(next(iter(staged.values())).parent, ignore_errors=True)

    def _upload(self, src: Path, key: str, content_type: str) -> None:
        """One PUT for a file under ``MULTIPART_BYTES`` (a clip, its posters); boto3's managed
        upload, multipart with parts in parallel, for larger ones. The managed upload starts
        a transfer manager and its threads on every call: ≈1.5 ms of CPU per small file."""
        if src.stat().st_size < MULTIPART_BYTES:
            with src.open("rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
                )
            return
        self.client.upload_file(str(src), self.bucket, key, ExtraArgs={"ContentType": content_type})

    def put_bytes(self, video_id: str, variant: Variant | str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(video_id, variant),
            Body=data,
            ContentType=MEDIA_TYPES[variant],
        )

    def delete(self, video_id: str) -> None:
        keys = [obj["Key"] for obj in self._list(self._folder(video_id))]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})
        shutil.rmtree(self.cache / video_id[-2:] / video_id, ignore_errors=True)

    def video_ids(self) -> dict[str, float]:
        found: dict[str, float] = {}
        base = f"{self.prefix}/" if self.prefix else ""
        for obj in self._list(base):
            parts = obj["Key"][len(base) :].split("/")
            if len(parts) != 3 or parts[2] not in VARIANT_OF:
                continue
            written = obj["LastModified"].timestamp()
            found[parts[1]] = max(found.get(parts[1], 0.0), written)
        return found

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            yield from page.get("Contents", [])


def sweep_orphans(files: FileStore, live: set[str], *, older_than: float = 3600.0) -> list[str]:
    """Delete the files of videos not in ``live`` (no database row) written more than
    ``older_than`` seconds ago; returns their ids. ``live`` must include the ids of the
    ``files`` table too: uploads through /v1/files are stored under their ``file-…`` ids.

    Orphans come from a worker that committed just as its video was deleted, or an upload
    whose create failed after storing its reference image. The age guard spares files of a
    create that is still in flight.
    """
    cutoff = time.time() - older_than
    gone = [
        vid for vid, written in files.video_ids().items() if vid not in live and written < cutoff
    ]
    for vid in gone:
        files.delete(vid)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    # Path-style addressing for custom endpoints (MinIO, moto, Ceph): their hosts rarely
    # resolve bucket sub-domains. AWS itself keeps the default.
    custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(s3={"addressing_style": "path"}) if custom else None
    return boto3.client("s3", config=config)
