"""The verify report: what each kind of evidence says, and the record it points to."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mutoscope import __version__
from mutoscope.provenance.credentials import CredentialsReport

PUBLIC_RECORD = ("matched_by", "exists", "created_at", "model")
"""What anyone may learn about the video a file traces to (a detector's answer: made here,
when, by which model); the owner, lineage and publication state are for the owner and
admins."""
_VIDEO_ID = re.compile(r"\bvideo_[0-9a-f]{12,}\b")


@dataclass
class WatermarkReport:
    checked: bool = False
    found: bool = False
    payload: str | None = None
    bit_agreement: float | None = None
    """Share of raw bits that agree with the decoded codeword (1.0 = untouched)."""
    score: float | None = None
    scale: tuple[float, float] | None = None
    """Part of the original frame (x, y) the file still shows (1.0 = uncropped)."""
    known: bool = False
    """The payload belongs to a video this server made."""
    version: int | None = None
    """Which mark decoded: 4, 3, or 2 (marks written before v3, including v1)."""


@dataclass
class StreamsReport:
    """What the file carries, read from its headers: codec and length of each stream."""

    container: str | None = None
    video: dict[str, Any] | None = None
    """``codec``, ``width``, ``height``, ``duration`` (seconds; ``None`` if not declared)."""
    audio: dict[str, Any] | None = None
    """``codec``, ``sample_rate``, ``channels``, ``duration``; ``None``: the file is silent."""


@dataclass
class RecordMatch:
    """The Mutoscope video a file was traced to, and how."""

    video_id: str
    matched_by: str
    """``c2pa`` | ``watermark`` | ``perceptual_hash``."""
    exists: bool = True
    """False when the evidence names a video whose row has since been deleted."""
    created_at: int | None = None
    model: str | None = None
    owner: str | None = None
    """The owner's public name."""
    remixed_from_video_id: str | None = None
    mode: str | None = None
    published: bool = False
    status: str | None = None
    distance: float | None = None
    matched_fraction: float | None = None
    owner_id: str | None = None
    """Who may see the whole record (never reported)."""

    def to_dict(self, *, full: bool = True) -> dict[str, Any]:
        body = asdict(self)
        body.pop("owner_id")
        if full:
            return body
        return {k: body[k] for k in PUBLIC_RECORD}


@dataclass
class VerifyReport:
    filename: str | None
    size_bytes: int
    c2pa: CredentialsReport
    watermark: WatermarkReport
    record: RecordMatch | None = None
    frames_checked: int = 0
    notes: list[str] = field(default_factory=list)
    streams: StreamsReport = field(default_factory=StreamsReport)

    @property
    def evidence_found(self) -> bool:
        return self.c2pa.present or self.watermark.found or self.record is not None

    @property
    def verdict(self) -> str:
        """One honest sentence for people."""
        parts: list[str] = []
        if self.c2pa.present:
            if self.c2pa.trusted:
                parts.append("Content Credentials are valid and signed by a trusted key")
            elif self.c2pa.valid:
                parts.append(
                    "Content Credentials are valid but the signer is not in the trust list"
                )
            else:
                parts.append(
                    "Content Credentials are present but INVALID (the file was altered "
                    "after signing or the manifest is damaged)"
                )
        if self.watermark.found:
            known = "" if self.watermark.known else " (payload unknown to this server)"
            parts.append(f"the Mutoscope watermark was found{known}")
        if self.record is not None:
            how = {
                "c2pa": "its Content Credentials",
                "watermark": "its watermark",
                "perceptual_hash": "a perceptual match against our outputs",
            }[self.record.matched_by]
            gone = "" if self.record.exists else " (since deleted)"
            parts.append(f"it was traced by {how} to Mutoscope video {self.record.video_id}{gone}")
        if not parts:
            return (
                "No evidence found: no Content Credentials, no Mutoscope watermark and no "
                "match among this server's videos. This does not prove the file was not "
                "AI-generated elsewhere."
            )
        sentence = "; ".join(parts)
        return sentence[0].upper() + sentence[1:] + "."

    def _without_ids(self, text: str) -> str:
        if self.record is not None:
            video = self.record.video_id
            text = text.replace(f"Mutoscope video {video}", "a video made here with Mutoscope")
            text = text.replace(f"video {video}", "a video made here")
            text = text.replace(self.record.video_id, "a video made here")
        return _VIDEO_ID.sub("a video made here", text)

    def visible_to(self, user: Any) -> bool:
        """Whether ``user`` (or ``None``: anonymous) may see the owner-only details."""
        if user is None:
            return False
        return bool(user.is_admin) or (self.record is not None and self.record.owner_id == user.id)

    def to_dict(self, *, full: bool = True) -> dict[str, Any]:
        """The report; with ``full=False`` (anonymous callers, other users) only what a
        detector must say: made here or not, when, which model and system, and the C2PA and
        watermark findings. No owner, video id, lineage or publication state."""
        record = self.record.to_dict(full=full) if self.record is not None else None
        if record is not None and not full:
            record["system"] = f"Mutoscope {__version__}"
        verdict, notes = self.verdict, list(self.notes)
        if not full:
            verdict, notes = self._without_ids(verdict), [self._without_ids(n) for n in notes]
        watermark = asdict(self.watermark)
        return {
            "object": "provenance.verification",
            "filename": self.filename,
            "size_bytes": self.size_bytes,
            "evidence_found": self.evidence_found,
            "verdict": verdict,
            "c2pa": self.c2pa.to_dict(),
            "watermark": watermark,
            "record": record,
            "frames_checked": self.frames_checked,
            "streams": asdict(self.streams),
            "notes": notes,
            "detail": "full" if full else "public",
        }
