"""The social graph on a real database: handles, follows, comments and notifications."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import Conflict, Forbidden, InvalidRequest
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, new_id, now
from mutoscope.studio import social


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, core_services) -> Iterator[sessionmaker]:  # type: ignore[no-untyped-def]
    """The same tests on SQLite and on PostgreSQL (skipped where it cannot be started)."""
    if request.param == "sqlite":
        yield core_services.sessions
        return
    engine = make_engine(request.getfixturevalue("postgres_url"))
    with engine.begin() as conn:  # a clean schema per test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def add_user(sessions: sessionmaker, name: str) -> str:
    with sessions.begin() as s:
        user = UserRecord(id=new_id("user"), name=name, created_at=now())
        s.add(user)
        return user.id


def add_video(sessions: sessionmaker, owner_id: str, published: bool = True) -> VideoRecord:
    with sessions.begin() as s:
        video = VideoRecord(
            id=new_id("video"),
            owner_id=owner_id,
            model="m",
            backend="m",
            status=COMPLETED,
            progress=100,
            prompt="a paper boat",
            size="256x256",
            seconds="4",
            published_at=now() if published else None,
            attributions=[],
            provenance={},
        )
        s.add(video)
    return video


def test_mutual_follow_needs_both_directions(sessions: sessionmaker) -> None:
    ada, bob = add_user(sessions, "ada"), add_user(sessions, "bob")
    with sessions.begin() as s:
        assert social.follow(s, ada, bob)
        assert not social.follow(s, ada, bob)  # already following
        assert not social.is_mutual_follow(s, ada, bob)
        social.follow(s, bob, ada)
        assert social.is_mutual_follow(s, ada, bob) and social.is_mutual_follow(s, bob, ada)
        assert not social.is_mutual_follow(s, ada, ada)
        social.unfollow(s, bob, ada)
        assert not social.is_mutual_follow(s, ada, bob)
    with sessions() as s:
        assert social.follow_counts(s, bob) == social.FollowCounts(followers=1, following=0)


def test_cannot_follow_yourself(sessions: sessionmaker) -> None:
    ada = add_user(sessions, "ada")
    with sessions.begin() as s, pytest.raises(InvalidRequest):
        social.follow(s, ada, ada)


def test_follow_notifies_once_while_unread(sessions: sessionmaker) -> None:
    ada, bob = add_user(sessions, "ada"), add_user(sessions, "bob")
    with sessions.begin() as s:
        social.follow(s, ada, bob)
        social.unfollow(s, ada, bob)
        social.follow(s, ada, bob)
    with sessions.begin() as s:
        page, cursor = social.notifications(s, bob)
        assert [(n.kind, n.actor_handle, n.unread) for n in page] == [("followed", "ada", True)]
        assert social.unread_count(s, bob) == 1 and cursor is None
        assert social.mark_read(s, bob) == 1
        assert social.unread_count(s, bob) == 0


def test_notify_skips_your_own_actions_and_keeps_extra_data(sessions: sessionmaker) -> None:
    ada, bob = add_user(sessions, "ada"), add_user(sessions, "bob")
    video = add_video(sessions, ada)
    with sessions.begin() as s:
        assert social.notify(s, ada, "liked", actor_id=ada, video_id=video.id) is None
        social.notify(
            s, ada, "character_used", actor_id=bob, video_id=video.id, character_name="Rex"
        )
    with sessions.begin() as s:
        (note,), _ = social.notifications(s, ada)
    assert note.kind == "character_used" and note.video_id == video.id
    assert note.data == {"character_name": "Rex"} and note.actor_handle == "bob"


def test_notifications_page_with_a_cursor(sessions: sessionmaker) -> None:
    ada, bob = add_user(sessions, "ada"), add_user(sessions, "bob")
    with sessions.begin() as s:
        for n in range(5):
            social.notify(s, ada, "custom", actor_id=bob, text=f"poke {n}")
    with sessions.begin() as s:
        first, cursor = social.notifications(s, ada, limit=3)
        rest, end = social.notifications(s, ada, before=cursor, limit=3)
    assert [n.text for n in first + rest] == [f"poke {n}" for n in (4, 3, 2, 1, 0)]
    assert end is None


def test_handles_default_from_names_and_stay_unique_regardless_of_case(
    sessions: sessionmaker,
) -> None:
    ada, other = add_user(sessions, "Ada.L"), add_user(sessions, "grace")
    with sessions.begin() as s:
        assert social.ensure_profiles(s, [ada])[ada].handle == "Ada_L"
        assert social.user_by_handle(s, "@ada_l").id == ada  # type: ignore[union-attr]
        # grace has no profile yet: her name is reserved as her handle
        with pytest.raises(Conflict):
            social.update_profile(s, ada, handle="GRACE", display_name="", bio="")
        assert social.user_by_handle(s, "grace").id == other  # type: ignore[union-attr]
        profile = social.update_profile(s, ada, handle="@adal", display_name=" Ada  L ", bio="hi")
        assert (profile.handle, profile.bio) == ("adal", "hi")
        assert s.get(UserRecord, ada).display_name == "Ada L"  # type: ignore[union-attr]
        with pytest.raises(InvalidRequest, match="2 to 30"):
            social.update_profile(s, ada, handle="a b", display_name="", bio="")


def test_comments_are_deleted_by_their_author_or_the_video_owner(sessions: sessionmaker) -> None:
    ada, bob, eve = (add_user(sessions, n) for n in ("ada", "bob", "eve"))
    video = add_video(sessions, ada)
    with sessions.begin() as s:
        first = social.add_comment(s, bob, video, "lovely boat")
        second = social.add_comment(s, bob, video, "again")
        with pytest.raises(InvalidRequest, match="at most 500"):
            social.add_comment(s, bob, video, "x" * 501)
        with pytest.raises(Forbidden):
            social.delete_comment(s, eve, first.id)
        social.delete_comment(s, bob, first.id)
        social.delete_comment(s, ada, second.id)
        assert social.comments(s, video.id) == []
        assert social.unread_count(s, ada) == 2  # two "commented" notifications


def test_a_removed_video_notification_outlives_the_video(sessions: sessionmaker) -> None:
    ada, bob = add_user(sessions, "ada"), add_user(sessions, "bob")
    video = add_video(sessions, ada)
    with sessions.begin() as s:
        social.notify(s, ada, "video_removed", video_id=video.id, actor_id=bob)
        s.delete(s.get(VideoRecord, video.id))
    with sessions.begin() as s:
        (note,), _ = social.notifications(s, ada)
    assert note.video_id is None and note.data["prompt"] == "a paper boat"
    assert "removed a video of yours" in note.text
