"""``mutoscope-tiny`` extensions: the new frames continue the clip's tail, not a fresh clip."""

from __future__ import annotations

import numpy as np
import pytest

from mutoscope.models.tiny import world
from mutoscope.models.tiny.detector import detect
from mutoscope.models.tiny.pipeline import TinyPipeline, context_keyframes

PROMPT = "a blue triangle bouncing on an orange background"


@pytest.fixture(scope="module")
def pipe() -> TinyPipeline:
    return TinyPipeline.from_file()


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_context_keyframes_end_on_the_clips_last_frame() -> None:
    clip = np.stack([np.full((64, 64, 3), i, np.uint8) for i in range(24)])
    keys = context_keyframes(clip, 96)
    # 96 new frames over the remaining 14 keyframes: keyframes ~7 frames apart
    assert keys.shape == (2, world.RES, world.RES, 3)
    assert keys[-1].mean() == 23 and keys[0].mean() == 23 - round(96 / 14)


def test_extension_starts_where_the_clip_ends(pipe: TinyPipeline) -> None:
    prompt = "a red circle moving right on a white background"
    parent = pipe(prompt, seed=3, num_frames=96, width=128, height=72).frames
    fresh = pipe(prompt, seed=5, num_frames=96, width=128, height=72).frames
    new = pipe(prompt, seed=5, num_frames=96, width=128, height=72, context=parent[-24:]).frames

    assert new.shape == (96, 72, 128, 3)
    # The circle ended on the right: the extension starts there, a fresh clip on the left.
    assert _diff(new[0], parent[-1]) < 6, _diff(new[0], parent[-1])
    assert _diff(fresh[0], parent[-1]) > 2 * _diff(new[0], parent[-1])


def test_a_bounce_keeps_bouncing(pipe: TinyPipeline) -> None:
    parent = pipe(PROMPT, seed=3, num_frames=96, width=128, height=72).frames
    new = pipe(PROMPT, seed=5, num_frames=96, width=128, height=72, context=parent[-24:]).frames
    assert _diff(new[0], parent[-1]) < 6
    seen = detect(np.concatenate([parent, new]))  # one 8-second clip, bouncing throughout
    assert seen.background == "orange"
    assert [(o.color, o.shape, o.motion) for o in seen.objects] == [("blue", "triangle", "bounce")]
