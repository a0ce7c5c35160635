"""The social graph as characters need it: mutual follows, @handles and notifications.

``mutoscope.studio.social`` owns follows, handles and notifications; it is looked up when
called, so characters work (with no follows and no notifications) in a build without it.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutoscope.storage.records import UserRecord

log = logging.getLogger(__name__)


def _social() -> ModuleType | None:
    try:
        return importlib.import_module("mutoscope.studio.social")
    except ImportError:
        return None


def is_mutual_follow(s: Session, a_id: str, b_id: str) -> bool:
    social = _social()
    if social is None or not hasattr(social, "is_mutual_follow"):
        return False
    return bool(social.is_mutual_follow(s, a_id, b_id))


def user_by_handle(s: Session, handle: str) -> UserRecord | None:
    """The user an ``@handle`` names (their user name where handles are not installed)."""
    social = _social()
    if social is not None and hasattr(social, "user_by_handle"):
        found: UserRecord | None = social.user_by_handle(s, handle)
        return found
    key = handle.strip().lstrip("@").lower()
    return s.scalar(select(UserRecord).where(func.lower(UserRecord.name) == key))


def handle_of(s: Session, user_id: str) -> str | None:
    """The ``@handle`` (without ``@``) ``user_id`` is shown with, without writing anything;
    ``None`` for an unknown user."""
    social = _social()
    if social is not None and hasattr(social, "handles"):
        found: dict[str, str] = social.handles(s, [user_id])
        return found.get(user_id)
    user = s.get(UserRecord, user_id)
    return user.name if user is not None else None


def own_handle(s: Session, user_id: str) -> str | None:
    """The ``@handle`` ``user_id`` holds, creating their profile (and so claiming a free
    handle) when they have none yet: a label stored for good must name a handle that is
    theirs, never one their user name would become but another user already holds.
    Flushes, so the caller's transaction must commit."""
    social = _social()
    if social is not None and hasattr(social, "ensure_profiles"):
        profile = social.ensure_profiles(s, [user_id]).get(user_id)
        return str(profile.handle) if profile is not None else None
    return handle_of(s, user_id)


def notify(s: Session, user_id: str, kind: str, **data: Any) -> None:
    """Tell ``user_id`` about ``kind`` (a notification never stops the action it reports)."""
    social = _social()
    if social is None or not hasattr(social, "notify"):
        return
    try:
        with s.begin_nested():
            social.notify(s, user_id, kind, **data)
    except Exception:
        log.exception("could not notify %s of %s", user_id, kind)
