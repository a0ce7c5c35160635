"""The For You and Following feeds: a documented score and stable cursors.

**For You** orders every published, completed video by

    score = (1 + W_LIKE·likes + W_REMIX·remixes + W_FOLLOW·followed + W_CHARACTER·characters)
            / (age_hours + 2) ** 2

where ``likes`` and ``remixes`` (published remixes) are counted as of the feed's moment,
``followed`` is 1 when the viewer follows the video's creator, ``characters`` is what the
character term says (how many characters in the video the viewer may use; none until a
``CharacterTerm`` is plugged in) and ``age_hours`` is the time since publication at that
moment. Engagement lifts a video and age pulls it down (with the gravity of 2 a new video's
score halves within its first hour and quarters by its second; a day-old video needs about 150
times the engagement to rank level with a new one); the +2 keeps brand-new videos from
dividing by zero.

The moment is the current time rounded down to ``REFRESH_SECONDS`` (10 s), so everyone
opening the feed in the same 10 seconds shares one **snapshot**: the likes, remixes and the score
without the viewer's terms, for every published video, counted once and kept in memory. A
viewer's own terms (follows, characters) touch only the videos of the people they follow and
the videos with their characters, so each request re-scores those few and merges them into
the shared order. A new moment's snapshot is built in the background while readers keep the
previous one, so a video published just now reaches For You within about 10 to 20 seconds
(Newest, Following and profiles show it at once).

**Following** lists the published videos of the people the viewer follows, newest first.

**Cursors** are opaque strings that pin the feed's moment (``as_of``) and the last item's sort
key. Every count is taken as of that moment (likes and follows made later, videos published
later, are left out), so the order does not shift under a reader who pages on: no item repeats
and none is skipped while the next page loads. Reloading the first page starts a fresh moment.
Any process can continue any cursor: it rebuilds the snapshot for that moment if it has none.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import InvalidRequest
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, now
from mutoscope.studio.gallery import Card, Gallery
from mutoscope.studio.records import LikeRecord
from mutoscope.studio.social_records import FollowRecord

log = logging.getLogger(__name__)
W_LIKE, W_REMIX, W_FOLLOW, W_CHARACTER = 1.0, 3.0, 4.0, 2.0
GRAVITY_OFFSET_HOURS = 2.0
REFRESH_SECONDS = 10
SNAPSHOTS_KEPT = 4
CURSOR_TTL = 6 * 3600
PER_PAGE = 24

CharacterTerm = Callable[[str | None, int], dict[str, int]]
"""``(viewer_id, as_of) -> {video_id: count}``: for each video with characters the viewer may
use (as of that moment), how many. Videos left out count 0."""


@dataclass(frozen=True)
class Page:
    cards: list[Card]
    next_cursor: str | None
    as_of: int = 0


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


def score(likes: int, remixes: int, followed: bool, age_hours: float, characters: int = 0) -> float:
    """The For You score (see the module doc)."""
    engagement = 1 + W_LIKE * likes + W_REMIX * remixes + W_FOLLOW * followed
    engagement += W_CHARACTER * characters
    return engagement / (age_hours + GRAVITY_OFFSET_HOURS) ** 2


@dataclass
class Snapshot:
    """Every published video as of ``as_of``: its counts and its score without viewer terms."""

    as_of: int
    order: list[tuple[float, str]]
    """(score, id), best first; ties broken by the larger id (the newer video)."""
    counts: dict[str, tuple[int, int, int]]
    """id -> (likes, remixes, published_at)."""
    by_owner: dict[str, list[str]] = field(default_factory=dict)

    def score(self, video_id: str, followed: bool, characters: int) -> float:
        likes, remixes, published = self.counts[video_id]
        age = (self.as_of - published) / 3600
        return score(likes, remixes, followed, age, characters)


def build_snapshot(sessions: sessionmaker, as_of: int) -> Snapshot:
    """Count likes and published remixes per video as of ``as_of`` (three grouped queries)."""
    visible = (
        VideoRecord.published_at.is_not(None),
        VideoRecord.published_at <= as_of,
        VideoRecord.status == COMPLETED,
    )
    with sessions() as s:
        videos = s.execute(
            select(VideoRecord.id, VideoRecord.owner_id, VideoRecord.published_at).where(*visible)
        ).all()
        likes = dict(
            s.execute(
                select(LikeRecord.video_id, func.count())
                .where(LikeRecord.created_at <= as_of)
                .group_by(LikeRecord.video_id)
            ).all()
        )
        remixes = dict(
            s.execute(
                select(VideoRecord.remixed_from_video_id, func.count())
                .where(VideoRecord.remixed_from_video_id.is_not(None), *visible)
                .group_by(VideoRecord.remixed_from_video_id)
            ).all()
        )
    snap = Snapshot(as_of, [], {})
    for video_id, owner_id, published in videos:
        snap.counts[video_id] = (likes.get(video_id, 0), remixes.get(video_id, 0), published)
        snap.by_owner.setdefault(owner_id, []).append(video_id)
        snap.order.append((snap.score(video_id, False, 0), video_id))
    snap.order.sort(reverse=True)
    return snap


class Snapshots:
    """The last few snapshots, built once per moment even under concurrent requests.

    A new moment's snapshot is built in the background while requests keep using the
    previous one (if it is at most ``stale`` seconds older), so no reader waits for it.
    """

    def __init__(self, sessions: sessionmaker, kept: int = SNAPSHOTS_KEPT):
        self.sessions = sessions
        self.kept = kept
        self._cache: OrderedDict[int, Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[int, threading.Lock] = {}

    def latest(self, moment: int, stale: int) -> Snapshot:
        """The snapshot for ``moment``, or the newest one while that is being built."""
        with self._lock:
            snap = self._cache.get(moment)
            if snap is not None:
                return snap
            newest = max(self._cache, default=None)
            if newest is not None and moment - stale <= newest < moment:
                if moment not in self._building:
                    self._building[moment] = threading.Lock()
                    threading.Thread(
                        target=self._build_quietly, args=(moment,), daemon=True
                    ).start()
                return self._cache[newest]
        return self.get(moment)

    def _build_quietly(self, as_of: int) -> None:
        try:
            self.get(as_of)
        except Exception:  # the next request builds it in line (and reports any error)
            log.warning("building the For You snapshot for %s failed", as_of, exc_info=True)
            with self._lock:
                self._building.pop(as_of, None)

    def get(self, as_of: int) -> Snapshot:
        with self._lock:
            snap = self._cache.get(as_of)
            if snap is not None:
                self._cache.move_to_end(as_of)
                return snap
            building = self._building.setdefault(as_of, threading.Lock())
        with building:
            with self._lock:
                snap = self._cache.get(as_of)
            if snap is None:
                snap = build_snapshot(self.sessions, as_of)
                with self._lock:
                    self._cache[as_of] = snap
                    while len(self._cache) > self.kept:
                        self._cache.popitem(last=False)
                    self._building.pop(as_of, None)
            return snap


class Feeds:
    """For You and Following, built on the gallery's cards (likes, remixes, owners)."""

    def __init__(
        self,
        sessions: sessionmaker,
        *,
        character: CharacterTerm | None = None,
        refresh: int = REFRESH_SECONDS,
    ):
        self.sessions = sessions
        self.character = character
        self.refresh = refresh
        self.snapshots = Snapshots(sessions)

    def moment(self) -> int:
        return now() // self.refresh * self.refresh

    def for_you(
        self, viewer: UserRecord | None, cursor: str | None = None, *, limit: int = PER_PAGE
    ) -> Page:
        at = Cursor.decode(cursor) if cursor else None
        if at is not None:
            snap = self.snapshots.get(self._moment_of(at))
        else:
            snap = self.snapshots.latest(self.moment(), stale=5 * self.refresh)
        as_of = snap.as_of
        ranked = self._ranked(snap, viewer.id if viewer else None)
        if at is not None:
            ranked = itertools.dropwhile(lambda item: item >= (at.key, at.id), ranked)
        top = list(itertools.islice(ranked, limit + 1))
        last = top[limit - 1] if len(top) > limit else None
        following = Cursor(as_of, last[0], last[1]).encode() if last is not None else None
        return Page(self._cards(viewer, [vid for _, vid in top[:limit]]), following, as_of)

    def _moment_of(self, at: Cursor) -> int:
        """A cursor's moment, if this server could have given it out recently: each new
        moment costs a snapshot, so made-up or day-old ones are refused."""
        if at.as_of % self.refresh or not now() - CURSOR_TTL <= at.as_of <= now():
            raise InvalidRequest(
                "this For You cursor has expired (or was not given out by this server); "
                "load the feed again without it",
                param="cursor",
                code="invalid_cursor",
            )
        return at.as_of

    def _ranked(self, snap: Snapshot, viewer_id: str | None) -> Iterator[tuple[float, str]]:
        """The snapshot's order with the viewer's terms: the few videos they lift are
        re-scored and merged in; every other video keeps its shared score."""
        followed: set[str] = set()
        if viewer_id is not None:
            with self.sessions() as s:
                followees = s.scalars(
                    select(FollowRecord.followee_id).where(
                        FollowRecord.follower_id == viewer_id,
                        FollowRecord.created_at <= snap.as_of,
                    )
                ).all()
            followed = {vid for owner in followees for vid in snap.by_owner.get(owner, ())}
        characters = self.character(viewer_id, snap.as_of) if self.character else {}
        lifted = (followed | characters.keys()) & snap.counts.keys()
        if not lifted:
            return iter(snap.order)
        rescored = sorted(
            ((snap.score(v, v in followed, characters.get(v, 0)), v) for v in lifted),
            reverse=True,
        )
        rest: Iterable[tuple[float, str]] = (item for item in snap.order if item[1] not in lifted)
        return heapq.merge(rescored, rest, reverse=True)

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
            # Not indexable on purpose: SQLite would otherwise walk the status index (nearly
            # every video is completed) instead of the owners' (owner_id, published_at) one.
            func.coalesce(VideoRecord.status, "") == COMPLETED,
        )
        if at is not None:
            # The first condition is an index range; the second breaks ties in that second.
            query = query.where(
                VideoRecord.published_at <= at.key,
                or_(VideoRecord.published_at < at.key, VideoRecord.id < at.id),
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
