"""The official ``openai`` SDK, unchanged, against a real ``mutoscope serve`` process."""

from __future__ import annotations

import io
import warnings

import openai
import pytest
from PIL import Image

from mutoscope.media import decode_mp4, probe

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]


@pytest.fixture(scope="module")
def keys(server) -> dict[str, str]:
    return {
        "alice": server.cli("keys", "create", "--user", "alice", "--name", "sdk"),
        "bob": server.cli("keys", "create", "--user", "bob", "--name", "sdk"),
    }


@pytest.fixture(scope="module")
def client(server, keys) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=keys["alice"], max_retries=0)


@pytest.fixture(scope="module")
def finished(client) -> openai.types.Video:
    video = client.videos.create_and_poll(
        prompt="a red circle moving left",
        model="sora-2",
        seconds="4",
        size="1280x720",
        poll_interval_ms=200,
    )
    assert video.status == "completed", video.error
    return video


def test_create_and_poll_completes(finished):
    assert finished.id.startswith("video_") and finished.progress == 100
    assert finished.seconds == "4" and finished.size == "1280x720"
    # The resolved model, not the alias; the alias is kept as requested.
    assert finished.model == "mutoscope-test"  # the e2e server's default model
    assert (finished.model_extra or {}).get("requested_model") == "sora-2"
    assert finished.completed_at >= finished.created_at and finished.error is None


def test_retrieve_matches(client, finished):
    again = client.videos.retrieve(finished.id)
    assert again.id == finished.id and again.status == "completed"


def test_download_all_three_variants_decoded(client, finished):
    data = client.videos.download_content(finished.id).read()
    info = probe(data)
    assert (info.width, info.height, info.frame_count) == (1280, 720, 96)
    assert abs(info.duration - 4.0) < 0.05
    assert decode_mp4(data, max_frames=1).shape == (1, 720, 1280, 3)
    for variant in ("thumbnail", "spritesheet"):
        img = Image.open(
            io.BytesIO(client.videos.download_content(finished.id, variant=variant).read())
        )
        assert img.format == "JPEG" and img.width > 0


def test_downloaded_video_has_aac_sound_as_long_as_its_frames(client, finished):
    info = probe(client.videos.download_content(finished.id).read())
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.audio.sample_rate == 48_000
    assert abs(info.audio.duration - info.duration) <= 1 / 24


def test_audio_false_in_extra_body_makes_a_silent_video(client):
    video = client.videos.create_and_poll(
        prompt="a quiet red circle",
        size="1280x720",
        extra_body={"audio": False},
        poll_interval_ms=200,
    )
    assert video.status == "completed", video.error
    assert probe(client.videos.download_content(video.id).read()).audio is None


def test_list_paginates_in_both_orders(client):
    ids = [client.videos.create(prompt=f"clip {i}", size="720x1280").id for i in range(3)]
    asc = list(client.videos.list(order="asc", limit=2))  # the SDK follows `after` pages
    assert [v.id for v in asc][-3:] == ids
    first = client.videos.list(order="desc", limit=2)
    assert [v.id for v in first.data] == ids[::-1][:2] and first.has_more
    nxt = client.videos.list(order="desc", limit=1, after=first.data[-1].id)
    assert nxt.data[0].id == ids[0]


def test_remix_records_its_parent(client, finished):
    remix = client.videos.remix(finished.id, prompt="the same circle, at night")
    done = client.videos.poll(remix.id, poll_interval_ms=200)
    assert done.status == "completed" and done.remixed_from_video_id == finished.id


def test_delete_then_retrieve_is_not_found(client):
    video = client.videos.create(prompt="to be deleted", size="720x1280")
    deleted = client.videos.delete(video.id)
    assert deleted.deleted and deleted.object == "video.deleted" and deleted.id == video.id
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"prompt": "x", "seconds": "5"}, '"4", "8", "12"'),
        ({"prompt": "x", "size": "640x480"}, "size must be one of"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 32_001}, "32,000"),
    ],
)
def test_bad_requests_raise_bad_request_error(client, kwargs, needle):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(openai.BadRequestError) as info:
            client.videos.create(**kwargs)
    assert needle in info.value.message
    assert info.value.body["code"] and info.value.body["message"]


def test_unknown_id_raises_not_found(client):
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("video_does_not_exist")


def test_wrong_key_raises_authentication_error(server, keys):
    # Once keys exist (before, keyless loopback reads any token as no key).
    bad = openai.OpenAI(base_url=f"{server.url}/v1", api_key="mts_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.videos.list()


def test_other_users_cannot_see_or_delete(server, keys, finished):
    bob = openai.OpenAI(base_url=f"{server.url}/v1", api_key=keys["bob"], max_retries=0)
    with pytest.raises(openai.NotFoundError):
        bob.videos.retrieve(finished.id)
    with pytest.raises(openai.NotFoundError):
        bob.videos.delete(finished.id)
    with pytest.raises(openai.NotFoundError):
        bob.videos.download_content(finished.id)


def test_models_lists_backends_and_aliases(client):
    ids = {m.id for m in client.models.list()}
    assert {"mutoscope-test", "sora-2"} <= ids


def test_the_readme_placeholder_key_works_on_a_fresh_loopback_server(tmp_path):
    from tests.e2e.conftest import make_server

    srv = make_server(tmp_path)
    srv.start()
    try:
        readme = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="mts_...", max_retries=0)
        assert readme.videos.list().data == []
        srv.cli("keys", "create")
        with pytest.raises(openai.AuthenticationError):
            readme.videos.list()
    finally:
        srv.stop()
