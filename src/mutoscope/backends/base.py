"""The ``VideoBackend`` interface every model family implements.

A backend is cheap to construct (no weights are loaded until ``generate``) so the server can
list and validate against every installed backend at start-up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from mutoscope.backends.request_options import OPTION_NAMES
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
    request_options: frozenset[str] = frozenset()
    """The per-request options (``steps``, ``guidance``, ``negative_prompt``, ``loras``,
    ``preset``) this model takes; a request with any other is refused by ``check``."""

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
                f"model '{self.name}' cannot extend videos: it cannot continue a clip from its "
                "last frames; choose a model that can (continues: true in GET /v1/models, such "
                "as an image-to-video model or mutoscope-tiny)",
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
        self.check_options(request.options)

    def check_options(self, options: Mapping[str, object]) -> None:
        """Refuse, naming the parameter, an option this model does not take, or a LoRA or
        preset it does not know."""
        for option in OPTION_NAMES:
            if option in options and option not in self.request_options:
                raise InvalidRequest(self._not_taken(option), param=option)
        preset = options.get("preset")
        if preset is not None and preset not in self.preset_names():
            raise InvalidRequest(
                f"preset must be one of {_quoted(self.preset_names()) or 'none'} for model "
                f"'{self.name}' (got '{preset}')",
                param="preset",
            )
        for lora in options.get("loras") or ():  # type: ignore[attr-defined]
            if lora["name"] not in self.lora_names():
                raise InvalidRequest(
                    f"model '{self.name}' has no LoRA named '{lora['name']}'; it has "
                    f"{_quoted(self.lora_names()) or 'none'} (declared in models.toml)",
                    param="loras",
                )

    def preset_names(self) -> tuple[str, ...]:
        """Names a request's ``preset`` may take (e.g. ``fast``)."""
        return ()

    def lora_names(self) -> tuple[str, ...]:
        """LoRAs a request may name in ``loras``."""
        return ()

    def _not_taken(self, option: str) -> str:
        takes = [o for o in OPTION_NAMES if o in self.request_options]
        also = f"; it takes {', '.join(takes)}" if takes else "; it takes no options"
        if option == "loras":
            return (
                f"model '{self.name}' cannot apply LoRAs{also}. LoRAs work on open-weight "
                "diffusers models that declare them in models.toml (see docs/models.md)"
            )
        return f"model '{self.name}' does not take option '{option}'{also}"

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
