"""For You ranking and cursor pagination on a real database."""

from __future__ import annotations

import random
import time

import pytest

from mutoscope.errors import InvalidRequest
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, new_id, now
from mutoscope.studio.feeds import Cursor, Feeds, Snapshots, score
from mutoscope.studio.records import LikeRecord
from mutoscope.studio.social_records import FollowRecord
from tests.studio import test_social

sessions = test_social.sessions  # the fixture: SQLite and PostgreSQL
HOUR = 3600


def test_score_rewards_engagement_and_follows_and_decays_with_age() -> None:
    assert score(likes=5, remixes=0, followed=False, age_hours=3) > score(0, 0, False, 3)
    assert score(0, remixes=1, followed=False, age_hours=3) > score(2, 0, False, 3)
    assert score(0, 0, followed=True, age_hours=3) > score(3, 0, False, 3)
    assert score(0, 0, False, age_hours=1) > score(0, 0, False, age_hours=10)
    assert score(0, 0, False, 0, characters=1) > score(0, 0, False, 0)
    # gravity 2: a day-old video needs ~150x the engagement of a new one to rank level
    assert score(150, 0, False, 24) < score(0, 0, False, 0) < score(170, 0, False, 24)


@pytest.fixture
def world(sessions):  # type: ignore[no-untyped-def]
    """40 published videos by 4 users over 40 hours, random likes, 10 remixes, 1 draft."""
    rng = random.Random(7)
    t = now()
    users = [UserRecord(id=new_id("user"), name=f"u{n}", created_at=t) for n in range(4)]
    videos: list[VideoRecord] = []
    with sessions.begin() as s:
        s.add_all(users)
        s.flush()
        for n in range(41):
            parent = rng.choice(videos).id if videos and n % 4 == 0 else None
            published = t - (40 - n) * HOUR if n < 40 else None
            video = VideoRecord(
                id=new_id("video"),
                owner_id=users[n % 4].id,
                model="m",
                backend="m",
                status=COMPLETED,
                progress=100,
                prompt=f"video {n}",
                size="256x256",
                seconds="4",
                remixed_from_video_id=parent,
                published_at=published,
                attributions=[],
                provenance={},
            )
            s.add(video)
            videos.append(video)
        s.flush()
        for video in videos[:40]:
            for user in rng.sample(users, rng.randrange(5)):
                s.add(LikeRecord(user_id=user.id, video_id=video.id, created_at=t - 60))
        s.add(FollowRecord(follower_id=users[0].id, followee_id=users[1].id, created_at=t - 60))
    return sessions, users, videos, t


def expected_order(world, viewer: UserRecord, as_of: int) -> list[str]:  # type: ignore[no-untyped-def]
    sessions, _, videos, _ = world
    with sessions() as s:
        likes = {v.id: s.query(LikeRecord).filter_by(video_id=v.id).count() for v in videos}
        followed = {f.followee_id for f in s.query(FollowRecord).filter_by(follower_id=viewer.id)}
    published = [v for v in videos if v.published_at is not None]
    remixes = {v.id: sum(c.remixed_from_video_id == v.id for c in published) for v in published}
    scored = {
        v.id: score(
            likes[v.id], remixes[v.id], v.owner_id in followed, (as_of - v.published_at) / HOUR
        )
        for v in published
    }
    return sorted(scored, key=lambda i: (scored[i], i), reverse=True)


def collect(fetch, limit: int) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Every page's ids, and the moment of the first page."""
    ids, cursor, moment = [], None, None
    while True:
        page = fetch(cursor, limit)
        assert len(page.cards) <= limit
        moment = moment or page.as_of
        ids += [c.video.id for c in page.cards]
        if page.next_cursor is None:
            return ids, moment
        cursor = page.next_cursor


def test_for_you_pages_follow_the_documented_score(world) -> None:  # type: ignore[no-untyped-def]
    sessions, users, videos, _ = world
    feeds = Feeds(sessions)
    got, moment = collect(lambda c, n: feeds.for_you(users[0], c, limit=n), 7)
    assert got == expected_order(world, users[0], moment)
    assert videos[40].id not in got  # the draft
    assert len(got) == len(set(got)) == 40


