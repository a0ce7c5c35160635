"""Character clips for tests: a shapes-world subject over a blue backdrop, as MP4 bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mutoscope.media import encode_mp4
from mutoscope.models.tiny import world


def character_clip(color: str = "red", shape: str = "circle", seconds: float = 3.0) -> bytes:
    """A ``color`` ``shape`` moving right over blue for ``seconds``, 128x128 at 24 fps."""
    scene = world.Scene((world.ObjectSpec(color, shape, "right"),), "blue")
    frames = world.render(scene, frames=round(seconds * 24), res=128)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "character.mp4"
        encode_mp4(frames, path, fps=24)
        return path.read_bytes()
