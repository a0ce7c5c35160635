"""Character rows: the character, who asked to use it, and which videos use it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.storage.db import Base
from mutoscope.storage.records import now

KINDS = ("person", "pet", "object", "drawn")
"""A likeness of a person, a pet, an object, or a drawn character."""
TIERS = ("only_me", "approved", "mutual", "everyone")
"""Who may use a character: only its owner, people the owner approves, mutual follows, anyone."""
TIER_LABELS = {
    "only_me": "Only me",
    "approved": "People I approve",
    "mutual": "Mutual follows",
    "everyone": "Everyone",
}
PENDING, APPROVED, DENIED = "pending", "approved", "denied"


class CharacterRecord(Base):
    __tablename__ = "characters"
    __table_args__ = (Index("ix_characters_owner_id", "owner_id", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default="person")
    tier: Mapped[str] = mapped_column(String(16), default="only_me")
    description: Mapped[str] = mapped_column(Text, default="")
    """What the character looks like, in words (screened like a rights description)."""
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The owner's text rules (``no political content``), screened on every use."""
    look: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Read from the video: ``{"color", "shape", "background"}`` in the tiny model's words."""
    frame_count: Mapped[int] = mapped_column(Integer, default=0)
    """Reference frames stored with it (``characters.look.REFERENCE_FRAMES`` at most)."""
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    revoked_at: Mapped[int | None] = mapped_column(Integer)
    """Set while the owner has withdrawn it: nobody (the owner included) may use it."""
    deleted_at: Mapped[int | None] = mapped_column(Integer)


class CharacterAccessRecord(Base):
    """A user's request to use a character, and the owner's answer."""

    __tablename__ = "character_access"
    __table_args__ = (
        UniqueConstraint("character_id", "user_id"),
        Index("ix_character_access_user", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    character_id: Mapped[str] = mapped_column(ForeignKey("characters.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    decided_at: Mapped[int | None] = mapped_column(Integer)


class VideoCharacterRecord(Base):
    """A video uses a character: the character's owner is a co-owner of the video."""

    __tablename__ = "video_characters"
    __table_args__ = (
        Index("ix_video_characters_owner", "character_owner_id"),
        Index("ix_video_characters_character", "character_id"),
    )

    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    character_id: Mapped[str] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), primary_key=True
    )
    character_owner_id: Mapped[str] = mapped_column(String(64))
    mention: Mapped[str] = mapped_column(String(120))
    """How the prompt names the character (its name or ``@handle``)."""
    removed_at: Mapped[int | None] = mapped_column(Integer)
    """Set when the character's owner removed the video from the feed (it cannot be
    published again)."""