def test_for_you_cursor_is_stable_while_likes_and_videos_arrive(world) -> None:  # type: ignore[no-untyped-def]
    sessions, users, _, t = world
    feeds = Feeds(sessions)
    first = feeds.for_you(users[2], limit=10)
    want = expected_order(world, users[2], first.as_of)
    # Meanwhile (after the page's moment): the last-ranked video gets many likes and a new
    # video is published.
    last, later = want[-1], t + HOUR
    with sessions.begin() as s:
        for user in users:
            s.add(LikeRecord(user_id=user.id, video_id=last, created_at=later))
        s.add(
            VideoRecord(
                id=new_id("video"),
                owner_id=users[3].id,
                model="m",
                backend="m",
                status=COMPLETED,
                progress=100,
                prompt="late",
                size="256x256",
                seconds="4",
                published_at=later,
                attributions=[],
                provenance={},
            )
        )
    rest, _ = collect(lambda c, n: feeds.for_you(users[2], c or first.next_cursor, limit=n), 10)
    got = [c.video.id for c in first.cards] + rest
    assert got == want  # no repeats, no skips, same order


def test_character_term_lifts_the_videos_it_names(world) -> None:  # type: ignore[no-untyped-def]
    sessions, users, _, _ = world
    plain = Feeds(sessions).for_you(users[3], limit=40)
    bottom = plain.cards[-1].video.id
    feeds = Feeds(sessions, character=lambda viewer, as_of: {bottom: 10_000} if viewer else {})
    assert feeds.for_you(users[3], limit=1).cards[0].video.id == bottom
    assert feeds.for_you(None, limit=40).cards[-1].video.id == bottom


def test_following_pages_newest_first_with_ties(world) -> None:  # type: ignore[no-untyped-def]
    sessions, users, videos, t = world
    with sessions.begin() as s:  # three videos in the same second
        for video in videos[1:13:4]:
            s.get(VideoRecord, video.id).published_at = t - 5  # type: ignore[union-attr]
    feeds = Feeds(sessions)
    got, _ = collect(lambda c, n: feeds.following(users[0], c, limit=n), 2)
    with sessions() as s:
        mine = s.query(VideoRecord).filter(
            VideoRecord.owner_id == users[1].id, VideoRecord.published_at.is_not(None)
        )
        want = [v.id for v in sorted(mine, key=lambda v: (v.published_at, v.id), reverse=True)]
    assert got == want and len(want) == 10


def test_cursors_are_opaque_and_checked() -> None:
    cursor = Cursor(1_700_000_000, 0.123456789012345678, "video_1")
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("nonsense", "", "W10", Cursor(1, 0, "x").encode()[:-3]):
        with pytest.raises(InvalidRequest, match="cursor"):
            Cursor.decode(bad)


def test_a_new_moment_is_built_in_the_background(world) -> None:  # type: ignore[no-untyped-def]
    sessions, _, _, t = world
    snapshots = Snapshots(sessions)
    old = snapshots.get(t - 60)
    assert snapshots.latest(t, stale=300) is old  # readers keep the previous one meanwhile
    deadline = time.time() + 30
    while snapshots.latest(t, stale=300) is old:
        assert time.time() < deadline, "the new snapshot was never built"
        time.sleep(0.02)
    assert snapshots.latest(t, stale=300).as_of == t
    assert snapshots.latest(t + 3600, stale=300).as_of == t + 3600  # too old: built in line


def test_for_you_refuses_made_up_or_stale_moments(world) -> None:  # type: ignore[no-untyped-def]
    sessions, users, _, t = world
    feeds = Feeds(sessions)
    for as_of in (t // 10 * 10 + 3, (t - 7 * HOUR) // 10 * 10, (t + HOUR) // 10 * 10):
        cursor = Cursor(as_of, 1.0, "video_x").encode()
        with pytest.raises(InvalidRequest, match="expired"):
            feeds.for_you(users[0], cursor)
