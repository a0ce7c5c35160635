"""Reference images: the one place that decides what an uploaded image may be."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from mutoscope.errors import PayloadTooLarge, UnsupportedMediaType

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})


def decode_reference_image(data: bytes, *, limit: int, param: str) -> Image.Image:
    """Decode a PNG, JPEG or WebP upload to RGB; 413 over ``limit`` bytes, 415 otherwise."""
    if len(data) > limit:
        raise PayloadTooLarge(
            f"{param} is {len(data):,} bytes; the limit is {limit:,} (MUTOSCOPE_MAX_UPLOAD_BYTES)",
            param=param,
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in IMAGE_FORMATS:
                raise UnsupportedMediaType(
                    f"{param} must be a PNG, JPEG or WebP image (got {img.format})", param=param
                )
            return img.convert("RGB")
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaType(
            f"{param} could not be read as an image; upload a PNG, JPEG or WebP", param=param
        ) from exc
