"""The social graph: profiles (@handles), follows, comments and notifications.

Every function takes an open SQLAlchemy ``Session`` and leaves committing to the caller, so
other layers can make a notification part of their own transaction::

    with sessions.begin() as s:
        ...  # record that a character was used
        social.notify(s, owner_id, "character_used", actor_id=user.id, video_id=video.id,
                      character_id=char.id, character_name=char.name)

Notification kinds the studio renders: ``followed``, ``liked``, ``commented``, ``remixed``,
``character_used``, ``character_requested``, ``video_removed`` (see ``KINDS``); unknown kinds
are shown with their ``text`` data (or their kind). ``actor_id`` and ``video_id`` keyword
arguments are stored as columns (the row goes away with that user or video); the rest is JSON.
Kinds in ``DETACHED_KINDS`` (``video_removed``) keep the video's prompt and id in the data
instead of the column, so the notification outlives the video.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mutoscope.errors import Conflict, Forbidden, InvalidRequest, NotFound
from mutoscope.storage.records import UserRecord, VideoRecord, new_id, now
from mutoscope.studio.social_records import (
    CommentRecord,
    FollowRecord,
    NotificationRecord,
    ProfileRecord,
)

HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,29}$")
MAX_DISPLAY_NAME = 60
MAX_BIO = 280
MAX_COMMENT = 500
KINDS = {
    "followed": "started following you",
    "liked": "liked your video",
    "commented": "commented on your video",
    "remixed": "remixed your video",
    "character_used": "used your character",
    "character_requested": "asked to use your character",
    "video_removed": "removed a video of yours that used their character",
}
DETACHED_KINDS = frozenset({"video_removed"})
"""Kinds about a video that is going away: its prompt is kept in the data instead of a link
(a notification linked to a video is deleted with it)."""


# -- profiles ------------------------------------------------------------------------------


def check_handle(handle: str) -> str:
    handle = (handle or "").strip().lstrip("@")
    if not HANDLE.match(handle):
        raise InvalidRequest(
            "a handle is 2 to 30 letters, digits or '_', starting with a letter or digit "
            f"(got '@{handle}')",
            param="handle",
        )
    return handle


def handle_from_name(name: str) -> str:
    """The handle a user name becomes (user names are 2-40 of letters, digits, ``._-``)."""
    handle = re.sub(r"[^A-Za-z0-9_]", "_", name)[:30]
    return handle if HANDLE.match(handle) else f"u{handle}_"[:30]


def default_handle(s: Session, name: str) -> str:
    """A free handle made from a user name (``Ada.L`` -> ``Ada_L``, then ``Ada_L2``...)."""
    base = handle_from_name(name)
    for n in range(1, 1000):
        handle = base if n == 1 else f"{base[: 30 - len(str(n))]}{n}"
        free = select(ProfileRecord.user_id).where(ProfileRecord.handle_key == handle.lower())
        if s.scalar(free) is None:
            return handle
    return f"u{new_id('')[1:21]}"


def handles(s: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """Handles for display, without writing: a user with no profile yet shows the handle
    their name becomes (which ``user_by_handle`` finds)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = s.execute(
        select(UserRecord.id, UserRecord.name, ProfileRecord.handle)
        .outerjoin(ProfileRecord, ProfileRecord.user_id == UserRecord.id)
        .where(UserRecord.id.in_(ids))
    )
    return {uid: handle or handle_from_name(name) for uid, name, handle in rows}


