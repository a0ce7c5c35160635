"""Studio accounts: names and argon2id password hashes on the core ``users`` table."""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.errors import Conflict, InvalidRequest, Unauthorized
from mutoscope.storage.records import ApiKeyRecord, UserRecord, VideoRecord, new_id, now
from mutoscope.trust.records import TrustStateRecord
from mutoscope.users import LOCAL_USER

FIRST_ADMIN = "first_admin"

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
    first_admin: bool = False,
    local_keys_ok: bool = False,
) -> UserRecord:
    """Create a user who can sign in to the studio.

    ``claim_existing`` (the CLI's behaviour) sets a password on a user that exists without
    one, such as the owner of API keys made with ``mutoscope keys create --user``; the
    sign-up page passes ``False`` so nobody can take over such a user from the browser.

    ``first_admin`` (the sign-up page) makes the account an admin only on a fresh install
    (no admin, no API key and no account yet), decided in the same transaction that creates
    it by claiming the install's single ``first_admin`` row: of any number of concurrent
    first sign-ups exactly one becomes the admin. ``local_keys_ok`` (a keyless loopback
    server, where whoever reaches the port is the local user) lets keys of the local user
    (`mutoscope keys create` without ``--user``) leave the install fresh.
    """
    name, password_hash = check_name(name), hash_password(check_password(password))
    try:
        return _create(
            sessions, name, password_hash, is_admin, claim_existing, first_admin, local_keys_ok
        )
    except IntegrityError:
        pass  # another sign-up won the admin row or took the name at the same moment
    try:
        return _create(sessions, name, password_hash, is_admin, claim_existing, False, False)
    except IntegrityError as exc:
        raise Conflict(
            f"the name '{name}' is taken; choose another one", param="name", code="name_taken"
        ) from exc


def _create(
    sessions: sessionmaker,
    name: str,
    password_hash: str,
    is_admin: bool,
    claim_existing: bool,
    first_admin: bool,
    local_keys_ok: bool,
) -> UserRecord:
    with sessions.begin() as s:
        user = s.scalar(select(UserRecord).where(UserRecord.name == name))
        if user is not None and (user.password_hash or not claim_existing):
            raise Conflict(
                f"the name '{name}' is taken; choose another one", param="name", code="name_taken"
            )
        fresh = first_admin and _fresh_install(s, local_keys_ok)
        if user is None:
            user = UserRecord(id=new_id("user"), name=name, is_admin=False, created_at=now())
            s.add(user)
        user.password_hash = password_hash
        user.is_admin = user.is_admin or is_admin or fresh
        # The primary key makes this insert the decision: a concurrent first sign-up that
        # also saw a fresh install fails here and retries as a creator.
        if fresh or (user.is_admin and s.get(TrustStateRecord, FIRST_ADMIN) is None):
            s.add(TrustStateRecord(name=FIRST_ADMIN, value=user.id, created_at=now()))
            # The install's first account (a fresh install, or the operator's CLI admin) is
            # the local user's own: it takes their work, characters included.
            _adopt_local_videos(s, user)
            _adopt_characters(s, user)
        s.flush()
        return user


def _local(s: Session, user: UserRecord) -> UserRecord | None:
    local = s.scalar(select(UserRecord).where(UserRecord.name == LOCAL_USER))
    return local if local is not None and local.id != user.id else None


def _adopt_local_videos(s: Session, user: UserRecord) -> None:
    """Move the local user's videos (``mutoscope generate``, the quickstart, keyless calls
    on loopback) to ``user``, the same person, who would otherwise find the studio empty."""
    local = _local(s, user)
    if local is not None:
        s.execute(
            update(VideoRecord).where(VideoRecord.owner_id == local.id).values(owner_id=user.id)
        )


def _adopt_characters(s: Session, user: UserRecord) -> None:
    """Move the local user's characters, with their rights entities (the likeness), to
    ``user``. Only the sign-up known to be the local user's calls this: the install's
    first account, claimed in the same transaction. Never ``single_user_owner``: on a
    server used through API keys the only account with a password may be a stranger.
    Permissions other people gave the local user (consents, approved access) stay with
    the local user: they were given to whoever held the port, not to this account, which
    asks again."""
    local = _local(s, user)
    if local is None:
        return
    try:
        from mutoscope.characters.service import adopt_characters
    except ImportError:
        return  # a build without characters
    adopt_characters(s, local.id, user)


