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

    def fit_prompt(self, prompt: str) -> PromptFit | None:
        """What this model can draw of ``prompt``; ``None`` when it can try anything."""
        return None

    @abstractmethod
    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        """Make the video. Call ``on_progress`` at least once per denoising step."""

    def close(self) -> None:
        """Release weights and memory (called on eviction and shutdown)."""
        return None


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)
