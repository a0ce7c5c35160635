"""Social rows: profiles, follows, comments and notifications (migration ``0021_social``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.storage.db import Base
from mutoscope.storage.records import now


class ProfileRecord(Base):
    """A user's public face: ``@handle``, bio and avatar (the display name is on ``users``)."""

    __tablename__ = "social_profiles"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    handle: Mapped[str] = mapped_column(String(40))
    """As the user typed it (case kept)."""
    handle_key: Mapped[str] = mapped_column(String(40), unique=True)
    """Lower-cased: handles are unique regardless of case."""
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A small square PNG, re-encoded on upload (never the uploaded bytes)."""
    updated_at: Mapped[int] = mapped_column(Integer, default=now)


class FollowRecord(Base):
    __tablename__ = "social_follows"
    __table_args__ = (Index("ix_social_follows_followee_id", "followee_id"),)

    follower_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class CommentRecord(Base):
    __tablename__ = "social_comments"
    __table_args__ = (Index("ix_social_comments_video_id", "video_id", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class NotificationRecord(Base):
    """Something that happened to a user's videos, characters or account.

    ``actor_id`` (who did it) and ``video_id`` are columns so pages can join them and rows
    go away with the user or video; everything else a kind needs is in ``data``.
    """

    __tablename__ = "social_notifications"
    __table_args__ = (
        Index("ix_social_notifications_user_id", "user_id", "id"),
        Index("ix_social_notifications_unread", "user_id", "read_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    video_id: Mapped[str | None] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    read_at: Mapped[int | None] = mapped_column(Integer)
