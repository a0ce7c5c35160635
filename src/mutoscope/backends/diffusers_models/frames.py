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