def ensure_profiles(s: Session, user_ids: Iterable[str]) -> dict[str, ProfileRecord]:
    """Every given user's profile, creating missing ones (handle from the user name).

    Users made before this layer (or by the CLI and API keys) get their profile the first
    time someone looks. Flushes, so the caller's transaction must commit.
    """
    ids = set(user_ids)
    if not ids:
        return {}
    rows = {
        p.user_id: p for p in s.scalars(select(ProfileRecord).where(ProfileRecord.user_id.in_(ids)))
    }
    missing = ids - rows.keys()
    if missing:
        for user in s.scalars(select(UserRecord).where(UserRecord.id.in_(missing))):
            handle = default_handle(s, user.name)
            try:
                with s.begin_nested():
                    profile = ProfileRecord(
                        user_id=user.id,
                        handle=handle,
                        handle_key=handle.lower(),
                        bio="",
                        updated_at=now(),
                    )
                    s.add(profile)
            except IntegrityError:  # made at the same moment by another request
                found = s.get(ProfileRecord, user.id)
                if found is None:
                    raise
                profile = found
            rows[user.id] = profile
    return rows


def user_by_handle(s: Session, handle: str) -> UserRecord | None:
    """The user whose handle this is (any case, ``@`` optional); for ``@mentions`` too."""
    key = (handle or "").strip().lstrip("@").lower()
    _claim_name_handles(s, key)
    user_id = s.scalar(select(ProfileRecord.user_id).where(ProfileRecord.handle_key == key))
    return s.get(UserRecord, user_id) if user_id is not None else None


def _claim_name_handles(s: Session, key: str) -> None:
    """Make the profile of a user who has none yet and whose name becomes handle ``key``:
    until then their name is their handle, so nobody else may take it."""
    as_handle = func.lower(func.replace(func.replace(UserRecord.name, ".", "_"), "-", "_"))
    waiting = s.scalars(
        select(UserRecord.id)
        .outerjoin(ProfileRecord, ProfileRecord.user_id == UserRecord.id)
        .where(ProfileRecord.user_id.is_(None), func.substr(as_handle, 1, 30) == key)
    ).all()
    ensure_profiles(s, waiting)


def update_profile(
    s: Session, user_id: str, *, handle: str, display_name: str, bio: str
) -> ProfileRecord:
    """Change handle, display name and bio (``Conflict`` when the handle is someone else's)."""
    handle = check_handle(handle)
    display_name = " ".join((display_name or "").split())
    if len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidRequest(
            f"the display name is at most {MAX_DISPLAY_NAME} characters (got {len(display_name)})",
            param="display_name",
        )
    bio = (bio or "").strip().replace("\r\n", "\n")
    if len(bio) > MAX_BIO:
        raise InvalidRequest(
            f"the bio is at most {MAX_BIO} characters (got {len(bio)})", param="bio"
        )
    profile = ensure_profiles(s, [user_id])[user_id]
    _claim_name_handles(s, handle.lower())
    taken = s.scalar(
        select(ProfileRecord.user_id).where(
            ProfileRecord.handle_key == handle.lower(), ProfileRecord.user_id != user_id
        )
    )
    if taken is not None:
        raise Conflict(
            f"@{handle} is taken; choose another handle", param="handle", code="handle_taken"
        )
    profile.handle, profile.handle_key, profile.bio = handle, handle.lower(), bio
    profile.updated_at = now()
    user = s.get(UserRecord, user_id)
    if user is not None:
        user.display_name = display_name or None
    try:
        s.flush()
    except IntegrityError as exc:  # taken at the same moment
        raise Conflict(
            f"@{handle} is taken; choose another handle", param="handle", code="handle_taken"
        ) from exc
    return profile


def set_avatar(s: Session, user_id: str, png: bytes | None) -> None:
    profile = ensure_profiles(s, [user_id])[user_id]
    profile.avatar = png
    profile.updated_at = now()


# -- follows -------------------------------------------------------------------------------


def follow(s: Session, follower_id: str, followee_id: str) -> bool:
    """Follow someone (notifies them the first time); ``False`` if already following."""
    if follower_id == followee_id:
        raise InvalidRequest("you cannot follow yourself", param="handle")
    if is_following(s, follower_id, followee_id):
        return False
    try:
        with s.begin_nested():
            s.add(FollowRecord(follower_id=follower_id, followee_id=followee_id, created_at=now()))
    except IntegrityError:
        return False  # a concurrent click already followed
    notify(s, followee_id, "followed", actor_id=follower_id, dedupe=True)
    return True


