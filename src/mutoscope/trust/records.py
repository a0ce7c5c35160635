"""Trust rows (migration ``0005_trust``): organisations, members, proposals, rate-limit
counters and one-time install facts such as who became the first admin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.storage.db import Base
from mutoscope.storage.records import now

PENDING, VERIFIED, REJECTED, APPROVED = "pending", "verified", "rejected", "approved"


class OrgRecord(Base):
    """An organisation. It holds rights only once an admin has verified its claim."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    """``pending`` (claimed) | ``verified`` (a rights holder) | ``rejected``."""
    claim: Mapped[str] = mapped_column(Text, default="")
    """What the claimant offered as evidence (a website, a contact), for the admin."""
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[int | None] = mapped_column(Integer)


class OrgMemberRecord(Base):
    __tablename__ = "organization_members"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    """``owner`` (may add and remove members) | ``member``."""
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class ProposalRecord(Base):
    """An entity someone asked for; it blocks nothing until an admin approves it."""

    __tablename__ = "rights_proposals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(120), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_by: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[int | None] = mapped_column(Integer)


class TrustStateRecord(Base):
    """Facts decided once per install, claimed by primary key in one transaction."""

    __tablename__ = "trust_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class RateLimitRecord(Base):
    """One fixed-window counter of the database rate-limit storage."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
