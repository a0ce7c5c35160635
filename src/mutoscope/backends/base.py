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


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)
