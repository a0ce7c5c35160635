"""Reference images: the one place that decides what an uploaded image may be."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from mutoscope.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
MAX_IMAGE_PIXELS = 40_000_000


def decode_reference_image(
    data: bytes, *, limit: int, param: str, max_pixels: int = MAX_IMAGE_PIXELS
) -> Image.Image:
    """Decode a PNG, JPEG or WebP upload to RGB.

    413 over ``limit`` bytes; 415 for other formats; 400 when the header claims more than
    ``max_pixels`` (checked before any pixel is decoded, so a small file that would expand to
    gigabytes is refused cheaply) or when the data is damaged or truncated.
    Call it from a worker thread: decoding is CPU work.
    """
    if len(data) > limit:
        raise PayloadTooLarge(
            f"{param} is {len(data):,} bytes; the limit is {limit:,} (MUTOSCOPE_MAX_UPLOAD_BYTES)",
            param=param,
        )
    try:
        with warnings.catch_warnings():
            # Our own pixel limit comes first; Pillow's bomb warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in IMAGE_FORMATS:
                    raise UnsupportedMediaType(
                        f"{param} must be a PNG, JPEG or WebP image (got {img.format})",
                        param=param,
                    )
                check_pixels(img.size, max_pixels, param)
                return img.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnsupportedMediaType(
            f"{param} could not be read as an image; upload a PNG, JPEG or WebP", param=param
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt pixel data
        raise InvalidRequest(
            f"{param} is damaged or truncated and could not be decoded; upload the complete "
            "image file",
            param=param,
            code="invalid_image",
        ) from exc


def check_pixels(size: tuple[int, int], max_pixels: int, param: str) -> None:
    """Refuse an image whose header claims more than ``max_pixels`` (before decoding it)."""
    width, height = size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise InvalidRequest(
            f"{param} is {width}x{height} pixels; images may have at most {max_pixels:,} "
            "pixels (e.g. 4096x4096); scale it down first",
            param=param,
            code="image_too_large",
        )
