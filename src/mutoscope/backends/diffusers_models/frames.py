"""Sizes and frames: which native size serves a requested one, and fitting images and clips
to a size without stretching."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from mutoscope.backends.base import OPENAI_SIZES, GenerationRequest
from mutoscope.errors import InvalidRequest

if TYPE_CHECKING:
    from PIL import Image


def reference_image(request: GenerationRequest) -> Image.Image:
    """The request's reference image, else a character's first reference frame, else the
    parent video's first frame (remix) or last frame (extend), for image-to-video models."""
    from PIL import Image

    if request.image is not None:
        return request.image
    if request.references:
        return request.references[0]  # a character's first reference frame
    if request.source_video is None:
        raise InvalidRequest("this model needs an input_reference image", param="input_reference")
    return Image.fromarray(request.source_video[-1 if request.mode == "extend" else 0])


def fit_image(image: Image.Image, width: int, height: int) -> Image.Image:
    """Centre-crop to the target aspect ratio, then resize (no stretching)."""
    from PIL import ImageOps

    return ImageOps.fit(image.convert("RGB"), (width, height))


def fit_video(frames: np.ndarray, count: int, width: int, height: int) -> list[Image.Image]:
    """``count`` evenly spaced frames of a (T, H, W, 3) clip, each cropped and resized."""
    from PIL import Image

    picks = np.linspace(0, len(frames) - 1, num=count).round().astype(int)
    return [fit_image(Image.fromarray(frames[i]), width, height) for i in picks]


def crop_box(width: int, height: int, aspect: float) -> tuple[int, int, int, int]:
    """The largest centred ``(left, top, right, bottom)`` box of ``aspect`` (w / h) inside a
    ``width`` x ``height`` frame."""
    if width / height > aspect:
        w = max(1, round(height * aspect))
        left = (width - w) // 2
        return left, 0, left + w, height
    h = max(1, round(width / aspect))
    top = (height - h) // 2
    return 0, top, width, top + h


def fit_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """A (T, H, W, 3) uint8 clip at ``width`` x ``height``: centre-cropped to that aspect
    ratio, then resized, so shapes keep their proportions (a circle stays a circle)."""
    from PIL import Image

    if frames.shape[1:3] == (height, width):
        return frames
    left, top, right, bottom = crop_box(frames.shape[2], frames.shape[1], width / height)
    cropped = frames[:, top:bottom, left:right]
    if cropped.shape[1:3] == (height, width):
        return np.ascontiguousarray(cropped)
    return np.stack(
        [
            np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.BICUBIC))
            for f in cropped
        ]
    )


def aspect_size(native: tuple[int, int], aspect: float, multiple: int) -> tuple[int, int]:
    """A size of about ``native``'s pixel count whose aspect ratio is as close to ``aspect``
    as sides that are multiples of ``multiple`` allow: what a model trained on many aspect
    ratios generates for a request of that shape (it is then cropped, never stretched)."""
    area = native[0] * native[1]
    ideal = math.sqrt(area / aspect)
    best: tuple[float, tuple[int, int]] | None = None
    for k in range(max(1, math.floor(ideal / multiple) - 1), math.ceil(ideal / multiple) + 2):
        height = k * multiple
        width = max(1, round(height * aspect / multiple)) * multiple
        # Getting the shape right matters twice as much as keeping the pixel count.
        score = 2 * abs(math.log(width / height / aspect)) + abs(math.log(width * height / area))
        if best is None or score < best[0]:
            best = (score, (width, height))
    assert best is not None
    return best[1]


def map_sizes(native: tuple[str, ...]) -> dict[str, str]:
    """Requestable size -> native size: each native size, plus every OpenAI size whose
    orientation (landscape, portrait, square) a native size shares, closest aspect first."""

    def ratio(size: str) -> float:
        w, h = size.split("x")
        return int(w) / int(h)

    def orientation(size: str) -> int:
        r = ratio(size)
        return 0 if abs(r - 1) < 0.05 else (1 if r > 1 else -1)

    mapping = {size: size for size in native}
    for size in OPENAI_SIZES:
        same = [n for n in native if orientation(n) == orientation(size)]
        if same and size not in mapping:
            mapping[size] = min(same, key=lambda n: abs(math.log(ratio(n) / ratio(size))))
    return mapping
