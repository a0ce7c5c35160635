"""A character's reference frames and its look, read from the video it was made from.

Reference frames are kept for every backend (image-to-video ones take the first as the
image). The look is the character in the embedded model's words: the backdrop is found
from the frame edges, the foreground segmented against it, and its colour and shape
matched to the nearest of the tiny model's palette and shapes (``models.tiny.detector``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mutoscope.errors import InvalidRequest

MIN_SECONDS, MAX_SECONDS = 2.0, 10.0
REFERENCE_FRAMES = 4
"""Evenly spaced frames kept per character."""
LOOK_FRAMES = 16
"""Evenly spaced frames the look is read from (the detector's backdrop runs)."""
MAX_SIDE = 512
"""Reference frames are scaled down to at most this many pixels on their longer side."""
MAX_DECODED = 600
"""Frames decoded at most (10 s at 60 fps): a longer clip is refused without decoding on."""


@dataclass(frozen=True)
class CharacterVideo:
    frames: list[Image.Image]
    """The reference frames (RGB)."""
    duration: float
    look: dict[str, str]


def read_character_video(data: bytes) -> CharacterVideo:
    """Decode an uploaded character video (2-10 s), keep reference frames, read its look."""
    frames, fps = _decode(data)
    duration = len(frames) / fps
    if not MIN_SECONDS <= duration <= MAX_SECONDS + 1e-6:
        longer = " or longer" if len(frames) >= MAX_DECODED else ""
        raise InvalidRequest(
            f"video must be 2 to 10 seconds long (got {duration:.1f} s{longer}); "
            "trim it to a short clip that shows the character clearly",
            param="video",
        )
    picks = np.linspace(0, len(frames) - 1, REFERENCE_FRAMES).round().astype(int)
    chosen = [frames[i] for i in dict.fromkeys(picks.tolist())]
    sampled = np.linspace(0, len(frames) - 1, LOOK_FRAMES).round().astype(int)
    seen = np.stack([frames[i] for i in dict.fromkeys(sampled.tolist())])
    return CharacterVideo([_small(f) for f in chosen], duration, read_look(seen))


def _decode(data: bytes) -> tuple[list[np.ndarray], float]:
    import av

    frames: list[np.ndarray] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidRequest("video has no video track", param="video")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 24)
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
                if len(frames) >= MAX_DECODED:
                    break
    except InvalidRequest:
        raise
    except Exception as exc:
        raise InvalidRequest(
            "video could not be decoded; upload an MP4 (H.264), WebM or MOV clip of 2 to 10 "
            "seconds",
            param="video",
        ) from exc
    if not frames:
        raise InvalidRequest("video has no frames that could be decoded", param="video")
    return frames, fps


def _small(frame: np.ndarray) -> Image.Image:
    img = Image.fromarray(frame).convert("RGB")
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    return img


def read_look(frames: np.ndarray) -> dict[str, str]:
    """The main subject's colour and shape and the backdrop, in the tiny model's words.

    The subject is judged over the whole clip, not against one backdrop: a clip whose
    backdrop changes (an extension that moves from green to yellow) is read in runs of
    frames that share a backdrop, and the subject seen in most frames wins (a changed
    backdrop is otherwise taken for a huge foreground "square"). The backdrop reported is
    the one behind the subject for most of the clip (the first on a tie)."""
    from mutoscope.models.tiny import detector

    # The embedded model draws on a centred square canvas and extends the backdrop to the
    # clip's aspect; squeezing a 720x1280 frame into the detector's 64x64 would stretch a
    # circle into a diamond. Its centre square keeps every shape's proportions.
    square = _centre_square(frames)
    votes: dict[tuple[str, str], int] = {}
    backdrops: dict[str, int] = {}
    for run in _backdrop_runs(square):
        found = detector.detect(run, max_objects=1)
        backdrops[found.background] = backdrops.get(found.background, 0) + len(run)
        if found.objects:
            key = (found.objects[0].color, found.objects[0].shape)
            votes[key] = votes.get(key, 0) + len(run)
    background = max(backdrops, key=lambda b: backdrops[b])  # dicts keep the first on ties
    if not votes:
        return {"background": background}
    color, shape = max(votes, key=lambda k: votes[k])
    return {"color": color, "shape": shape, "background": background}


def _backdrop_runs(frames: np.ndarray) -> list[np.ndarray]:
    """``frames`` split into runs of consecutive frames that share a backdrop (one run for
    the usual clip)."""
    from mutoscope.models.tiny import detector

    if len(frames) > LOOK_FRAMES:
        frames = frames[np.linspace(0, len(frames) - 1, LOOK_FRAMES).round().astype(int)]
    each = [detector.detect(f[None], max_objects=0).background for f in frames]
    runs, start = [], 0
    for i in range(1, len(frames) + 1):
        if i == len(frames) or each[i] != each[start]:
            runs.append(frames[start:i])
            start = i
    return runs


def _centre_square(frames: np.ndarray) -> np.ndarray:
    height, width = frames.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return frames[:, top : top + side, left : left + side]


def look_of(references: tuple[Image.Image, ...] | list[Image.Image]) -> dict[str, str]:
    """``read_look`` over reference images (what a backend receives)."""
    if not references:
        return {}
    size = references[0].size
    arrays = [np.asarray(r.convert("RGB").resize(size)) for r in references]
    return read_look(np.stack(arrays))


def strip(frames: list[Image.Image]) -> bytes:
    """The frames side by side as one PNG (how they are stored)."""
    width, height = frames[0].size
    canvas = Image.new("RGB", (width * len(frames), height))
    for i, frame in enumerate(frames):
        canvas.paste(frame.resize((width, height)), (i * width, 0))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()


def unstrip(data: bytes, count: int) -> tuple[Image.Image, ...]:
    """The frames ``strip`` stored."""
    with Image.open(io.BytesIO(data)) as img:
        canvas = img.convert("RGB")
    width = canvas.width // max(1, count)
    return tuple(canvas.crop((i * width, 0, (i + 1) * width, canvas.height)) for i in range(count))


def describe(look: dict[str, str]) -> str:
    """``red circle`` (the words the tiny model draws the character with), or ``""``."""
    if not look.get("color") or look.get("shape") in (None, "none"):
        return ""
    return f"{look['color']} {look['shape']}"
