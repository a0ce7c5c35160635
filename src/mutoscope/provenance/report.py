"""The verify report: what each kind of evidence says, and the record it points to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mutoscope.provenance.credentials import CredentialsReport


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
    """Which mark decoded: 3, or 2 (marks written before v3, including v1)."""


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


@dataclass
class VerifyReport:
    filename: str | None
    size_bytes: int
    c2pa: CredentialsReport
    watermark: WatermarkReport
    record: RecordMatch | None = None
    frames_checked: int = 0
    notes: list[str] = field(default_factory=list)

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": "provenance.verification",
            "filename": self.filename,
            "size_bytes": self.size_bytes,
            "evidence_found": self.evidence_found,
            "verdict": self.verdict,
            "c2pa": self.c2pa.to_dict(),
            "watermark": asdict(self.watermark),
            "record": asdict(self.record) if self.record is not None else None,
            "frames_checked": self.frames_checked,
            "notes": self.notes,
        }
