"""Dependency aliases for route handlers: ``ServicesDep``, ``CurrentUser``, ``AdminUser``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mutoscope.errors import Forbidden, Unauthorized
from mutoscope.services import Services
from mutoscope.storage.records import UserRecord
from mutoscope.users import LOCAL_USER, UserService
from mutoscope.videos import VideoService


async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_users(request: Request) -> UserService:
    return request.app.state.users


async def get_videos(request: Request) -> VideoService:
    return request.app.state.videos


ServicesDep = Annotated[Services, Depends(get_services)]
UsersDep = Annotated[UserService, Depends(get_users)]
VideosDep = Annotated[VideoService, Depends(get_videos)]


async def current_user(request: Request, users: UsersDep) -> UserRecord:
    """The user behind a Bearer key, a studio session, or the keyless local user.

    Keyless mode applies only while the server allows it (loopback ``serve``) and no API key
    exists yet; once any key exists every request must carry a valid one.
    """
    keyless = request.app.state.keyless and not users.any_key()
    auth = request.headers.get("authorization", "")
    # While no key exists no token can be valid, so a keyless loopback server reads a
    # placeholder token (the SDK insists on one: ``api_key="mts_..."``) as no key at all.
    if auth[:7].lower() == "bearer " and not keyless:
        return users.authenticate(auth[7:].strip())
    session_user = getattr(request.state, "session_user", None)
    if session_user is not None:
        return session_user
    if keyless:
        return keyless_user(request)
    raise Unauthorized(
        "You didn't provide an API key. Send 'Authorization: Bearer <key>'; create a key with "
        "`mutoscope keys create`."
    )


def keyless_user(request: Request) -> UserRecord:
    """The keyless loopback caller: the install's only account once one exists (single-user
    mode: the SDK's videos show in that account's studio), else the local user. Either way
    as a creator, never an admin: whoever reaches the port is trusted to make videos only."""
    from mutoscope.studio.accounts import single_user_owner

    state = request.app.state
    sole = single_user_owner(state.services.sessions)
    if sole is None:
        return state.local_user
    return UserRecord(
        id=sole.id,
        name=sole.name,
        display_name=sole.display_name,
        password_hash=None,
        is_admin=False,
        created_at=sole.created_at,
    )


async def optional_user(request: Request) -> UserRecord | None:
    """The caller if they identify themselves; ``None`` for anonymous callers (and in apps
    built without accounts)."""
    users = getattr(request.app.state, "users", None)
    if users is None:
        return None
    try:
        return await current_user(request, users)
    except Unauthorized:
        return None


async def admin_user(user: Annotated[UserRecord, Depends(current_user)]) -> UserRecord:
    if not user.is_admin:
        raise Forbidden("this needs an admin account (`mutoscope users create --admin`)")
    return user


CurrentUser = Annotated[UserRecord, Depends(current_user)]
OptionalUser = Annotated[UserRecord | None, Depends(optional_user)]
AdminUser = Annotated[UserRecord, Depends(admin_user)]

__all__ = [
    "LOCAL_USER",
    "AdminUser",
    "CurrentUser",
    "OptionalUser",
    "ServicesDep",
    "UsersDep",
    "VideosDep",
]
