"""The consent model in process: tiers, requests, denials, revocation and co-ownership."""

from __future__ import annotations

import pytest

from mutoscope.characters import rules
from mutoscope.characters.service import CharacterService, check_video_characters, may_use
from mutoscope.errors import CharacterRevoked, Forbidden, InvalidRequest, NotFound
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord
from mutoscope.videos import VideoCreate, VideoService
from tests.characters.clips import character_clip


@pytest.fixture
def world(core_services):  # type: ignore[no-untyped-def]
    users = {}
    with core_services.sessions.begin() as s:
        for name in ("ann", "ben", "cat"):
            users[name] = UserRecord(id=f"user_{name}", name=name)
            s.add(users[name])
    chars = CharacterService(core_services)
    pet = chars.create(users["ann"], "Rex", character_clip("green", "square"), kind="pet")
    return core_services, chars, users, pet


def _may(services, character_id: str, user: UserRecord) -> bool:  # type: ignore[no-untyped-def]
    with services.sessions() as s:
        from mutoscope.characters.records import CharacterRecord

        row = s.get(CharacterRecord, character_id)
        return may_use(s, row, user.id)


def _video(services, user: UserRecord, character_id: str, prompt: str = "Rex runs"):  # type: ignore[no-untyped-def]
    body = VideoCreate(prompt=prompt, size="256x256", characters=[character_id])
    return VideoService(services).create(user, body)


def test_tiers_requests_and_denials(world) -> None:  # type: ignore[no-untyped-def]
    services, chars, u, pet = world
    assert pet.tier == "only_me" and pet.look["color"] == "green"
    with pytest.raises(NotFound):
        chars.get(u["ben"], pet.id)  # only_me is invisible to others
    chars.update(u["ann"], pet.id, tier="approved")
    assert not _may(services, pet.id, u["ben"])
    with pytest.raises(Forbidden) as err:
        _video(services, u["ben"], pet.id)
    assert err.value.code == "character_permission_denied"
    assert chars.request_access(u["ben"], pet.id, "please") == "pending"
    assert [who for _, who, _ in chars.pending_requests(u["ann"])] == ["ben"]
    chars.decide(u["ann"], pet.id, u["ben"].id, approve=True)
    assert _may(services, pet.id, u["ben"]) and not _may(services, pet.id, u["cat"])
    # everyone: anybody, except someone the owner turned down
    chars.update(u["ann"], pet.id, tier="everyone")
    chars.decide(u["ann"], pet.id, u["cat"].id, approve=False)
    assert _may(services, pet.id, u["ben"]) and not _may(services, pet.id, u["cat"])
    with pytest.raises(Forbidden):
        chars.update(u["ben"], pet.id, tier="only_me")  # only the owner changes it


def test_mutual_follows_tier_follows_the_social_graph(world) -> None:  # type: ignore[no-untyped-def]
    from mutoscope.studio import social

    services, chars, u, pet = world
    chars.update(u["ann"], pet.id, tier="mutual")
    with services.sessions.begin() as s:
        social.follow(s, u["ben"].id, u["ann"].id)
    assert not _may(services, pet.id, u["ben"])
    with services.sessions.begin() as s:
        social.follow(s, u["ann"].id, u["ben"].id)
    assert _may(services, pet.id, u["ben"])


def test_revoking_fails_queued_videos_and_takes_published_ones_off_the_feed(world) -> None:  # type: ignore[no-untyped-def]
    services, chars, u, pet = world
    chars.update(u["ann"], pet.id, tier="everyone")
    done = _video(services, u["ben"], pet.id)
    queued = _video(services, u["ben"], pet.id, "Rex sleeps")
    with services.sessions.begin() as s:
        row = s.get(VideoRecord, done.id)
        row.status, row.published_at = COMPLETED, 1
    chars.revoke(u["ann"], pet.id)
    with services.sessions() as s:
        assert s.get(VideoRecord, done.id).published_at is None
        with pytest.raises(CharacterRevoked) as err:
            check_video_characters(s, s.get(VideoRecord, queued.id))
    assert err.value.code == "character_revoked"
    with pytest.raises(Forbidden) as again:
        VideoService(services).set_published(u["ben"], done.id, True)
    assert again.value.code == "character_revoked"
    assert [c.video.id for c in chars.cameos(u["ann"])] == [queued.id, done.id]


def test_the_owner_removes_a_cameo_from_the_feed_or_deletes_it(world) -> None:  # type: ignore[no-untyped-def]
    services, chars, u, pet = world
    chars.update(u["ann"], pet.id, tier="everyone")
    video = _video(services, u["ben"], pet.id)
    with pytest.raises(NotFound):
        chars.remove_from_feed(u["cat"], video.id)  # not a co-owner
    chars.remove_from_feed(u["ann"], video.id)
    assert chars.cameos(u["ann"])[0].removed
    chars.delete_video(u["ann"], video.id)
    with services.sessions() as s:
        assert s.get(VideoRecord, video.id) is None


def test_names_limits_and_mentions_are_checked(world) -> None:  # type: ignore[no-untyped-def]
    services, chars, u, pet = world
    with pytest.raises(InvalidRequest) as long:
        chars.create(u["ann"], "x" * 81, b"")
    assert long.value.param == "name"
    with pytest.raises(InvalidRequest) as unnamed:
        _video(services, u["ann"], pet.id, "a dog runs")
    assert "Rex" in unnamed.value.message
    others = [chars.create(u["ann"], n, character_clip("white", "circle")) for n in ("Ace", "Bo")]
    body = VideoCreate(prompt="Rex, Ace and Bo", size="256x256")
    body.characters = [pet.id, *(c.id for c in others)]
    with pytest.raises(InvalidRequest) as many:
        VideoService(services).create(u["ann"], body)
    assert "at most 2" in many.value.message


def test_handles_in_prompts_resolve_to_their_characters(world) -> None:  # type: ignore[no-untyped-def]
    _, chars, u, pet = world
    chars.update(u["ann"], pet.id, tier="everyone")
    uses = chars.resolve(u["ben"], [], "@ann jumps over a fence")
    assert [(x.character.id, x.mention) for x in uses] == [(pet.id, "@ann")]


def test_rules_are_topics_to_keep_away_from() -> None:
    assert rules.topic("No political content.") == "political content"
    assert rules.check("Rex at an election rally for a political party", ["no politics"])
    assert rules.check("Rex at a birthday party", ["no political content"]) is None


def test_owners_hear_of_a_use_only_when_the_video_is_made(world) -> None:  # type: ignore[no-untyped-def]
    from mutoscope.studio import social
    from mutoscope.worker.pool import Worker

    services, chars, u, pet = world
    chars.update(u["ann"], pet.id, tier="everyone")
    made, refused = _video(services, u["ben"], pet.id), _video(services, u["ben"], pet.id)
    worker = Worker(services)
    first = services.queue.claim(worker.worker_id)
    worker.run_one(first)  # completes
    chars.revoke(u["ann"], pet.id)
    worker.run_one(services.queue.claim(worker.worker_id))  # fails: character_revoked
    with services.sessions() as s:
        assert s.get(VideoRecord, refused.id).error_code == "character_revoked"
        notes, _ = social.notifications(s, u["ann"].id)
    assert [(n.kind, n.video_id) for n in notes] == [("character_used", made.id)]
