"""Users and API keys. Keys are random, shown once, and stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import InvalidRequest, NotFound, Unauthorized
from mutoscope.storage.records import ApiKeyRecord, UserRecord, new_id, now

KEY_PREFIX = "mts_"
LOCAL_USER = "local"
"""The owner of videos made in keyless single-user mode (and by ``mutoscope generate``)."""


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe here (unlike passwords).
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: str
    record: ApiKeyRecord


class UserService:
    def __init__(self, sessions: sessionmaker, *, cache_seconds: float = 1.0):
        self.sessions = sessions
        self._any_key: bool | None = None
        # key hash -> (user, expiry). Short-lived so that a revocation made by another process
        # (`mutoscope keys revoke`) takes effect within ``cache_seconds``.
        self._cache: dict[str, tuple[UserRecord, float]] = {}
        self.cache_seconds = cache_seconds

    def get_or_create(self, name: str, *, is_admin: bool = False) -> UserRecord:
        name = name.strip()
        if not name:
            raise InvalidRequest("user name must not be empty", param="user")
        with self.sessions.begin() as s:
            user = s.scalar(select(UserRecord).where(UserRecord.name == name))
            if user is None:
                user = UserRecord(id=new_id("user"), name=name, is_admin=is_admin, created_at=now())
                s.add(user)
            elif is_admin and not user.is_admin:
                user.is_admin = True
            return user

    def get(self, user_id: str) -> UserRecord:
        with self.sessions() as s:
            user = s.get(UserRecord, user_id)
        if user is None:
            raise NotFound(f"No user with id '{user_id}'.")
        return user

    def by_name(self, name: str) -> UserRecord | None:
        with self.sessions() as s:
            return s.scalar(select(UserRecord).where(UserRecord.name == name))

    def create_key(self, user_name: str, key_name: str) -> NewKey:
        user = self.get_or_create(user_name)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKeyRecord(
            id=new_id("key"),
            user_id=user.id,
            name=key_name,
            prefix=key[:10],
            key_hash=hash_key(key),
            created_at=now(),
        )
        with self.sessions.begin() as s:
            s.add(record)
        self._any_key = True
        return NewKey(key, record)

    def list_keys(self, user_name: str | None = None) -> list[tuple[ApiKeyRecord, str]]:
        """Keys (never their secrets) with their user's name."""
        query = (
            select(ApiKeyRecord, UserRecord.name).join(UserRecord).order_by(ApiKeyRecord.created_at)
        )
        if user_name:
            query = query.where(UserRecord.name == user_name)
        with self.sessions() as s:
            return [(k, n) for k, n in s.execute(query).all()]

    def revoke_key(self, key_id_or_prefix: str, *, user_id: str | None = None) -> ApiKeyRecord:
        with self.sessions.begin() as s:
            query = select(ApiKeyRecord).where(
                (ApiKeyRecord.id == key_id_or_prefix) | (ApiKeyRecord.prefix == key_id_or_prefix)
            )
            if user_id:
                query = query.where(ApiKeyRecord.user_id == user_id)
            record = s.scalar(query)
            if record is None:
                raise NotFound(
                    f"No API key '{key_id_or_prefix}'; `mutoscope keys list` shows them."
                )
            record.revoked_at = record.revoked_at or now()
        self._cache.clear()
        return record

    def any_key(self) -> bool:
        """Whether any API key exists (then every /v1 request needs one)."""
        if not self._any_key:
            with self.sessions() as s:
                self._any_key = bool(s.scalar(select(func.count()).select_from(ApiKeyRecord)))
        return self._any_key

    def authenticate(self, key: str) -> UserRecord:
        digest = hash_key(key)
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        user = self._authenticate(digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (user, time.monotonic() + self.cache_seconds)
        return user

    def _authenticate(self, digest: str) -> UserRecord:
        with self.sessions() as s:
            row = s.execute(
                select(UserRecord, ApiKeyRecord.id, ApiKeyRecord.revoked_at)
                .join(ApiKeyRecord, ApiKeyRecord.user_id == UserRecord.id)
                .where(ApiKeyRecord.key_hash == digest)
            ).first()
        if row is None or row[2] is not None:
            raise Unauthorized(
                "Incorrect API key provided. Create one with `mutoscope keys create --user NAME "
                "--name KEY` and send it as 'Authorization: Bearer <key>'."
            )
        return row[0]

    def touch_key(self, key: str) -> None:
        with self.sessions.begin() as s:
            s.execute(
                update(ApiKeyRecord)
                .where(ApiKeyRecord.key_hash == hash_key(key))
                .values(last_used_at=now())
            )
