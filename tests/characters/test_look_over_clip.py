"""A character's look is its subject over the whole clip, not one frame's backdrop."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mutoscope.characters import look
from mutoscope.media import encode_mp4
from mutoscope.models.tiny import world


def _scene(backdrop: str, motion: str, frames: int) -> np.ndarray:
    scene = world.Scene((world.ObjectSpec("red", "circle", motion),), backdrop)
    return world.render(scene, frames=frames, res=128)


def test_a_clip_whose_backdrop_changes_keeps_its_subject() -> None:
    # An 8-s extension: 4 s over green, then 4 s over yellow, one red circle throughout.
    frames = np.concatenate([_scene("green", "right", 96), _scene("yellow", "left", 96)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extended.mp4"
        encode_mp4(frames, path, fps=24)
        clip = look.read_character_video(path.read_bytes())
    assert clip.look == {"color": "red", "shape": "circle", "background": "green"}
    assert look.describe(clip.look) == "red circle"
    # The stored reference frames read the same way (what a backend sees).
    assert look.look_of(clip.frames)["shape"] == "circle"


def test_a_subject_seen_in_most_frames_wins_over_a_short_backdrop_change() -> None:
    frames = np.concatenate([_scene("blue", "up", 60), _scene("white", "up", 12)])
    assert look.read_look(frames) == {"color": "red", "shape": "circle", "background": "blue"}
