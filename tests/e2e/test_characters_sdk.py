"""Characters through the official ``openai`` SDK against a real ``mutoscope serve`` process:
``create_character``/``get_character`` unchanged, use in ``create`` via ``extra_body``, a 403
for a user without permission, access requests, and revocation failing a queued job."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from mutoscope.media import decode_mp4
from tests.characters.clips import character_clip

from .conftest import Server, make_server, wait_video

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]


@pytest.fixture(scope="module")
def char_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Slow steps (8 x 0.25 s) keep a second job queued behind the first for the revocation test.
    srv = make_server(tmp_path_factory.mktemp("characters"), MUTOSCOPE_TEST_STEP_SECONDS="0.25")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def alice(char_server: Server) -> openai.OpenAI:
    return char_server.sdk("alice")


@pytest.fixture(scope="module")
def bob(char_server: Server) -> openai.OpenAI:
    return char_server.sdk("bob")


def _http(client: openai.OpenAI) -> httpx.Client:
    return httpx.Client(
        base_url=str(client.base_url),
        headers={"Authorization": f"Bearer {client.api_key}"},
        timeout=30,
    )


@pytest.fixture(scope="module")
def blobby(alice: openai.OpenAI) -> str:
    made = alice.videos.create_character(
        name="Blobby", video=("blobby.mp4", character_clip(), "video/mp4")
    )
    return str(made.id)


def test_create_and_get_character_with_the_sdk(alice: openai.OpenAI, blobby: str) -> None:
    assert blobby.startswith("char_")
    got = alice.videos.get_character(blobby)
    assert (got.id, got.name) == (blobby, "Blobby")
    assert got.created_at > 1_700_000_000
    extra = got.model_extra or {}
    assert extra["permission"] == "only_me" and extra["kind"] == "person"
    assert extra["look"]["color"] == "red" and extra["look"]["shape"] == "circle"


def test_bad_character_uploads_get_openai_shaped_400s(alice: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as too_long:
        alice.videos.create_character(name="x" * 81, video=("a.mp4", character_clip(), "video/mp4"))
    assert too_long.value.body["param"] == "name"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as short:
        alice.videos.create_character(
            name="Flash", video=("a.mp4", character_clip(seconds=1.0), "video/mp4")
        )
    assert short.value.body["param"] == "video"  # type: ignore[index]
    assert "2 to 10 seconds" in short.value.message
    with pytest.raises(openai.BadRequestError) as junk:
        alice.videos.create_character(name="Junk", video=("a.mp4", b"not a video", "video/mp4"))
    assert junk.value.body["param"] == "video"  # type: ignore[index]


def test_create_with_extra_body_characters_keeps_the_look_and_signs_it(
    alice: openai.OpenAI, blobby: str
) -> None:
    video = alice.videos.create(
        prompt="Blobby crossing the screen",
        model="sora-2",
        seconds="4",
        size="256x256",
        extra_body={"characters": [{"id": blobby}]},
    )
    done = wait_video(alice, video.id)
    assert done.status == "completed", done.error
    content = alice.videos.download_content(video.id).read()
    frames = decode_mp4(content)
    # The test backend draws the square in the character's colour (red from its video).
    reds = (frames[..., 0] > 170) & (frames[..., 1] < 90) & (frames[..., 2] < 90)
    assert reds.mean() > 0.01
    report = httpx.post(
        f"{str(alice.base_url).removesuffix('/v1/')}/v1/provenance/verify",
        files={"file": ("v.mp4", content, "video/mp4")},
        timeout=60,
    ).json()
    names = [c["name"] for c in report["c2pa"]["summary"]["characters"]]
    assert names == ["Blobby"]


def test_a_prompt_must_name_the_character(alice: openai.OpenAI, blobby: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        alice.videos.create(
            prompt="a square moving",
            model="sora-2",
            size="256x256",
            extra_body={"characters": [{"id": blobby}]},
        )
    assert "Blobby" in err.value.message and err.value.body["param"] == "prompt"  # type: ignore[index]


def test_use_without_permission_is_a_403_until_the_owner_approves(
    alice: openai.OpenAI, bob: openai.OpenAI, blobby: str
) -> None:
    # only_me: bob cannot even see it
    with pytest.raises(openai.NotFoundError):
        bob.videos.get_character(blobby)
    with _http(alice) as a:
        assert a.post(f"/videos/characters/{blobby}", json={"permission": "approved"}).is_success
    with pytest.raises(openai.PermissionDeniedError) as denied:
        bob.videos.create(
            prompt="Blobby dancing",
            model="sora-2",
            size="256x256",
            extra_body={"characters": [{"id": blobby}]},
        )
    body = denied.value.body
    assert denied.value.status_code == 403
    assert body["code"] == "character_permission_denied"  # type: ignore[index]
    assert body["type"] == "permission_error" and body["param"] == "characters"  # type: ignore[index]
    assert "Ask for access" in denied.value.message
    # The person's name in a prompt without the character is caught by the rights layer.
    with pytest.raises(openai.BadRequestError) as named:
        bob.videos.create(prompt="Blobby eating soup", model="sora-2", size="256x256")
    assert named.value.body["code"] == "moderation_blocked"  # type: ignore[index]
    assert "consent" in named.value.message
    with _http(bob) as b, _http(alice) as a:
        asked = b.post(f"/videos/characters/{blobby}/requests", json={"note": "for a birthday"})
        assert asked.json()["access"] == "pending"
        pending = a.get(f"/videos/characters/{blobby}/requests").json()["data"]
        assert [p["user"] for p in pending] == ["bob"]
        decided = a.post(
            f"/videos/characters/{blobby}/decisions",
            json={"user_id": pending[0]["user_id"], "approve": True},
        )
        assert decided.is_success
    video = bob.videos.create(
        prompt="Blobby dancing",
        model="sora-2",
        size="256x256",
        extra_body={"characters": [{"id": blobby}]},
    )
    assert video.status == "queued"
    with _http(alice) as a:
        cameos = a.get("/videos/characters", params={"scope": "mine"}).json()["data"]
        assert cameos[0]["id"] == blobby
    assert wait_video(bob, video.id).status == "completed"


def test_revoking_fails_queued_jobs_with_character_revoked(
    alice: openai.OpenAI, bob: openai.OpenAI
) -> None:
    made = alice.videos.create_character(
        name="Squarey", video=("s.mp4", character_clip("yellow", "square"), "video/mp4")
    )
    with _http(alice) as a:
        a.post(f"/videos/characters/{made.id}", json={"permission": "everyone"})
    # The worker is busy with the first video while the second waits in the queue.
    first = bob.videos.create(prompt="a plain test", model="sora-2", size="256x256")
    second = bob.videos.create(
        prompt="Squarey jumping",
        model="sora-2",
        size="256x256",
        extra_body={"characters": [{"id": made.id}]},
    )
    with _http(alice) as a:
        assert a.post(f"/videos/characters/{made.id}/revoke").json()["status"] == "revoked"
    failed = wait_video(bob, second.id)
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.code == "character_revoked"
    assert wait_video(bob, first.id).status == "completed"
    with pytest.raises(openai.PermissionDeniedError) as again:
        bob.videos.create(
            prompt="Squarey jumping",
            model="sora-2",
            size="256x256",
            extra_body={"characters": [{"id": made.id}]},
        )
    assert again.value.body["code"] == "character_revoked"  # type: ignore[index]


def test_multipart_characters_field_and_the_per_video_limit(
    alice: openai.OpenAI, blobby: str
) -> None:
    extra = [
        alice.videos.create_character(
            name=name, video=(f"{name}.mp4", character_clip(c, "triangle"), "video/mp4")
        ).id
        for name, c in (("Tri", "green"), ("Pip", "white"))
    ]
    with _http(alice) as a:
        many = a.post(
            "/videos",
            data={"prompt": "Blobby, Tri and Pip", "model": "sora-2", "size": "256x256"},
            files=[("characters[][id]", (None, i)) for i in (blobby, *extra)],
        )
        assert many.status_code == 400 and "at most 2" in many.json()["error"]["message"]
        ok = a.post(
            "/videos",
            data={"prompt": "Tri meets Pip", "model": "sora-2", "size": "256x256"},
            files=[("characters[][id]", (None, i)) for i in extra],
        )
        assert ok.status_code == 200, ok.text
