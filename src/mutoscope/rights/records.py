"""Rights rows: the registry, consents, the hash-chained audit log and the frame-hash index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mutoscope.storage.db import Base
from mutoscope.storage.records import now


class EntityRecord(Base):
    """One protected character, brand, work or person."""

    __tablename__ = "rights_entities"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(300), index=True)
    owner_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """The user who registered it (a record only: management follows ``org_id``)."""
    org_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """The verified organisation that holds the rights (``None``: managed by admins)."""
    subject_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """For a person's own likeness: their account (they manage it and may use it)."""
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[list[str]] = mapped_column(JSON, default=list)
    """What the entity is known for (``EntitySpec.facts``)."""
    policy: Mapped[str] = mapped_column(String(16))
    license: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    updated_at: Mapped[int] = mapped_column(Integer, default=now)
    source: Mapped[str] = mapped_column(String(16), default="operator", index=True)
    """``starter`` (the packaged registry) | ``operator`` (imported here, by file, CLI, API
    or portal)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    """Screened; operators switch single starter entries off (kept across upgrades)."""


class ConsentRecord(Base):
    """A person (``policy: consent``) allows one user to generate their likeness."""

    __tablename__ = "rights_consents"
    __table_args__ = (UniqueConstraint("entity_id", "grantee_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("rights_entities.id", ondelete="CASCADE"), index=True
    )
    grantee_user_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class AuditRecord(Base):
    """One decision. ``row_hash`` chains every row to the one before it."""

    __tablename__ = "rights_audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[float] = mapped_column(Float)
    user_id: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """Request or video id."""
    check: Mapped[str] = mapped_column(String(16))
    """``prompt`` | ``reference`` | ``output``."""
    prompt_hash: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(8))
    entity_id: Mapped[str | None] = mapped_column(String(120), index=True)
    method: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))
    """HMAC chain under a key kept outside the database (``None``: written before 0005)."""


class FrameHashRecord(Base):
    """A PDQ hash of one frame of a registered reference or of one of our own outputs."""

    __tablename__ = "rights_frame_hashes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    """``reference`` | ``output``."""
    entity_id: Mapped[str | None] = mapped_column(
        ForeignKey("rights_entities.id", ondelete="CASCADE"), index=True
    )
    video_id: Mapped[str | None] = mapped_column(String(64), index=True)
    path: Mapped[str | None] = mapped_column(String(500))
    frame_index: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    quality: Mapped[int] = mapped_column(Integer)


class RegistryVersionRecord(Base):
    """One row whose ``version`` every registry or consent change bumps in its own
    transaction; each process's screener compares it with the version it was built from."""

    __tablename__ = "rights_registry_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[float] = mapped_column(Float)


class StarterStateRecord(Base):
    """The packaged starter registry in this database: on or off, and which version is loaded."""

    __tablename__ = "rights_starter_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the loaded file: a changed file is loaded again even without a new version."""
    loaded_at: Mapped[float] = mapped_column(Float)
