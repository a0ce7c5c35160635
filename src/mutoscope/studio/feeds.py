"""The For You and Following feeds: a documented score and stable cursors.

**For You** orders every published, completed video by

    score = (1 + W_LIKE·likes + W_REMIX·remixes + W_FOLLOW·followed + W_CHARACTER·characters)
            / (age_hours + 2) ** 2

where ``likes`` and ``remixes`` (published remixes) are counted as of the moment the feed was
opened, ``followed`` is 1 when the viewer follows the video's creator, ``characters`` is what
the character term says (how many characters in the video the viewer may use; 0 until a
``ScoreTerm`` is plugged in) and ``age_hours`` is the time since publication at that moment.
Engagement lifts a video and age pulls it down (the gravity of 2 halves a video's score
between its 1st and 3rd hour and again by about its 6th); the +2 keeps brand-new videos from
dividing by zero. Only ``+``, ``*`` and ``/`` are used, so SQLite and PostgreSQL compute the
same numbers in SQL.

**Following** lists the published videos of the people the viewer follows, newest first.

**Cursors** are opaque strings that pin the moment the feed was opened (``as_of``) and the
last item's sort key. Every count is taken as of that moment (likes and follows made later,
videos published later, are left out), so the order does not shift under a reader who pages
on: no item repeats and none is skipped while the next page loads. Reloading the first page
starts a fresh moment.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import InvalidRequest
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, now
from mutoscope.studio.gallery import Card, Gallery
from mutoscope.studio.records import LikeRecord
from mutoscope.studio.social_records import FollowRecord

W_LIKE, W_REMIX, W_FOLLOW, W_CHARACTER = 1.0, 3.0, 4.0, 2.0
GRAVITY_OFFSET_HOURS = 2.0
OFFSET_SECONDS: ColumnElement[float] = literal_column(str(float(GRAVITY_OFFSET_HOURS * 3600)))
PER_PAGE = 24

ScoreTerm = Callable[[str | None, int], ColumnElement[float] | None]
"""``(viewer_id, as_of) -> SQL expression per video`` (correlated on ``VideoRecord.id``),
e.g. how many of the video's characters the viewer may use. ``None``: no term."""


@dataclass(frozen=True)
class Page:
    cards: list[Card]
    next_cursor: str | None


@dataclass(frozen=True)
class Cursor:
    as_of: int
    key: float | int
    """The last item's score (For You) or ``published_at`` (Following)."""
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.as_of, self.key, self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            as_of, key, last_id = json.loads(raw)
            if not (isinstance(as_of, int) and isinstance(key, int | float)):
                raise ValueError(key)
            return cls(as_of, key, str(last_id))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidRequest(
                "the cursor is not one this server gave out; start again without it",
                param="cursor",
                code="invalid_cursor",
            ) from exc


def score_expression(
    viewer_id: str | None, as_of: int, character: ScoreTerm | None = None
) -> ColumnElement[float]:
    """The For You score of each ``VideoRecord`` row, as of ``as_of`` (see the module doc)."""
    likes = (
        select(func.count())
        .where(LikeRecord.video_id == VideoRecord.id, LikeRecord.created_at <= as_of)
        .correlate(VideoRecord)
        .scalar_subquery()
    )
    child = VideoRecord.__table__.alias("child")
    remixes = (
        select(func.count())
        .where(
            child.c.remixed_from_video_id == VideoRecord.id,
            child.c.published_at <= as_of,
        )
        .correlate(VideoRecord)
        .scalar_subquery()
    )
    engagement: ColumnElement[float] = literal_column("1.0") + W_LIKE * likes + W_REMIX * remixes
    if viewer_id is not None:
        # An IN list is built once per query; a correlated lookup would run per video.
        followees = select(FollowRecord.followee_id).where(
            FollowRecord.follower_id == viewer_id, FollowRecord.created_at <= as_of
        )
        followed = case((VideoRecord.owner_id.in_(followees), 1), else_=0)
        engagement = engagement + W_FOLLOW * followed
    term = character(viewer_id, as_of) if character is not None else None
    if term is not None:
        engagement = engagement + W_CHARACTER * term
    # E / (hours + 2)^2 written as E * 3600^2 / (seconds + 7200)^2: the same number with
    # fewer operations per video.
    seconds: ColumnElement[float] = (
        literal_column(str(int(as_of))) - VideoRecord.published_at + OFFSET_SECONDS
    )
    return type_coerce(engagement * float(3600**2) / (seconds * seconds), Float)


