"""``client.videos.edit`` and ``client.videos.extend`` of the official ``openai`` SDK against a
real ``mutoscope serve`` process running the embedded model (and two Wan entries whose
checkpoints hold only ``model_index.json``: enough to be listed and to refuse at accept time)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openai
import pytest

from mutoscope.media import decode_mp4, encode_mp4, probe, read_audio
from mutoscope.media.audio import AudioTrack
from mutoscope.models.tiny.detector import detect

from .conftest import Server, make_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]

TINY = "mutoscope-tiny"
PARENT_PROMPT = "a blue triangle bouncing on an orange background"


def _wan_entry(home: Path, model_id: str, pipeline: str) -> str:
    ckpt = home / model_id
    ckpt.mkdir(parents=True)
    (ckpt / "model_index.json").write_text(json.dumps({"_class_name": pipeline}))
    return f'[[models]]\nid = "{model_id}"\nfamily = "wan"\npath = "{ckpt}"\ndevice = "cpu"\n'


@pytest.fixture(scope="module")
def edits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("edits")
    models = root / "models.toml"
    models.write_text(
        _wan_entry(root, "wan-t2v", "WanPipeline")
        + _wan_entry(root, "wan-i2v", "WanImageToVideoPipeline")
    )
    srv = make_server(root, MUTOSCOPE_MODELS_FILE=str(models))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(edits_server: Server) -> openai.OpenAI:
    key = edits_server.cli("keys", "create", "--user", "alice", "--name", "sdk")
    return openai.OpenAI(base_url=f"{edits_server.url}/v1", api_key=key, max_retries=0)


@pytest.fixture(scope="module")
def parent(client: openai.OpenAI) -> openai.types.Video:
    video = client.videos.create_and_poll(
        prompt=PARENT_PROMPT,
        model=TINY,
        seconds="4",
        size="256x256",
        extra_body={"seed": 11},
        poll_interval_ms=100,
    )
    assert video.status == "completed", video.error
    return video


@pytest.fixture(scope="module")
def parent_frames(client: openai.OpenAI, parent: openai.types.Video) -> np.ndarray:
    return decode_mp4(client.videos.download_content(parent.id).read())


def _ref(extra: dict | None = None, **video: str) -> dict:
    """A stored video (``id=``) or a /v1/files upload (``file_id=``) as SDK keyword arguments.

    openai 3.54's ``edit``/``extend`` refuse a dict in ``video`` before sending it (they
    expect a file there), so the reference travels in ``extra_body``: the SDK sends it as the
    multipart field ``video[id]``, exactly what it would send once fixed."""
    return {"video": openai.omit, "extra_body": {**(extra or {}), "video": video}}


def _done(client: openai.OpenAI, video: openai.types.Video) -> openai.types.Video:
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert done.status == "completed", done.error
    return done


def _frames(client: openai.OpenAI, video_id: str) -> np.ndarray:
    return decode_mp4(client.videos.download_content(video_id).read())


def _mp4(tmp_path: Path, frames: np.ndarray, fps: float, audio: AudioTrack | None = None) -> bytes:
    path = tmp_path / "upload.mp4"
    encode_mp4(frames, path, fps=fps, audio=audio)
    return path.read_bytes()


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.astype(float).mean(-1).ravel(), b.astype(float).mean(-1).ravel()
    return float(np.corrcoef(x, y)[0, 1])


# -- extensions ------------------------------------------------------------------------------


def test_extend_continues_the_parent_and_reports_the_stitched_total(
    client: openai.OpenAI, parent: openai.types.Video, parent_frames: np.ndarray
):
    queued = client.videos.extend(prompt=PARENT_PROMPT, seconds="4", **_ref(id=parent.id))
    assert queued.seconds == "8"  # the SDK documents the stitched total
    done = _done(client, queued)
    assert (done.seconds, done.remixed_from_video_id, done.size) == ("8", parent.id, "256x256")

    data = client.videos.download_content(done.id).read()
    info = probe(data)
    assert info.frame_count == 192 and abs(info.duration - float(done.seconds)) < 1 / 24
    frames = decode_mp4(data)
    n = len(parent_frames)
    # The parent is kept (re-encoded and re-marked, so close rather than equal) ...
    assert np.abs(frames[:n].astype(int) - parent_frames.astype(int)).mean() < 6
    # ... and the first new frame follows the parent's last one (the triangle is on the floor
    # there), far closer to it than a frame half a second on (the triangle in the air).
    seam = np.abs(frames[n].astype(int) - frames[n - 1].astype(int)).mean()
    unrelated = np.abs(frames[n + 12].astype(int) - frames[n - 1].astype(int)).mean()
    assert seam < 8 and seam < unrelated / 2, (seam, unrelated)
    # The continuation is still the same scene: blue triangle, orange backdrop.
    seen = detect(frames[n:])
    assert seen.background == "orange", seen
    assert [(o.color, o.shape) for o in seen.objects] == [("blue", "triangle")], seen


def test_extend_an_uploaded_clip_at_another_frame_rate(client: openai.OpenAI, tmp_path: Path):
    # 2 s at 30 fps, 256x256: a green square on white, moving right, with a 440 Hz tone.
    clip = np.full((60, 256, 256, 3), 245, np.uint8)
    for i in range(60):
        x = 40 + 2 * i
        clip[i, 100:156, x : x + 56] = (30, 170, 50)
    t = np.arange(2 * 48_000) / 48_000
    tone = AudioTrack((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48_000)
    queued = client.videos.extend(
        prompt="a green square moving right on a white background",
        seconds="4",
        video=("clip.mp4", _mp4(tmp_path, clip, 30.0, tone), "video/mp4"),
        extra_body={"model": TINY},
    )
    assert queued.seconds == "6" and queued.size == "256x256"
    assert queued.remixed_from_video_id is None
    done = _done(client, queued)
    data = client.videos.download_content(done.id).read()
    info = probe(data)
    # Re-timed to the model's 24 fps: 2 s stay 2 s (48 frames), then 4 s (96 frames).
    assert info.frame_count == 48 + 96 and abs(info.duration - 6.0) < 1 / 24
    assert done.seconds == "6"
    frames = decode_mp4(data)
    assert np.abs(frames[47].astype(int) - clip[59].astype(int)).mean() < 6
    seam = np.abs(frames[48].astype(int) - frames[47].astype(int)).mean()
    assert seam < 10, seam
    # The upload's sound plays under its 2 s, then the new segment's: 6 s of sound in all.
    sound = read_audio(data)
    assert sound is not None and abs(sound.samples.shape[1] / sound.sample_rate - 6.0) < 0.05
    first = sound.samples[0, : 2 * sound.sample_rate]
    spectrum = np.abs(np.fft.rfft(first))
    assert abs(np.argmax(spectrum) * sound.sample_rate / len(first) - 440) < 5


def test_extend_a_clip_uploaded_to_files(client: openai.OpenAI, tmp_path: Path):
    clip = np.full((24, 128, 128, 3), (30, 70, 230), np.uint8)
    clip[:, 40:88, 40:88] = (245, 225, 30)
    uploaded = client.files.create(
        file=("clip.mp4", _mp4(tmp_path, clip, 24.0), "video/mp4"), purpose="user_data"
    )
    queued = client.videos.extend(
        prompt="a yellow square growing on a blue background",
        seconds="4",
        **_ref({"model": TINY}, file_id=uploaded.id),
    )
    assert queued.seconds == "5"
    done = _done(client, queued)
    assert probe(client.videos.download_content(done.id).read()).frame_count == 24 + 96


def test_extend_refuses_a_model_that_cannot_continue(client: openai.OpenAI, tmp_path: Path):
    clip = np.full((24, 480, 832, 3), 128, np.uint8)
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.extend(
            prompt="more",
            seconds="4",
            video=("clip.mp4", _mp4(tmp_path, clip, 16.0), "video/mp4"),
            extra_body={"model": "wan-t2v"},
        )
    body = err.value.body
    assert body["code"] == "extend_unsupported" and body["param"] == "video"  # type: ignore[index]
    assert "cannot extend videos" in body["message"]  # type: ignore[index]
    # An image-to-video checkpoint continues from the last frame, so it is accepted.
    models = {m.id: m for m in client.models.list()}
    assert models["wan-i2v"].model_extra["continues"] is True  # type: ignore[index]
    assert models["wan-t2v"].model_extra["continues"] is False  # type: ignore[index]


def test_extend_refuses_what_it_cannot_use(client: openai.OpenAI, parent: openai.types.Video):
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.extend(
            prompt="more", seconds="4", video=("x.mp4", b"not a video", "video/mp4")
        )
    assert err.value.body["param"] == "video"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.extend(prompt="more", seconds="5", **_ref(id=parent.id))
    assert err.value.body["param"] == "seconds"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.videos.extend(prompt="more", seconds="4", **_ref(id="video_nope"))


# -- edits -----------------------------------------------------------------------------------


def test_edit_by_id_keeps_the_structure_and_follows_the_prompt(
    client: openai.OpenAI, parent: openai.types.Video, parent_frames: np.ndarray
):
    queued = client.videos.edit(
        prompt="a red triangle bouncing on an orange background", **_ref(id=parent.id)
    )
    done = _done(client, queued)
    assert (done.remixed_from_video_id, done.size, done.seconds) == (parent.id, "256x256", "4")
    edited = _frames(client, done.id)
    assert edited.shape == parent_frames.shape
    # Different: the triangle changed colour ...
    seen = detect(edited)
    assert [(o.color, o.shape) for o in seen.objects] == [("red", "triangle")], seen
    assert seen.background == "orange"
    assert np.abs(edited.astype(int) - parent_frames.astype(int)).mean() > 2
    # ... same structure: where things are, frame by frame, still matches the source.
    assert _correlation(edited, parent_frames) > 0.6


def test_edit_an_upload(client: openai.OpenAI, tmp_path: Path):
    clip = np.full((96, 256, 256, 3), (245, 245, 245), np.uint8)
    for i in range(96):
        y = 40 + i
        clip[i, y : y + 50, 100:150] = (30, 70, 230)
    source = _mp4(tmp_path, clip, 24.0)
    done = _done(
        client,
        client.videos.edit(
            prompt="a purple square moving down on a white background",
            video=("clip.mp4", source, "video/mp4"),
            extra_body={"model": TINY, "strength": 0.8},
        ),
    )
    assert done.remixed_from_video_id is None and (done.size, done.seconds) == ("256x256", "4")
    edited = _frames(client, done.id)
    seen = detect(edited)
    assert seen.background == "white" and [o.color for o in seen.objects] == ["purple"], seen


def test_edit_refusals_are_openai_shaped(client: openai.OpenAI, parent: openai.types.Video):
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.edit(prompt="as a painting", **_ref({"model": "wan-i2v"}, id=parent.id))
    body = err.value.body
    assert (body["code"], body["param"]) == ("edit_unsupported", "model")  # type: ignore[index]
    assert "accepts_video" in body["message"]  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as err:
        client.videos.edit(prompt="x", **_ref({"strength": 1.5}, id=parent.id))
    assert err.value.body["param"] == "strength"  # type: ignore[index]
