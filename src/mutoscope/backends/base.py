"""The ``VideoBackend`` interface every model family implements.

A backend is cheap to construct (no weights are loaded until ``generate``) so the server can
list and validate against every installed backend at start-up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from mutoscope.errors import InvalidRequest

if TYPE_CHECKING:
    from PIL import Image

    from mutoscope.media.audio import AudioTrack

OPENAI_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
OPENAI_SECONDS = ("4", "8", "12")

ProgressCallback = Callable[[float], None]
"""Called with the fraction done (0..1). It may raise ``JobCancelled``: let it propagate."""

Mode = Literal["create", "remix", "extend"]


@dataclass(frozen=True)
class GenerationRequest:
    """What a backend is asked to make. Sizes and seconds are already validated strings."""

    prompt: str
    size: str = "1280x720"
    seconds: str = "4"
    seed: int = 0
    image: Image.Image | None = None
    """``input_reference`` as an RGB image (image-to-video)."""
    source_video: np.ndarray | None = None
    """Parent frames (T, H, W, 3) uint8 for remix/extend (video-to-video)."""
    source_prompt: str | None = None
    mode: Mode = "create"
    options: dict[str, object] = field(default_factory=dict)
    references: tuple[Image.Image, ...] = ()
    """Reference frames of the characters the video uses (RGB), in the order of
    ``reference_names``; only backends with ``accepts_references`` get any."""
    reference_names: tuple[str, ...] = ()
    """How the prompt names each character whose frames are in ``references`` (its name or
    ``@handle``), so a backend can tell which subject should look like which reference."""
    parent_engine: dict[str, str] | None = None
    """What an engine backend recorded about the parent (its ``GeneratedVideo.provenance``),
    so a remix can name the engine's own copy of it."""

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


@dataclass(frozen=True)
class PromptFit:
    """How a prompt fits what a backend can draw (from backends that know their vocabulary)."""

    drawable: bool
    """False when the prompt names nothing the model can draw."""
    will_draw: str | None = None
    """What the model will make of it, in words (e.g. its canonical caption)."""
    unknown: tuple[str, ...] = ()
    """Words of the prompt outside the model's vocabulary."""
    assumed: tuple[str, ...] = ()
    """What the model fills in that the prompt left out."""
    warning: str | None = None
    """A message for the user when the clip will not show (all of) the prompt."""


@dataclass
class GeneratedVideo:
    """Frames (T, H, W, 3) uint8 RGB at the requested size, and their rate."""

    frames: np.ndarray
    fps: float = 24.0
    audio: AudioTrack | None = None
    """A soundtrack the backend made with the frames (any rate; the MP4 carries it as AAC at
    48 kHz, padded or trimmed to the frames' duration), or ``None`` for a silent clip."""
    provenance: dict[str, str] = field(default_factory=dict)
    """What the C2PA manifest should say about who made the frames beyond the model name
    (engine backends: the engine, its model and its id for the video)."""

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps


class VideoBackend(ABC):
    """One model a user can pick with ``model=``. Subclass it once per model family."""

    name: str = ""
    description: str = ""
    sizes: tuple[str, ...] = OPENAI_SIZES
    seconds: tuple[str, ...] = OPENAI_SECONDS
    fps: float = 24.0
    accepts_image: bool = False
    accepts_video: bool = False
    """Video-to-video: remix and ``POST /v1/videos/edits`` re-make ``request.source_video``
    (evenly spaced frames of the source clip) for a new prompt. Backends without it refuse
    edits."""
    continues: bool = False
    """Extensions (``mode="extend"``) continue ``request.source_video``, the last frames of the
    clip being extended (at this backend's ``fps`` and the request's size): the first new
    frame follows the clip's last one (a condition pipeline, image-to-video from the last
    frame, or the model's own continuation). ``generate`` returns the new frames only; the
    worker stitches. Backends without it refuse extensions rather than glue an unrelated
    clip on."""
    accepts_references: bool = False
    """True when the backend keeps a character's look from ``request.references``."""
    aliases: tuple[str, ...] = ()
    owned_by: str = "mutoscope"
    example_prompt: str = "A paper boat drifting down a rainy street at dusk"
    """A prompt this model makes well (the studio's placeholder)."""

    def check(self, request: GenerationRequest) -> None:
        """Raise ``InvalidRequest`` naming what would work if this backend cannot make it."""
        if request.size not in self.sizes:
            raise InvalidRequest(
                f"size must be one of {_quoted(self.sizes)} for model '{self.name}' "
                f"(got '{request.size}')",
                param="size",
            )
        if request.seconds not in self.seconds:
            raise InvalidRequest(
                f"seconds must be one of {_quoted(self.seconds)} for model '{self.name}' "
                f"(got '{request.seconds}')",
                param="seconds",
            )
        if request.image is not None and not self.accepts_image:
            raise InvalidRequest(
                f"model '{self.name}' cannot use an input_reference image; "
                "choose a model that supports image-to-video or leave input_reference out",
                param="input_reference",
            )
        if request.mode == "extend" and not self.continues:
            raise InvalidRequest(
                f"model '{self.name}' cannot continue a video, so it cannot extend one; "
                "choose a model that can (see GET /v1/models: an image-to-video or condition "
                "model, or mutoscope-tiny)",
                param="video",
                code="extend_unsupported",
            )
        if request.references and not self.accepts_references:
            raise InvalidRequest(
                f"model '{self.name}' cannot keep a character's look (it takes no reference "
                "frames); choose a model that supports characters, such as mutoscope-tiny, "
                "or leave characters out",
                param="characters",
            )

    def fit_prompt(self, prompt: str) -> PromptFit | None:
        """What this model can draw of ``prompt``; ``None`` when it can try anything."""
        return None

    @abstractmethod
    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        """Make the video. Call ``on_progress`` at least once per denoising step."""

    def close(self) -> None:
        """Release weights and memory (called on eviction and shutdown)."""
        return None

    def forget(self, provenance: dict[str, str]) -> None:
        """Drop what this backend keeps elsewhere for a deleted video (``provenance`` is its
        ``GeneratedVideo.provenance``): an engine's copy. Best effort; never raises."""
        return None


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)
