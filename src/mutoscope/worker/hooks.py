"""The seams where the rights and provenance layers plug into every generation.

The API calls ``RightsGate.screen_request`` before a job is queued; the worker calls
``check_output``, then ``ProvenanceStamper.watermark`` on the frames, then ``sign`` on the
encoded MP4, before the video is stored. Implementations live in ``mutoscope.rights`` and
``mutoscope.provenance``; ``Null*`` versions exist for unit tests of the core alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class ScreenRequest:
    """What the rights layer sees before a job is accepted."""

    prompt: str
    user_id: str
    video_id: str | None = None
    model: str | None = None
    image: Image.Image | None = None
    source_video_id: str | None = None
    """Remix/extend parent, checked like a reference."""
    defer_audit: bool = False
    """Leave the allow decisions' audit rows to ``Screening.record`` (the caller's
    transaction) instead of committing them now; blocks are always recorded at once."""
    character_names: tuple[str, ...] = ()
    """Names of the characters attached to the request (their use already allowed): in its
    prompt each stands for that character, not for a namesake of someone else."""


@dataclass
class Screening:
    """The outcome of an accepted screening: attributions travel with the video."""

    attributions: list[dict[str, str]] = field(default_factory=list)
    """``[{"entity_id", "name", "owner", "attribution"}]`` for licensed entities used."""
    record: Callable[[Any], None] | None = None
    """With ``ScreenRequest.defer_audit``: writes the decisions' audit rows into the given
    session's transaction, so they commit (or roll back) with the accepted video."""


class RightsGate(Protocol):
    def screen_request(self, request: ScreenRequest) -> Screening:
        """Allow (returning attributions) or raise ``PromptRejected`` with the reason."""
        ...

    def check_output(self, *, video_id: str, user_id: str, frames: np.ndarray) -> None:
        """Raise ``OutputBlocked`` (with evidence) if frames match a protected reference."""
        ...

    def index_output(self, *, video_id: str, frames: np.ndarray) -> None:
        """Remember a finished output's frame hashes (for reverse search)."""
        ...


@dataclass(frozen=True)
class ProvenanceInfo:
    """What the C2PA manifest says about one video."""

    video_id: str
    model: str
    prompt: str
    created_at: int
    owner: str
    mode: str = "create"
    parent_video_id: str | None = None
    parent_path: Path | None = None
    attributions: list[dict[str, str]] = field(default_factory=list)
    watermark_payload: str | None = None
    characters: list[dict[str, str]] = field(default_factory=list)
    """``[{"id", "name", "kind", "owner"}]``: the characters the video uses."""
    engine: dict[str, str] | None = None
    """For videos an inference engine made: the engine and its model (``GeneratedVideo``)."""


class ProvenanceStamper(Protocol):
    def watermark(
        self,
        frames: np.ndarray,
        *,
        video_id: str,
        on_marked: Callable[[np.ndarray], None] | None = None,
    ) -> tuple[np.ndarray, str | None]:
        """Embed the invisible watermark; return frames and the payload (hex) embedded.

        ``on_marked`` is called with each run of final frames (views of the returned array),
        in order, covering them all, as soon as each is done: the worker encodes them
        meanwhile."""
        ...

    def sign(self, mp4_path: Path, info: ProvenanceInfo) -> None:
        """Sign the MP4 in place with C2PA Content Credentials."""
        ...


class NullRights:
    """Allows everything. For unit tests of the core without the rights layer."""

    def screen_request(self, request: ScreenRequest) -> Screening:
        return Screening()

    def check_output(self, *, video_id: str, user_id: str, frames: np.ndarray) -> None:
        return None

    def index_output(self, *, video_id: str, frames: np.ndarray) -> None:
        return None


class NullProvenance:
    """Leaves frames and files untouched. For unit tests of the core alone."""

    def watermark(
        self,
        frames: np.ndarray,
        *,
        video_id: str,
        on_marked: Callable[[np.ndarray], None] | None = None,
    ) -> tuple[np.ndarray, str | None]:
        if on_marked is not None:
            on_marked(frames)
        return frames, None

    def sign(self, mp4_path: Path, info: ProvenanceInfo) -> None:
        return None
