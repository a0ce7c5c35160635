"""The installable web app: manifest, icons drawn with Pillow, avatars, the service worker."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageOps

from mutoscope.errors import NotFound
from mutoscope.media.images import decode_reference_image

ICON_SIZES = (192, 512)
AVATAR_SIZE = 256
MAX_AVATAR_BYTES = 5 * 1024 * 1024
ACCENT, INK = (255, 201, 77), (20, 20, 20)


def manifest() -> dict[str, Any]:
    return {
        "name": "Mutoscope studio",
        "short_name": "Mutoscope",
        "description": "Make, remix and watch AI videos with provenance built in.",
        "start_url": "/for-you",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#141414",
        "theme_color": "#141414",
        "icons": [
            {
                "src": f"/icons/{size}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in ICON_SIZES
        ],
    }


@lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size: int) -> bytes:
    """The studio icon (``static/icon.svg``: a lens with cross hairs) as a PNG of ``size``."""
    if size not in ICON_SIZES:
        raise NotFound(f"no {size}px icon; sizes are {', '.join(map(str, ICON_SIZES))}")
    # Drawn at 4x and reduced: Pillow's shapes are not anti-aliased.
    big = size * 4
    img = Image.new("RGB", (big, big), ACCENT)
    draw = ImageDraw.Draw(img)
    unit = big / 24
    # A maskable icon keeps its content inside the middle 80 %.
    ring, width = 5.2 * unit, round(2.2 * unit)
    c = big / 2
    draw.ellipse((c - ring, c - ring, c + ring, c + ring), outline=INK, width=width)
    bar = round(1.8 * unit)
    for a, b in ((4.5, 8.2), (15.8, 19.5)):
        draw.rectangle((c - bar / 2, a * unit, c + bar / 2, b * unit), fill=INK)
        draw.rectangle((a * unit, c - bar / 2, b * unit, c + bar / 2), fill=INK)
    return _png(img.resize((size, size), Image.Resampling.LANCZOS))


def encode_avatar(data: bytes, *, max_pixels: int) -> bytes:
    """An uploaded image as a square PNG avatar: size- and pixel-checked before decoding
    (like every image upload), centre-cropped and re-encoded, so no uploaded bytes or
    metadata are ever served back."""
    image = decode_reference_image(
        data, limit=MAX_AVATAR_BYTES, param="avatar", max_pixels=max_pixels
    )
    square = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    return _png(square)


@lru_cache(maxsize=1024)
def default_avatar(handle: str) -> bytes:
    """A placeholder avatar: a colour picked from the handle, with a ring (no text to render)."""
    digest = hashlib.sha256(handle.lower().encode()).digest()
    colour = (80 + digest[0] % 150, 80 + digest[1] % 150, 80 + digest[2] % 150)
    size = 64 * 4
    img = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(img)
    draw.ellipse((size * 0.3, size * 0.18, size * 0.7, size * 0.58), fill=(236, 236, 236))
    draw.ellipse((size * 0.14, size * 0.62, size * 0.86, size * 1.3), fill=(236, 236, 236))
    return _png(img.resize((64, 64), Image.Resampling.LANCZOS))


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