def unfollow(s: Session, follower_id: str, followee_id: str) -> bool:
    removed = s.execute(
        delete(FollowRecord).where(
            FollowRecord.follower_id == follower_id, FollowRecord.followee_id == followee_id
        )
    )
    return bool(removed.rowcount)  # type: ignore[attr-defined]


def is_following(s: Session, follower_id: str, followee_id: str) -> bool:
    return (
        s.scalar(
            select(FollowRecord.created_at).where(
                FollowRecord.follower_id == follower_id, FollowRecord.followee_id == followee_id
            )
        )
        is not None
    )


def is_mutual_follow(s: Session, a_id: str, b_id: str) -> bool:
    """Whether ``a`` and ``b`` follow each other (the "mutual follows" consent tier).

    A user is not their own mutual follow: callers check ownership separately."""
    if a_id == b_id:
        return False
    pairs = s.scalar(
        select(func.count()).where(
            ((FollowRecord.follower_id == a_id) & (FollowRecord.followee_id == b_id))
            | ((FollowRecord.follower_id == b_id) & (FollowRecord.followee_id == a_id))
        )
    )
    return pairs == 2


@dataclass(frozen=True)
class FollowCounts:
    followers: int
    following: int


def follow_counts(s: Session, user_id: str) -> FollowCounts:
    followers = s.scalar(select(func.count()).where(FollowRecord.followee_id == user_id))
    following = s.scalar(select(func.count()).where(FollowRecord.follower_id == user_id))
    return FollowCounts(followers or 0, following or 0)


def published_count(s: Session, user_id: str) -> int:
    query = select(func.count()).where(
        VideoRecord.owner_id == user_id, VideoRecord.published_at.is_not(None)
    )
    return s.scalar(query) or 0


# -- comments ------------------------------------------------------------------------------


def add_comment(s: Session, author_id: str, video: VideoRecord, body: str) -> CommentRecord:
    """Comment on a video the author may see (the caller checks that); notifies its owner."""
    body = (body or "").strip().replace("\r\n", "\n")
    if not body:
        raise InvalidRequest("write something before posting a comment", param="body")
    if len(body) > MAX_COMMENT:
        raise InvalidRequest(
            f"a comment is at most {MAX_COMMENT} characters (got {len(body)})", param="body"
        )
    comment = CommentRecord(
        id=new_id("comment"), video_id=video.id, author_id=author_id, body=body, created_at=now()
    )
    s.add(comment)
    s.flush()
    notify(
        s,
        video.owner_id,
        "commented",
        actor_id=author_id,
        video_id=video.id,
        comment_id=comment.id,
        excerpt=body[:120],
    )
    return comment


def delete_comment(s: Session, user_id: str, comment_id: str) -> CommentRecord:
    """Authors delete their own comments; a video's owner deletes any comment on it."""
    comment = s.get(CommentRecord, comment_id)
    if comment is None:
        raise NotFound(f"no comment '{comment_id}'", param="comment_id")
    owner = s.scalar(select(VideoRecord.owner_id).where(VideoRecord.id == comment.video_id))
    if user_id not in (comment.author_id, owner):
        raise Forbidden(
            "only the comment's author or the video's owner can delete this comment",
            param="comment_id",
        )
    s.delete(comment)
    return comment


@dataclass(frozen=True)
class Comment:
    id: str
    video_id: str
    author_id: str
    handle: str
    display_name: str | None
    body: str
    created_at: int


def comments(s: Session, video_id: str, *, limit: int = 200) -> list[Comment]:
    """A video's comments, oldest first."""
    rows = s.execute(
        select(CommentRecord, UserRecord.display_name)
        .join(UserRecord, UserRecord.id == CommentRecord.author_id)
        .where(CommentRecord.video_id == video_id)
        .order_by(CommentRecord.id)
        .limit(limit)
    ).all()
    profiles = ensure_profiles(s, {c.author_id for c, _ in rows})
    return [
        Comment(
            c.id, c.video_id, c.author_id, profiles[c.author_id].handle, name, c.body, c.created_at
        )
        for c, name in rows
    ]


