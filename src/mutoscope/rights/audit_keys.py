"""Keys and signed checkpoints that make the audit log tamper-evident to someone who can
rewrite the database.

* A MAC key (``keys/audit_mac_key``, or ``MUTOSCOPE_AUDIT_KEY_FILE``) chains every row with
  HMAC-SHA256: recomputing the public SHA-256 chain after an edit no longer passes.
* An Ed25519 key (``keys/audit_ed25519.pem``) signs checkpoints written to files outside
  the database: the head (the last row's seq and MAC, rewritten after every append) and a
  line every ``audit_checkpoint_every`` rows. Deleting the newest rows leaves the signed
  head pointing past the end of the log; rewriting old rows with the MAC key still
  disagrees with the signed checkpoints.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mutoscope.config import Settings
from mutoscope.trust.secret import secret_file

HEAD_BYTES = 512
"""The signed head is padded to this size and rewritten in place."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    row_hash: str
    mac: str
    created_at: float
    signature: str

    def body(self) -> bytes:
        return json.dumps(
            {"seq": self.seq, "row_hash": self.row_hash, "mac": self.mac, "at": self.created_at},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def to_json(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "row_hash": self.row_hash,
                "mac": self.mac,
                "at": self.created_at,
                "signature": self.signature,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        d = json.loads(text)
        return cls(int(d["seq"]), d["row_hash"], d["mac"], float(d["at"]), d["signature"])


class AuditKeys:
    """The MAC key, the checkpoint signing key and where checkpoints are written."""

    def __init__(
        self, mac_key: bytes, signer: Ed25519PrivateKey, folder: Path, *, every: int = 100
    ):
        self.mac_key = mac_key
        self.signer = signer
        self.public = signer.public_key()
        self.head_path = folder / "audit-head.json"
        self.checkpoints_path = folder / "audit-checkpoints.jsonl"
        self.every = max(1, every)
        self._fd: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeys:
        mac_file = settings.audit_key_file or settings.keys_dir / "audit_mac_key"
        key_file = settings.audit_signing_key_file or settings.keys_dir / "audit_ed25519.pem"
        folder = settings.audit_checkpoint_dir or settings.home / "audit"
        return cls(
            bytes.fromhex(secret_file(mac_file)),
            _signing_key(key_file),
            folder,
            every=settings.audit_checkpoint_every,
        )

    # -- MAC chain -----------------------------------------------------------------------------
    def mac(self, prev_mac: str, row_hash: str) -> str:
        return hmac.new(
            self.mac_key, f"{prev_mac}\n{row_hash}".encode(), hashlib.sha256
        ).hexdigest()

    # -- checkpoints -----------------------------------------------------------------------------
    def sign(self, seq: int, row_hash: str, mac: str, created_at: float) -> Checkpoint:
        unsigned = Checkpoint(seq, row_hash, mac, created_at, "")
        signature = base64.b64encode(self.signer.sign(unsigned.body())).decode()
        return Checkpoint(seq, row_hash, mac, created_at, signature)

    def valid(self, checkpoint: Checkpoint) -> bool:
        try:
            self.public.verify(base64.b64decode(checkpoint.signature), checkpoint.body())
        except (InvalidSignature, ValueError):
            return False
        return True

    def record(self, checkpoint: Checkpoint) -> None:
        """Move the signed head forward (never back) and append every ``every``-th row.

        The head is one fixed-size block rewritten in place (a single ``pwrite`` of less
        than a page, which readers never see half-done in practice); a rename per decision
        costs milliseconds on some filesystems."""
        current = self.head()
        if current is None or current.seq < checkpoint.seq:
            os.pwrite(self._head_fd(), checkpoint.to_json().encode().ljust(HEAD_BYTES), 0)
        if checkpoint.seq % self.every == 0:
            with open(self.checkpoints_path, "a", encoding="utf-8") as f:
                f.write(checkpoint.to_json() + "\n")

    def _head_fd(self) -> int:
        if self._fd is None:
            self.head_path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.head_path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def head(self) -> Checkpoint | None:
        try:
            text = self.head_path.read_text().strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        try:
            return Checkpoint.from_json(text)
        except (ValueError, KeyError):
            return Checkpoint(-1, "", "", 0.0, "")  # unreadable: reported as badly signed

    def checkpoints(self) -> list[Checkpoint]:
        if not self.checkpoints_path.is_file():
            return []
        out = []
        for line in self.checkpoints_path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(Checkpoint.from_json(line))
            except (ValueError, KeyError):
                out.append(Checkpoint(-1, "", "", 0.0, ""))
        return out


def _signing_key(path: Path) -> Ed25519PrivateKey:
    """The checkpoint key in ``path`` (PEM, PKCS#8), made on first use (first writer wins)."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key: Any = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key