def score(likes: int, remixes: int, followed: bool, age_hours: float, characters: int = 0) -> float:
    """The same score in Python (for tests and docs)."""
    engagement = 1 + W_LIKE * likes + W_REMIX * remixes + W_FOLLOW * followed
    engagement += W_CHARACTER * characters
    return engagement / (age_hours + GRAVITY_OFFSET_HOURS) ** 2


class Feeds:
    """For You and Following, built on the gallery's cards (likes, remixes, owners)."""

    def __init__(self, sessions: sessionmaker, *, character: ScoreTerm | None = None):
        self.sessions = sessions
        self.character = character

    def for_you(
        self, viewer: UserRecord | None, cursor: str | None = None, *, limit: int = PER_PAGE
    ) -> Page:
        at = Cursor.decode(cursor) if cursor else None
        as_of = at.as_of if at else now()
        viewer_id = viewer.id if viewer else None
        ranked = score_expression(viewer_id, as_of, self.character).label("score")
        inner = select(VideoRecord.id, ranked).where(
            VideoRecord.published_at.is_not(None),
            VideoRecord.published_at <= as_of,
            VideoRecord.status == COMPLETED,
        )
        if at is None:
            query = inner.order_by(ranked.desc(), VideoRecord.id.desc())
        else:
            # Materialised: the score is computed once per video, not again in WHERE.
            scored = inner.cte("scored").prefix_with("MATERIALIZED")
            query = select(scored.c.id, scored.c.score).where(
                or_(
                    scored.c.score < at.key,
                    and_(scored.c.score == at.key, scored.c.id < at.id),
                )
            )
            query = query.order_by(scored.c.score.desc(), scored.c.id.desc())
        with self.sessions() as s:
            rows = s.execute(query.limit(limit + 1)).all()
        keys = {vid: float(sc) for vid, sc in rows[:limit]}
        last = rows[limit - 1] if len(rows) > limit else None
        following = (
            Cursor(as_of, float(last[1]), str(last[0])).encode() if last is not None else None
        )
        return Page(self._cards(viewer, list(keys)), following)

    def following(
        self, viewer: UserRecord, cursor: str | None = None, *, limit: int = PER_PAGE
    ) -> Page:
        """Published videos of the people ``viewer`` follows, newest first."""
        at = Cursor.decode(cursor) if cursor else None
        as_of = at.as_of if at else now()
        followees = select(FollowRecord.followee_id).where(
            FollowRecord.follower_id == viewer.id, FollowRecord.created_at <= as_of
        )
        return self._newest(viewer, VideoRecord.owner_id.in_(followees), at, as_of, limit)

    def by_owner(
        self,
        viewer: UserRecord | None,
        owner_id: str,
        cursor: str | None = None,
        *,
        limit: int = PER_PAGE,
    ) -> Page:
        """One user's published videos, newest first (their profile)."""
        at = Cursor.decode(cursor) if cursor else None
        as_of = at.as_of if at else now()
        return self._newest(viewer, VideoRecord.owner_id == owner_id, at, as_of, limit)

    def _newest(
        self,
        viewer: UserRecord | None,
        owners: ColumnElement[bool],
        at: Cursor | None,
        as_of: int,
        limit: int,
    ) -> Page:
        query = select(VideoRecord.id, VideoRecord.published_at).where(
            owners,
            VideoRecord.published_at.is_not(None),
            VideoRecord.published_at <= as_of,
            VideoRecord.status == COMPLETED,
        )
        if at is not None:
            query = query.where(
                or_(
                    VideoRecord.published_at < at.key,
                    and_(VideoRecord.published_at == at.key, VideoRecord.id < at.id),
                )
            )
        query = query.order_by(VideoRecord.published_at.desc(), VideoRecord.id.desc())
        with self.sessions() as s:
            rows = s.execute(query.limit(limit + 1)).all()
        last = rows[limit - 1] if len(rows) > limit else None
        following = Cursor(as_of, int(last[1]), str(last[0])).encode() if last else None
        return Page(self._cards(viewer, [str(r[0]) for r in rows[:limit]]), following)

    def _cards(self, viewer: UserRecord | None, ids: list[str]) -> list[Card]:
        if not ids:
            return []
        with self.sessions() as s:
            rows = s.execute(
                select(VideoRecord, UserRecord.name)
                .join(UserRecord, UserRecord.id == VideoRecord.owner_id)
                .where(VideoRecord.id.in_(ids))
            ).all()
            by_id = {v.id: (v, name) for v, name in rows}
            ordered: list[tuple[VideoRecord, str, int | None]] = [
                (by_id[i][0], by_id[i][1], None) for i in ids if i in by_id
            ]
            return Gallery._cards(s, viewer, ordered)
