"""Browser sessions and CSRF tokens.

The cookie carries a random token (HttpOnly, SameSite=Lax); the database keeps only its
SHA-256, so signing out anywhere really ends a session. Every visitor, signed in or not,
gets a token: its HMAC is the CSRF token that every studio form and fetch must echo.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from mutoscope.config import Settings
from mutoscope.storage.records import UserRecord, now
from mutoscope.studio.records import SessionRecord
from mutoscope.trust.secret import secret_file

COOKIE = "mutoscope_session"
MAX_AGE = 30 * 24 * 3600


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, settings: Settings, sessions: sessionmaker):
        self.sessions = sessions
        self.secret = (settings.secret_key or _secret_file(settings.keys_dir)).encode()

    def user(self, token: str | None) -> UserRecord | None:
        """The signed-in user behind a cookie token, if its session is still live."""
        if not token:
            return None
        with self.sessions() as s:
            return s.scalar(
                select(UserRecord)
                .join(SessionRecord, SessionRecord.user_id == UserRecord.id)
                .where(SessionRecord.token_hash == _digest(token))
                .where(SessionRecord.expires_at > now())
            )

    def start(self, user_id: str) -> str:
        """A fresh token for a new session (never reuse the anonymous one: no fixation)."""
        token = new_token()
        with self.sessions.begin() as s:
            s.execute(delete(SessionRecord).where(SessionRecord.expires_at <= now()))
            s.add(
                SessionRecord(
                    token_hash=_digest(token),
                    user_id=user_id,
                    created_at=now(),
                    expires_at=now() + MAX_AGE,
                )
            )
        return token

    def end(self, token: str | None) -> None:
        if token:
            with self.sessions.begin() as s:
                s.execute(delete(SessionRecord).where(SessionRecord.token_hash == _digest(token)))

    def end_all(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of a user (sign out everywhere), except the token ``keep``;
        how many ended."""
        query = delete(SessionRecord).where(SessionRecord.user_id == user_id)
        if keep:
            query = query.where(SessionRecord.token_hash != _digest(keep))
        with self.sessions.begin() as s:
            return int(s.execute(query).rowcount or 0)

    def csrf(self, token: str) -> str:
        return hmac.new(self.secret, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]

    def check_csrf(self, token: str | None, value: str | None) -> bool:
        return bool(token and value) and hmac.compare_digest(self.csrf(token or ""), value or "")


def _secret_file(folder: Path) -> str:
    """A per-install secret kept beside the signing keys (made on first use, mode 0600)."""
    return secret_file(folder / "studio_secret")
