"""What the studio shows about many videos at once: the feed, likes and remix chains.

Visibility is one rule everywhere: a viewer sees their own videos and anyone's published
ones (the same rule as ``VideoService.get_visible``), applied in SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Subquery, and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, now
from mutoscope.studio import social
from mutoscope.studio.records import LikeRecord

Sort = Literal["newest", "remixed"]
SORTS: tuple[Sort, ...] = ("newest", "remixed")
MAX_CHAIN = 20


@dataclass(frozen=True)
class Card:
    video: VideoRecord
    owner: str
    likes: int = 0
    liked: bool = False
    remixes: int = 0
    handle: str = ""
    """The owner's @handle (without the @)."""


@dataclass(frozen=True)
class FeedPage:
    cards: list[Card]
    page: int
    has_more: bool


@dataclass(frozen=True)
class Chain:
    """Ancestors (root first) and direct children a viewer may see."""

    ancestors: list[Card]
    children: list[Card]


def visible_to(viewer: UserRecord | None) -> ColumnElement[bool]:
    published = VideoRecord.published_at.is_not(None)
    return or_(published, VideoRecord.owner_id == viewer.id) if viewer else published


class Gallery:
    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def feed(
        self, viewer: UserRecord | None, *, sort: Sort = "newest", page: int = 1, per_page: int = 24
    ) -> FeedPage:
        """Published, completed videos from every user, newest or most remixed first."""
        page = max(1, page)
        remixes = self._remix_counts_subquery()
        query = (
            select(VideoRecord, UserRecord.name, func.coalesce(remixes.c.n, 0))
            .join(UserRecord, UserRecord.id == VideoRecord.owner_id)
            .outerjoin(remixes, remixes.c.parent_id == VideoRecord.id)
            .where(VideoRecord.published_at.is_not(None), VideoRecord.status == COMPLETED)
        )
        if sort == "remixed":
            query = query.order_by(func.coalesce(remixes.c.n, 0).desc())
        query = query.order_by(VideoRecord.published_at.desc(), VideoRecord.id.desc())
        query = query.offset((page - 1) * per_page).limit(per_page + 1)
        with self.sessions() as s:
            rows = s.execute(query).all()
            cards = self._cards(s, viewer, [(v, name, n) for v, name, n in rows[:per_page]])
        return FeedPage(cards, page, len(rows) > per_page)

    def card(self, viewer: UserRecord | None, video: VideoRecord) -> Card:
        with self.sessions() as s:
            owner = s.scalar(select(UserRecord.name).where(UserRecord.id == video.owner_id))
            return self._cards(s, viewer, [(video, owner or "", None)])[0]

    def chain(self, viewer: UserRecord | None, video: VideoRecord) -> Chain:
        """The remix lineage around ``video``: every visible ancestor, and visible children."""
        with self.sessions() as s:
            ancestors: list[VideoRecord] = []
            parent_id = video.remixed_from_video_id
            while parent_id and len(ancestors) < MAX_CHAIN:
                parent = s.scalar(
                    select(VideoRecord).where(VideoRecord.id == parent_id, visible_to(viewer))
                )
                if parent is None:
                    break
                ancestors.insert(0, parent)
                parent_id = parent.remixed_from_video_id
            children = list(
                s.scalars(
                    select(VideoRecord)
                    .where(VideoRecord.remixed_from_video_id == video.id, visible_to(viewer))
                    .order_by(VideoRecord.id)
                    .limit(MAX_CHAIN)
                )
            )
            names = self._names(s, {v.owner_id for v in (*ancestors, *children)})
            return Chain(
                ancestors=self._cards(s, viewer, [(v, names[v.owner_id], None) for v in ancestors]),
                children=self._cards(s, viewer, [(v, names[v.owner_id], None) for v in children]),
            )

    def toggle_like(self, user: UserRecord, video_id: str) -> tuple[bool, int]:
        """Like or un-like (one like per user); returns (liked now, total likes).

        The caller checks that the user may see the video first.
        """
        with self.sessions.begin() as s:
            removed = s.execute(
                delete(LikeRecord).where(
                    LikeRecord.user_id == user.id, LikeRecord.video_id == video_id
                )
            ).rowcount
            if not removed:
                try:
                    with s.begin_nested():
                        s.add(LikeRecord(user_id=user.id, video_id=video_id, created_at=now()))
                except IntegrityError:
                    pass  # a concurrent click already liked it
                else:
                    owner = s.scalar(select(VideoRecord.owner_id).where(VideoRecord.id == video_id))
                    if owner is not None:
                        social.notify(
                            s, owner, "liked", actor_id=user.id, video_id=video_id, dedupe=True
                        )
        with self.sessions() as s:
            count = s.scalar(select(func.count()).where(LikeRecord.video_id == video_id)) or 0
        return (not removed, count)

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _remix_counts_subquery() -> Subquery:
        child = select(
            VideoRecord.remixed_from_video_id.label("parent_id"), func.count().label("n")
        ).where(
            VideoRecord.remixed_from_video_id.is_not(None), VideoRecord.published_at.is_not(None)
        )
        return child.group_by(VideoRecord.remixed_from_video_id).subquery()

    @staticmethod
    def _names(s: Session, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        rows = s.execute(select(UserRecord.id, UserRecord.name).where(UserRecord.id.in_(user_ids)))
        return {i: n for i, n in rows}

    @staticmethod
    def _cards(
        s: Session, viewer: UserRecord | None, rows: list[tuple[VideoRecord, str, int | None]]
    ) -> list[Card]:
        """Cards with like counts, the viewer's likes and (when not given) remix counts."""
        ids = [v.id for v, _, _ in rows]
        if not ids:
            return []
        likes = dict(
            s.execute(
                select(LikeRecord.video_id, func.count())
                .where(LikeRecord.video_id.in_(ids))
                .group_by(LikeRecord.video_id)
            ).all()
        )
        liked: set[str] = set()
        if viewer is not None:
            liked = set(
                s.scalars(
                    select(LikeRecord.video_id).where(
                        and_(LikeRecord.user_id == viewer.id, LikeRecord.video_id.in_(ids))
                    )
                )
            )
        missing = [v.id for v, _, n in rows if n is None]
        remixes: dict[str, int] = {}
        if missing:
            counted = s.execute(
                select(VideoRecord.remixed_from_video_id, func.count())
                .where(
                    VideoRecord.remixed_from_video_id.in_(missing),
                    VideoRecord.published_at.is_not(None),
                )
                .group_by(VideoRecord.remixed_from_video_id)
            )
            remixes = {str(parent): int(n) for parent, n in counted}
        handles = social.handles(s, {v.owner_id for v, _, _ in rows})
        return [
            Card(
                video=v,
                owner=owner,
                likes=likes.get(v.id, 0),
                liked=v.id in liked,
                remixes=n if n is not None else remixes.get(v.id, 0),
                handle=handles.get(v.owner_id, owner),
            )
            for v, owner, n in rows
        ]