def sole_account(sessions: sessionmaker) -> UserRecord | None:
    """The only account that can sign in, if there is exactly one (single-user mode)."""
    with sessions() as s:
        rows = s.scalars(
            select(UserRecord).where(UserRecord.password_hash.is_not(None)).limit(2)
        ).all()
    return rows[0] if len(rows) == 1 else None


def single_user_owner(sessions: sessionmaker) -> UserRecord | None:
    """Whom keyless work belongs to in single-user mode: the only account, when it is the
    install's first (the one that took the local user's work, so known to be theirs), else
    ``None``.

    ``mutoscope generate``, the quickstart and keyless API calls on loopback are the same
    person as that account, so their videos are its videos (the studio, ``videos.list()``
    and the rights log agree). Videos the local user made before (the first sign-up adopts
    those; older installs made more after it) move to it here; never characters,
    likenesses or consents (see ``_adopt_characters``). An only account that is not the
    first (a stranger who signed up on a server used through API keys) gets nothing, and
    with several accounts keyless work stays the local user's."""
    sole = sole_account(sessions)
    if sole is None:
        return None
    with sessions() as s:
        first = s.get(TrustStateRecord, FIRST_ADMIN)
        if first is None or first.value != sole.id:
            return None
    if _local_has_videos(sessions):  # a read first: writes are rare
        with sessions.begin() as s:
            _adopt_local_videos(s, sole)
    return sole


def _local_has_videos(sessions: sessionmaker) -> bool:
    """Whether the local user still owns videos (something to adopt)."""
    with sessions() as s:
        local = select(UserRecord.id).where(UserRecord.name == LOCAL_USER).scalar_subquery()
        found = s.scalar(select(VideoRecord.id).where(VideoRecord.owner_id == local).limit(1))
    return found is not None


def _fresh_install(s: Session, local_keys_ok: bool = False) -> bool:
    """Nobody administers or uses this server yet (then the first sign-up is the admin).

    A server used through API keys is not fresh: its first web visitor must not become
    its admin by accident."""
    if s.get(TrustStateRecord, FIRST_ADMIN) is not None:
        return False
    admins = select(func.count()).select_from(UserRecord).where(UserRecord.is_admin.is_(True))
    accounts = select(func.count()).select_from(UserRecord)
    keys = select(func.count()).select_from(ApiKeyRecord)
    if local_keys_ok:
        local = select(UserRecord.id).where(UserRecord.name == LOCAL_USER)
        keys = keys.where(ApiKeyRecord.user_id.not_in(local.scalar_subquery()))
    return not (
        s.scalar(admins)
        or s.scalar(accounts.where(UserRecord.password_hash.is_not(None)))
        or s.scalar(keys)
    )


def would_be_first_admin(sessions: sessionmaker, *, local_keys_ok: bool = False) -> bool:
    """Whether a sign-up now would make the install's admin (for the sign-up page)."""
    with sessions() as s:
        return _fresh_install(s, local_keys_ok)


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
        _verify(_dummy_hash(), password or "")
        raise wrong
    if not _verify(user.password_hash, password or ""):
        raise wrong
    if _hasher.check_needs_rehash(user.password_hash):
        with sessions.begin() as s:
            row = s.get(UserRecord, user.id)
            if row is not None:
                row.password_hash = hash_password(password)
    return user


def change_password(sessions: sessionmaker, user_id: str, current: str, new: str) -> None:
    """Set a new password after checking the current one (``Unauthorized`` if wrong)."""
    new_hash = hash_password(check_password(new))
    with sessions() as s:
        user = s.get(UserRecord, user_id)
    if user is None or not user.password_hash or not _verify(user.password_hash, current or ""):
        raise Unauthorized("the current password is not right", code="invalid_credentials")
    with sessions.begin() as s:
        row = s.get(UserRecord, user_id)
        if row is not None:
            row.password_hash = new_hash


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


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import: an argon2 hash costs ~0.1 s, and every CLI command
    # that looks up the sole account imports this module.
    return hash_password("not a real password, only for timing")
