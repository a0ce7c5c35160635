"""Per-request options (``extra_body``) and retention (``expires_at``) through the official
``openai`` SDK against a real ``mutoscope serve`` process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import openai
import pytest

from mutoscope.media import decode_mp4

from .conftest import Server, make_server

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]

TINY = {"model": "mutoscope-tiny", "size": "64x64", "seconds": "4"}


@pytest.fixture(scope="module")
def options_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # No watermark, so two videos made with the same seed and options are the same pixels.
    srv = make_server(
        tmp_path_factory.mktemp("options"), MUTOSCOPE_WATERMARK="false", MUTOSCOPE_WORKERS="2"
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(options_server: Server) -> openai.OpenAI:
    key = options_server.cli("keys", "create", "--user", "opal", "--name", "sdk")
    return openai.OpenAI(base_url=f"{options_server.url}/v1", api_key=key, max_retries=0)


def _frames(client: openai.OpenAI, video_id: str) -> np.ndarray:
    return decode_mp4(client.videos.download_content(video_id).read())


def _refused(client: openai.OpenAI, **extra: object) -> dict:
    """The OpenAI-shaped error (``{"message", "type", "param", "code"}``) of a 400."""
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.create(prompt="a red circle bouncing", **TINY, extra_body=extra)  # type: ignore[arg-type]
    assert err.value.status_code == 400
    body = err.value.body  # the SDK unwraps {"error": {...}}
    assert isinstance(body, dict) and {"message", "type", "param", "code"} <= set(body)
    return body


def test_steps_and_seed_reach_the_embedded_model(client: openai.OpenAI) -> None:
    prompt = "a red circle bouncing on a blue background"
    jobs = [
        client.videos.create(prompt=prompt, **TINY, extra_body={"seed": 11, "steps": steps})  # type: ignore[arg-type]
        for steps in (2, 2, 3)
    ]
    done = [client.videos.poll(job.id, poll_interval_ms=100) for job in jobs]
    assert [v.status for v in done] == ["completed"] * 3, done

    # The options are recorded on the video and shown by the API.
    assert done[0].model_extra is not None
    assert done[0].model_extra["options"] == {"steps": 2}
    assert done[2].model_extra["options"] == {"steps": 3}  # type: ignore[index]
    first, again, more_steps = (_frames(client, v.id) for v in done)
    assert np.array_equal(first, again)  # same seed, same options: the same clip
    assert np.abs(first.astype(int) - more_steps.astype(int)).mean() > 1.0


def test_preset_fast_is_a_named_bundle_on_the_embedded_model(client: openai.OpenAI) -> None:
    video = client.videos.create_and_poll(
        prompt="a green square sliding", **TINY, extra_body={"preset": "fast"}, poll_interval_ms=100
    )
    assert video.status == "completed", video
    assert video.model_extra is not None
    assert video.model_extra["options"] == {"preset": "fast"}


def test_out_of_range_values_are_refused_naming_the_param(client: openai.OpenAI) -> None:
    error = _refused(client, steps=0)
    assert error["param"] == "steps" and "from 1 to 200" in error["message"]
    assert error["type"] == "invalid_request_error"
    assert _refused(client, guidance="lots")["param"] == "guidance"
    assert _refused(client, guidance=51)["param"] == "guidance"
    assert _refused(client, steps=2.5)["param"] == "steps"


def test_options_the_model_does_not_take_are_refused_clearly(client: openai.OpenAI) -> None:
    lora = _refused(client, lora="film-grain:0.8")
    assert lora["param"] == "loras"
    assert "mutoscope-tiny' cannot apply LoRAs" in lora["message"]
    assert "models.toml" in lora["message"]
    negative = _refused(client, negative_prompt="blurry")
    assert negative["param"] == "negative_prompt"
    assert "it takes steps, guidance, preset" in negative["message"]
    preset = _refused(client, preset="cinematic")
    assert preset["param"] == "preset" and '"fast"' in preset["message"]
    # A list of LoRA objects survives the SDK's multipart encoding well enough to be judged.
    listed = _refused(client, loras=[{"name": "a", "scale": 0.5}, {"name": "b", "scale": 1}])
    assert listed["param"] == "loras"


def test_models_say_which_options_presets_and_loras_they_take(client: openai.OpenAI) -> None:
    tiny = client.models.retrieve("mutoscope-tiny").model_extra or {}
    assert tiny["options"] == ["steps", "guidance", "preset"]
    assert tiny["presets"] == ["fast"] and tiny["loras"] == []
    test = client.models.retrieve("mutoscope-test").model_extra or {}
    assert test["options"] == ["steps", "guidance", "negative_prompt"]


def test_json_body_carries_the_same_options(options_server: Server, client: openai.OpenAI) -> None:
    import httpx

    r = httpx.post(
        f"{options_server.url}/v1/videos",
        headers={"Authorization": f"Bearer {client.api_key}"},
        json={
            "prompt": "a test pattern",
            "model": "mutoscope-test",
            "size": "320x180",
            "steps": 3,
            "guidance": 4.5,
            "negative_prompt": "noise",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["options"] == {"steps": 3, "guidance": 4.5, "negative_prompt": "noise"}
    bad = httpx.post(
        f"{options_server.url}/v1/videos",
        headers={"Authorization": f"Bearer {client.api_key}"},
        json={"prompt": "x", "model": "mutoscope-test", "loras": [{"name": "a", "power": 2}]},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "loras"


def test_remix_keeps_the_parents_options_unless_overridden(client: openai.OpenAI) -> None:
    parent = client.videos.create_and_poll(
        prompt="a test pattern",
        model="mutoscope-test",
        size="320x180",
        extra_body={"steps": 3, "negative_prompt": "noise"},
        poll_interval_ms=100,
    )
    assert parent.status == "completed"
    remix = client.videos.remix(parent.id, prompt="another pattern", extra_body={"steps": 5})
    assert remix.model_extra is not None
    assert remix.model_extra["options"] == {"steps": 5, "negative_prompt": "noise"}


# -- retention -----------------------------------------------------------------------------

TTL = 3


@pytest.fixture(scope="module")
def retention_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(
        tmp_path_factory.mktemp("retention"),
        MUTOSCOPE_VIDEO_TTL_SECONDS=str(TTL),
        MUTOSCOPE_RETENTION_SWEEP_SECONDS="0.2",
    )
    srv.start()
    yield srv
    srv.stop()


def test_videos_expire_their_files_are_swept_and_downloads_say_so(
    retention_server: Server,
) -> None:
    key = retention_server.cli("keys", "create", "--user", "rita", "--name", "sdk")
    client = openai.OpenAI(base_url=f"{retention_server.url}/v1", api_key=key, max_retries=0)
    video = client.videos.create_and_poll(
        prompt="a pattern", model="mutoscope-test", size="320x180", poll_interval_ms=100
    )
    assert video.status == "completed"
    assert video.expires_at == video.completed_at + TTL  # type: ignore[operator]
    assert client.videos.download_content(video.id).read()[4:8] == b"ftyp"
    media = retention_server.home / "media" / video.id[-2:] / video.id
    assert media.is_dir()

    time.sleep(max(0.0, video.expires_at - time.time()) + 0.1)  # type: ignore[operator]
    with pytest.raises(openai.APIStatusError) as err:
        client.videos.download_content(video.id)
    assert err.value.status_code == 410
    error = err.value.body
    assert error["code"] == "video_expired" and error["param"] == "video_id"
    assert "expired at" in error["message"]
    with pytest.raises(openai.APIStatusError) as thumb:
        client.videos.download_content(video.id, variant="thumbnail")
    assert thumb.value.status_code == 410
    with pytest.raises(openai.APIStatusError) as remix:
        client.videos.remix(video.id, prompt="again")
    assert remix.value.status_code == 410

    deadline = time.time() + 20
    while media.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not media.exists(), "the sweep did not delete the expired video's files"
    # The record stays, with its expires_at, so the API can still say what happened.
    assert client.videos.retrieve(video.id).expires_at == video.expires_at
