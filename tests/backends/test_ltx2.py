"""LTX-2 backend on a tiny saved checkpoint: video with its soundtrack, image-to-video and
extend through the condition pipeline, all on one set of weights."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutoscope.media.audio import AudioTrack
from tests.backends.conftest import Progress, parent_clip, request


def test_text_to_video_returns_frames_and_their_soundtrack(load_backend) -> None:
    backend = load_backend("ltx2")
    assert backend.accepts_image and backend.accepts_video
    progress = Progress()

    video = backend.generate(request(size="32x32", seconds="4"), progress)

    # 4 s at 2 fps: 9 frames generated (8k+1), 8 kept; the sound is trimmed to the same 4 s.
    assert video.frames.shape == (8, 32, 32, 3) and video.fps == 2
    assert isinstance(video.audio, AudioTrack)
    assert video.audio.sample_rate == 400  # the tiny vocoder's rate
    assert video.audio.channels == 2
    assert video.audio.duration == video.duration == 4.0
    assert np.abs(video.audio.samples).max() > 0
    assert progress.values[-1] == 1.0 and len(progress.values) == 3


@pytest.mark.slow
def test_image_to_video_uses_the_reference_and_audio_can_be_turned_off(load_backend) -> None:
    backend = load_backend("ltx2")
    red = Image.new("RGB", (64, 64), (255, 0, 0))
    blue = Image.new("RGB", (64, 64), (0, 0, 255))
    quiet = {"audio": False}

    from_red = backend.generate(request(size="32x32", image=red, options=quiet), Progress())
    from_blue = backend.generate(request(size="32x32", image=blue, options=quiet), Progress())

    assert from_red.frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(from_red.frames, from_blue.frames)
    assert from_red.audio is None
    assert backend.pool.loads[backend.name] == 1


@pytest.mark.slow
def test_extend_continues_from_the_parent_tail_with_sound_for_the_new_frames(
    load_backend,
) -> None:
    backend = load_backend("ltx2")
    extend = dict(size="32x32", mode="extend", seed=5)

    after_a = backend.generate(
        request(source_video=parent_clip(size=32, seed=1), **extend), Progress()
    )
    after_b = backend.generate(
        request(source_video=parent_clip(size=32, seed=2), **extend), Progress()
    )

    # 9 + 9 - 1 frames generated with the parent's tail first; the tail is dropped.
    assert after_a.frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(after_a.frames, after_b.frames)
    assert after_a.audio is not None and after_a.audio.duration == after_a.duration


@pytest.mark.slow
def test_mutoscope_generate_writes_ltx2_sound_into_the_mp4(tmp_path, write_models) -> None:
    """The full stack (rights, watermark, encode, C2PA) keeps LTX-2's soundtrack: the MP4 has an
    AAC track as long as its 4 s of video."""
    import json

    from typer.testing import CliRunner

    from mutoscope.cli import app
    from mutoscope.media.video import decode_mp4, read_audio

    write_models(("tiny-ltx2", "ltx2", {}))
    out = tmp_path / "clip.mp4"
    args = ["generate", "a robot dancing", "--model", "tiny-ltx2", "--size", "32x32"]
    result = CliRunner().invoke(app, [*args, "-o", str(out), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{") :])["status"] == "completed"
    assert decode_mp4(out).shape == (8, 32, 32, 3)
    sound = read_audio(out)
    assert sound is not None and sound.sample_rate == 48_000
    assert sound.duration == pytest.approx(4.0, abs=0.03)
    assert np.abs(sound.samples).max() > 0
