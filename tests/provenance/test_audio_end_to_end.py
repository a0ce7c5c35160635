"""Sound through the real app and worker: the MP4 carries AAC that lasts as long as the
frames, and signing, the watermark, verify, remix and extend all keep it."""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from mutoscope.config import Settings
from mutoscope.media import read_audio
from tests.provenance.test_end_to_end import finish

FRAME = 1 / 24


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    from mutoscope.api.app import create_app
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullRights

    test_settings = settings.model_copy(
        update={"enable_test_backend": True, "default_model": "mutoscope-test"}
    )
    services = build_services(
        test_settings,
        backends=load_backends(test_settings, hooks=[register_backends]),
        rights=NullRights(),
    )
    with TestClient(create_app(test_settings, services=services, keyless=True)) as client:
        yield client
    services.close()


def streams(data: bytes) -> dict[str, tuple[str, float, int]]:
    """codec, seconds (decoded, not declared) and sample rate of each stream."""
    import io

    out: dict[str, tuple[str, float, int]] = {}
    with av.open(io.BytesIO(data)) as c:
        video = c.streams.video[0]
        out["video"] = (video.codec_context.name, video.frames / 24, 0)
        if c.streams.audio:
            audio = c.streams.audio[0]
            rate = audio.codec_context.sample_rate
            declared = float(audio.duration * audio.time_base)
            decoded = sum(f.samples for f in c.decode(audio=0)) / rate
            # the decoder may hand back the last AAC block's padding (< 1024 samples)
            assert 0 <= decoded - declared < 1024 / rate
            out["audio"] = (audio.codec_context.name, declared, rate)
    return out


def pitches(track: np.ndarray, rate: int, window: float = 0.25) -> np.ndarray:
    """The dominant frequency (Hz) of each ``window`` of a mono signal."""
    n = int(window * rate)
    chunks = track[: len(track) // n * n].reshape(-1, n)
    return np.abs(np.fft.rfft(chunks, axis=1)).argmax(axis=1) / window


def make(client: TestClient, path: str, body: dict) -> tuple[dict, bytes]:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    video = finish(client, r.json()["id"])
    return video, client.get(f"/v1/videos/{video['id']}/content").content


def test_video_carries_aac_as_long_as_its_frames_and_stays_signed(app_client: TestClient) -> None:
    video, data = make(app_client, "/v1/videos", {"prompt": "a red square", "size": "320x180"})

    found = streams(data)
    assert found["video"][0] == "h264" and found["audio"][0] == "aac"
    assert found["audio"][2] == 48_000
    assert abs(found["audio"][1] - found["video"][1]) <= FRAME
    report = app_client.post("/v1/provenance/verify", files={"file": ("v.mp4", data)}).json()
    assert report["c2pa"]["valid"] and report["c2pa"]["trusted"]
    assert report["watermark"]["found"] and report["record"]["video_id"] == video["id"]
    audio = report["streams"]["audio"]
    assert audio["codec"] == "aac" and audio["sample_rate"] == 48_000
    assert abs(audio["duration"] - report["streams"]["video"]["duration"]) <= FRAME


def test_remix_and_extension_keep_sound_and_extension_starts_with_the_parents(
    app_client: TestClient,
) -> None:
    parent, parent_data = make(
        app_client, "/v1/videos", {"prompt": "a red square", "size": "320x180"}
    )
    _, remix_data = make(app_client, f"/v1/videos/{parent['id']}/remix", {"prompt": "blue"})
    assert streams(remix_data)["audio"][0] == "aac"

    _, child_data = make(
        app_client,
        "/v1/videos/extensions",
        {"video": {"id": parent["id"]}, "prompt": "a green square", "seconds": "4"},
    )
    found = streams(child_data)
    assert abs(found["video"][1] - 8.0) <= FRAME
    assert abs(found["audio"][1] - found["video"][1]) <= FRAME
    report = app_client.post("/v1/provenance/verify", files={"file": ("e.mp4", child_data)}).json()
    assert report["c2pa"]["trusted"]  # (the stitch's watermark is checked elsewhere)
    # the first four seconds sound like the parent, then the new segment's tone follows
    before, after = read_audio(parent_data), read_audio(child_data)
    assert before is not None and after is not None
    rate = after.sample_rate
    theirs = pitches(before.samples[0], rate)
    ours = pitches(after.samples[0], rate)
    # (a window where the tone glides has two near-equal peaks: allow a few to differ)
    assert (np.abs(ours[: len(theirs)] - theirs) <= 8).mean() >= 0.8
    tail = after.samples[0, before.length :]
    assert float(np.sqrt(np.mean(tail**2))) > 0.03  # the new segment's tone, not silence


def test_an_undecodable_parent_sound_is_left_out_not_fatal(tmp_path) -> None:
    from mutoscope.worker.run import _sound_of

    junk = tmp_path / "parent.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    assert _sound_of(junk) is None
