"""Studio accounts: names and argon2id password hashes on the core ``users`` table."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import Conflict, InvalidRequest, Unauthorized
from mutoscope.storage.records import UserRecord, new_id, now

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,39}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_hasher = PasswordHasher()


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise InvalidRequest(
            f"user name must be 2 to 40 letters, digits, '.', '_' or '-', starting with a letter "
            f"or digit (got '{name}')",
            param="name",
        )
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise InvalidRequest(
            f"password must be at least {MIN_PASSWORD} characters (got {len(password or '')})",
            param="password",
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidRequest(
            f"password must be at most {MAX_PASSWORD} characters", param="password"
        )
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_account(
    sessions: sessionmaker,
    name: str,
    password: str,
    *,
    is_admin: bool = False,
    claim_existing: bool = True,
) -> UserRecord:
    """Create a user who can sign in to the studio.

    ``claim_existing`` (the CLI's behaviour) sets a password on a user that exists without
    one, such as the owner of API keys made with ``mutoscope keys create --user``; the
    sign-up page passes ``False`` so nobody can take over such a user from the browser.
    """
    name, password_hash = check_name(name), hash_password(check_password(password))
    with sessions.begin() as s:
        user = s.scalar(select(UserRecord).where(UserRecord.name == name))
        if user is not None and (user.password_hash or not claim_existing):
            raise Conflict(
                f"the name '{name}' is taken; choose another one", param="name", code="name_taken"
            )
        if user is None:
            user = UserRecord(id=new_id("user"), name=name, is_admin=is_admin, created_at=now())
            s.add(user)
        user.password_hash = password_hash
        user.is_admin = user.is_admin or is_admin
        return user


def authenticate(sessions: sessionmaker, name: str, password: str) -> UserRecord:
    """The user with this name and password; ``Unauthorized`` (not saying which) otherwise."""
    wrong = Unauthorized(
        "that name and password do not match an account; check both, or sign up",
        code="invalid_credentials",
    )
    with sessions() as s:
        user = s.scalar(select(UserRecord).where(UserRecord.name == (name or "").strip()))
    if user is None or not user.password_hash:
        # Spend the same time as a real check so names cannot be probed by timing.
        _verify(_DUMMY_HASH, password or "")
        raise wrong
    if not _verify(user.password_hash, password or ""):
        raise wrong
    if _hasher.check_needs_rehash(user.password_hash):
        with sessions.begin() as s:
            row = s.get(UserRecord, user.id)
            if row is not None:
                row.password_hash = hash_password(password)
    return user


def has_accounts(sessions: sessionmaker) -> bool:
    """Whether anyone can sign in yet (if not, the first sign-up becomes the admin)."""
    with sessions() as s:
        query = select(func.count()).select_from(UserRecord)
        return bool(s.scalar(query.where(UserRecord.password_hash.is_not(None))))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password("not a real password, only for timing")
