"""Provenance rows: which watermark payload was embedded in which video."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.storage.db import Base
from mutoscope.storage.records import now


class WatermarkRecord(Base):
    """One 48-bit payload per video. No foreign key: a payload outlives a deleted video row,
    so verify can still say "made here, since deleted" instead of "no evidence"."""

    __tablename__ = "provenance_watermarks"

    payload: Mapped[str] = mapped_column(String(16), primary_key=True)
    """12 hex characters (6 bytes)."""
    video_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    algorithm: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(Integer, default=now)