def video_published(s: Session, video: VideoRecord) -> None:
    """Tell the parent's owner when a remix of their video is published (not before: a
    draft is private to its maker)."""
    if video.remixed_from_video_id is None:
        return
    parent_owner = s.scalar(
        select(VideoRecord.owner_id).where(VideoRecord.id == video.remixed_from_video_id)
    )
    if parent_owner is not None:
        notify(
            s,
            parent_owner,
            "remixed",
            actor_id=video.owner_id,
            video_id=video.id,
            parent_id=video.remixed_from_video_id,
            dedupe=True,
        )


# -- notifications -------------------------------------------------------------------------


def notify(
    s: Session, user_id: str, kind: str, *, dedupe: bool = False, **data: Any
) -> NotificationRecord | None:
    """Tell ``user_id`` that ``kind`` happened (``None`` when it is their own doing).

    ``dedupe`` skips it while an unread one of the same kind, actor and video exists (so
    like/unlike/like does not notify three times).
    """
    actor_id, video_id = data.pop("actor_id", None), data.pop("video_id", None)
    if actor_id is not None and actor_id == user_id:
        return None
    if kind in DETACHED_KINDS and video_id is not None:
        # The video may be deleted right after: keep what the reader needs, not a link.
        prompt = s.scalar(select(VideoRecord.prompt).where(VideoRecord.id == video_id))
        data = {"removed_video_id": video_id, "prompt": prompt or "", **data}
        video_id = None
    if dedupe:
        same = s.scalar(
            select(NotificationRecord.id).where(
                NotificationRecord.user_id == user_id,
                NotificationRecord.kind == kind,
                NotificationRecord.actor_id.is_(None)
                if actor_id is None
                else NotificationRecord.actor_id == actor_id,
                NotificationRecord.video_id.is_(None)
                if video_id is None
                else NotificationRecord.video_id == video_id,
                NotificationRecord.read_at.is_(None),
            )
        )
        if same is not None:
            return None
    row = NotificationRecord(
        id=new_id("note"),
        user_id=user_id,
        kind=kind,
        actor_id=actor_id,
        video_id=video_id,
        data=data,
        created_at=now(),
    )
    s.add(row)
    return row


def unread_count(s: Session, user_id: str) -> int:
    return (
        s.scalar(
            select(func.count()).where(
                NotificationRecord.user_id == user_id, NotificationRecord.read_at.is_(None)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Notification:
    id: str
    kind: str
    text: str
    actor_handle: str | None
    video_id: str | None
    data: dict[str, Any]
    created_at: int
    unread: bool


def notifications(
    s: Session, user_id: str, *, before: str | None = None, limit: int = 30
) -> tuple[list[Notification], str | None]:
    """Newest first, ``limit`` at a time; returns the page and the cursor for the next one."""
    query = select(NotificationRecord).where(NotificationRecord.user_id == user_id)
    if before:
        query = query.where(NotificationRecord.id < before)
    rows = list(s.scalars(query.order_by(NotificationRecord.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    actors = ensure_profiles(s, {r.actor_id for r in rows if r.actor_id})
    page = [
        Notification(
            id=r.id,
            kind=r.kind,
            text=str(KINDS.get(r.kind) or r.data.get("text") or r.kind.replace("_", " ")),
            actor_handle=actors[r.actor_id].handle if r.actor_id in actors else None,
            video_id=r.video_id,
            data=dict(r.data or {}),
            created_at=r.created_at,
            unread=r.read_at is None,
        )
        for r in rows
    ]
    return page, (rows[-1].id if more else None)


def mark_read(s: Session, user_id: str) -> int:
    result = s.execute(
        update(NotificationRecord)
        .where(NotificationRecord.user_id == user_id, NotificationRecord.read_at.is_(None))
        .values(read_at=now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
