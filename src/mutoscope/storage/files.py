"""Where media lives: ``LocalFileStore`` keeps one folder per video under ``HOME/media``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

Variant = Literal["video", "thumbnail", "spritesheet", "reference"]

FILENAMES: dict[str, str] = {
    "video": "video.mp4",
    "thumbnail": "thumbnail.jpg",
    "spritesheet": "spritesheet.jpg",
    "reference": "reference.png",
}
MEDIA_TYPES: dict[str, str] = {
    "video": "video/mp4",
    "thumbnail": "image/jpeg",
    "spritesheet": "image/jpeg",
    "reference": "image/png",
}


class LocalFileStore:
    """Files named by video id, written through a temp name and an atomic rename.

    Writing the same video twice replaces its files, so a job that is re-run after a crash
    never leaves duplicates or orphans behind.
    """

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, video_id: str) -> Path:
        return self.root / video_id[-2:] / video_id

    def path(self, video_id: str, variant: Variant | str) -> Path:
        return self.folder(video_id) / FILENAMES[variant]

    def exists(self, video_id: str, variant: Variant | str) -> bool:
        return self.path(video_id, variant).is_file()

    def staging(self, video_id: str) -> Path:
        """A private scratch folder for one attempt at a job (removed by ``commit``)."""
        path = self.root / ".staging" / f"{video_id}.{os.getpid()}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def commit(self, video_id: str, staged: dict[str, Path]) -> None:
        """Move staged files into place atomically (``os.replace``), then drop the scratch."""
        folder = self.folder(video_id)
        folder.mkdir(parents=True, exist_ok=True)
        for variant, src in staged.items():
            os.replace(src, self.path(video_id, variant))
        if staged:
            shutil.rmtree(next(iter(staged.values())).parent, ignore_errors=True)

    def put_bytes(self, video_id: str, variant: Variant | str, data: bytes) -> Path:
        folder = self.folder(video_id)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{FILENAMES[variant]}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.path(video_id, variant))
        return self.path(video_id, variant)

    def delete(self, video_id: str) -> None:
        shutil.rmtree(self.folder(video_id), ignore_errors=True)

    def clean_staging(self) -> None:
        """Remove scratch left by attempts that died (called at start-up)."""
        shutil.rmtree(self.root / ".staging", ignore_errors=True)
