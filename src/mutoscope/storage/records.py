"""Core rows: users, API keys, videos and their jobs. Wire models are built from these in api/."""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.storage.db import Base

# One vocabulary everywhere (OpenAI's): the database, events, logs and UI.
QUEUED, IN_PROGRESS, COMPLETED, FAILED = "queued", "in_progress", "completed", "failed"
STATUSES = (QUEUED, IN_PROGRESS, COMPLETED, FAILED)


def new_id(prefix: str) -> str:
    """``video_…`` style ids: time-ordered so that ``ORDER BY id`` follows creation."""
    return f"{prefix}_{time.time_ns():020x}{secrets.token_hex(6)}"


def now() -> int:
    return int(time.time())


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    """Login and public name."""
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class ApiKeyRecord(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the key, shown in listings."""
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    last_used_at: Mapped[int | None] = mapped_column(Integer)
    revoked_at: Mapped[int | None] = mapped_column(Integer)


class VideoRecord(Base):
    __tablename__ = "videos"
    __table_args__ = (Index("ix_videos_owner_id", "owner_id", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    """The model name the client asked for (alias kept, e.g. ``sora-2``)."""
    backend: Mapped[str] = mapped_column(String(200))
    """The installed backend that makes it."""
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str] = mapped_column(Text)
    size: Mapped[str] = mapped_column(String(16))
    seconds: Mapped[str] = mapped_column(String(8))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(16), default="create")
    remixed_from_video_id: Mapped[str | None] = mapped_column(String(64), index=True)
    input_reference: Mapped[str | None] = mapped_column(String(500))
    """Stored reference image, relative to the media dir."""
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    started_at: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[int | None] = mapped_column(Integer, index=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[int | None] = mapped_column(Integer, index=True)
    """Set when the owner publishes the video to the studio feed."""
    attributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Licensed entities used (from the rights layer), carried into the C2PA manifest."""
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What provenance recorded at signing: watermark payload, manifest label, ..."""
    duration: Mapped[float | None] = mapped_column(Float)
    frame_count: Mapped[int | None] = mapped_column(Integer)
    warning: Mapped[str | None] = mapped_column(Text)
    """Set when the model cannot draw (all of) the prompt: what it will not show, and why."""
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Per-request generation options (steps, guidance, negative_prompt, loras, preset)."""
    expired_at: Mapped[int | None] = mapped_column(Integer)
    """When the retention sweep deleted the video's files (``expires_at`` had passed)."""
    source_video: Mapped[str | None] = mapped_column(String(500))
    """An uploaded clip this video edits or extends (stored as its ``source`` variant)."""
    segment_seconds: Mapped[str | None] = mapped_column(String(8))
    """An extension's newly generated length; ``seconds`` is the stitched total."""
    strength: Mapped[float | None] = mapped_column(Float)
    """An edit's strength (0-1: how far the source is noised before re-denoising)."""


class JobRecord(Base):
    """The durable queue entry for a video (embedded SQLite queue)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "run_after"),)

    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")
    """``queued`` | ``running`` | ``done`` | ``cancelled``."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[float] = mapped_column(Float, default=0.0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(Text)
