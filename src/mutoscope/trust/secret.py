"""Per-install secrets kept in files beside the signing keys, never in the database."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from mutoscope.config import Settings


def secret_file(path: Path, *, nbytes: int = 32) -> str:
    """The hex secret in ``path``, made on first use (mode 0600; the first writer wins, so
    concurrent processes agree on one secret)."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(nbytes))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def server_secret(settings: Settings) -> bytes:
    """The install's secret: ``MUTOSCOPE_SECRET_KEY`` or ``keys/studio_secret``."""
    return (settings.secret_key or secret_file(settings.keys_dir / "studio_secret")).encode()


def pseudonym(secret: bytes, user_id: str | None) -> str | None:
    """A stable stand-in for a user id that rights holders may see (HMAC-SHA256, 64 bits):
    the same person gets the same pseudonym, which no one without the secret can reverse."""
    if user_id is None:
        return None
    digest = hmac.new(secret, b"pseudonym:" + user_id.encode(), hashlib.sha256).hexdigest()
    return f"anon_{digest[:16]}"
