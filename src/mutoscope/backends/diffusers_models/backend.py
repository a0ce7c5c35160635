"""What every diffusers backend shares, and the ``mutoscope.backends`` entry point that builds
one backend per installed ``models.toml`` entry."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mutoscope.backends.base import (
    OPENAI_SECONDS,
    GenerationRequest,
    ProgressCallback,
    VideoBackend,
)
from mutoscope.backends.diffusers_models.cache import sync_cache_steps
from mutoscope.backends.diffusers_models.checkpoints import (
    CheckpointMissing,
    read_component_config,
    resolve_checkpoint,
)
from mutoscope.backends.diffusers_models.frames import aspect_size, fit_frames, map_sizes
from mutoscope.backends.diffusers_models.loras import LoraSpec, PresetSpec, activate, scheduler_for
from mutoscope.backends.diffusers_models.models_file import (
    FAMILIES,
    ModelsFile,
    ModelsFileError,
    ModelSpec,
    read_models_file,
)
from mutoscope.backends.diffusers_models.pool import PipelinePool
from mutoscope.backends.diffusers_models.runner import (
    Rendered,
    generator,
    option_number,
    render,
)
from mutoscope.errors import InvalidRequest

if TYPE_CHECKING:
    from mutoscope.backends.registry import Register
    from mutoscope.config import Settings

log = logging.getLogger(__name__)


class DiffusersBackend(VideoBackend):
    """Sizes, clip lengths and pool plumbing for one models.toml entry.

    Subclasses (one per family) set the family defaults and write ``generate`` as numbered
    steps: choose the pipeline, build its arguments, ``self.denoise``, then ``finish``.

    The rules that keep real checkpoints correct live here:

    * size: a request is generated at a native size of its own aspect ratio where the family
      was trained on many (``flexible_sizes``), else at the closest native size, then
      centre-cropped and resized to the requested size; never stretched;
    * length: the model generates the shortest frame count it can (``frame_step * k + 1``,
      or one of ``trained_frames``) covering ``seconds`` at its native fps, and the clip is
      trimmed to exactly ``seconds``; longer requests are refused, naming the limit.
    """

    family: ClassVar[str]
    # Defaults a checkpoint may refine in ``__init__`` (e.g. Wan 2.2 TI2V-5B renders 24 fps):
    default_sizes: tuple[str, ...]
    default_fps: float
    default_max_frames: int
    default_steps: ClassVar[int]
    default_guidance: ClassVar[float]
    default_max_sequence_length: ClassVar[int]
    frame_step: int
    """Valid frame counts are ``frame_step * k + 1`` (the VAE's temporal compression)."""
    size_multiple: int = 16
    """Sides must be multiples of this (VAE spatial compression x transformer patch)."""
    request_options = frozenset({"steps", "guidance", "negative_prompt", "loras", "preset"})
    flexible_sizes: bool = True
    """Trained on many aspect ratios: generate each request at its own aspect ratio (about
    the pixel count of the nearest native size). False: only at the native sizes."""
    trained_frames: tuple[int, ...] = ()
    """Clip lengths the model was trained on, when it only works well at those (CogVideoX:
    49); empty when any ``frame_step * k + 1`` up to ``max_frames`` works."""
    checkpoint_classes: ClassVar[tuple[str, ...]]
    """The pipeline classes (``_class_name`` in ``model_index.json``) this family loads."""
    title: ClassVar[str]
    """The family as people name it (``LTX-Video``), for messages."""
    image_only: bool = False
    """The checkpoint only makes video from an image: a create must bring one (an
    ``input_reference`` or a character's frame); a remix or extension starts from a parent
    frame."""

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        self.spec = spec
        self.pool = pool
        self.checkpoint = checkpoint
        self.name = spec.id
        self.aliases = spec.aliases
        self.description = spec.description or f"{self.family} ({spec.source})"
        self.fps = spec.fps or self.default_fps
        self.max_frames = spec.max_frames or self.default_max_frames
        self.frame_choices = tuple(n for n in self.trained_frames if n <= self.max_frames) or (
            (self.max_frames,) if self.trained_frames else ()
        )
        self.native_sizes = spec.sizes or self.default_sizes
        for size in self.native_sizes:
            if any(int(side) % self.size_multiple for side in size.split("x")):
                raise ModelsFileError(
                    f"model '{spec.id}': size {size} is not made of multiples of "
                    f"{self.size_multiple}, which {self.family} needs"
                )
        self._size_map = map_sizes(self.native_sizes)
        self.sizes = tuple(self._size_map)
        self.seconds = tuple(s for s in OPENAI_SECONDS if self.frames_for(s) <= self.max_frames)
        self.steps = spec.steps or self.default_steps
        self.guidance = spec.guidance if spec.guidance is not None else self.default_guidance
        for lora in spec.loras:
            folder, weight_name = lora.source
            if not (Path(folder) / (weight_name or "pytorch_lora_weights.safetensors")).is_file():
                raise ModelsFileError(
                    f"model '{spec.id}': LoRA '{lora.name}' has no weights at {lora.path}"
                    + (f" ({weight_name})" if weight_name and lora.path.is_dir() else "")
                    + "; download it there (see docs/models.md)"
                )

    @classmethod
    def checkpoint_class(cls, spec: ModelSpec, checkpoint: Path) -> str:
        """The checkpoint's pipeline class; ``ModelsFileError`` when this family cannot load
        it, naming the family that can."""
        kind = str(read_component_config(checkpoint)["_class_name"])
        if kind in cls.checkpoint_classes:
            return kind
        owners = [f for f in FAMILIES if kind in backend_class(f).checkpoint_classes]
        hint = f"; declare it with family = '{owners[0]}'" if owners else ""
        raise ModelsFileError(
            f"model '{spec.id}': {kind} is not a {cls.title} checkpoint (family "
            f"'{cls.family}' loads {', '.join(cls.checkpoint_classes)}){hint}"
        )

    def lora_names(self) -> tuple[str, ...]:
        """LoRAs a request may name (fused ones are always applied)."""
        return tuple(lora.name for lora in self.spec.loras if not lora.fuse)

    def preset_names(self) -> tuple[str, ...]:
        return tuple(self.spec.presets)

    def check(self, request: GenerationRequest) -> None:
        if request.seconds not in self.seconds and request.size in self.sizes:
            longest = (self.max_frames - 1) / self.fps
            choices = ", ".join(f'"{s}"' for s in self.seconds) or "none"
            raise InvalidRequest(
                f"seconds must be one of {choices} for model '{self.name}' (got "
                f"'{request.seconds}'): it makes at most {self.max_frames} frames at "
                f"{self.fps:g} fps ({longest:.1f} s)",
                param="seconds",
            )
        super().check(request)
        # A remix or extension starts from a parent frame, decoded only when the job runs.
        from_parent = request.mode != "create" or request.source_video is not None
        if self.image_only and request.image is None and not request.references and not from_parent:
            raise InvalidRequest(
                f"model '{self.name}' is image-to-video only: send an input_reference image",
                param="input_reference",
            )

    def output_frames(self, seconds: str) -> int:
        """Frames in the finished clip: exactly ``seconds`` at the model's fps."""
        return max(1, round(float(seconds) * self.fps))

    def frames_for(self, seconds: str) -> int:
        """Frames the model generates for ``seconds``: the shortest length it was trained on
        covering them, else the shortest valid count (``frame_step * k + 1``)."""
        wanted = self.output_frames(seconds)
        if longer := [n for n in self.frame_choices if n >= wanted]:
            return min(longer)
        return math.ceil((wanted - 1) / self.frame_step) * self.frame_step + 1

    def native_size(self, request: GenerationRequest) -> tuple[int, int]:
        """The size to generate ``request`` at: a native size, or for a family trained on
        many aspect ratios one of the request's own aspect ratio near the closest native
        size's pixel count (``finish`` crops the rest away)."""
        width, height = (int(v) for v in self._size_map[request.size].split("x"))
        if request.size in self.native_sizes or not self.flexible_sizes:
            return width, height
        return aspect_size((width, height), request.width / request.height, self.size_multiple)

    def call_kwargs(self, request: GenerationRequest, width: int, height: int) -> dict[str, Any]:
        """Arguments every family's pipelines take; ``request.options`` (over its preset's)
        may override steps, guidance and negative prompt."""
        preset = self.spec.presets.get(str(request.options.get("preset")))
        if preset is not None:
            request = dataclasses.replace(request, options={**preset.options, **request.options})
        options = request.options
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "height": height,
            "width": width,
            "num_inference_steps": int(option_number(request, "steps", self.steps)),
            "guidance_scale": option_number(request, "guidance", self.guidance),
            "generator": generator(request.seed),
            "max_sequence_length": self.spec.max_sequence_length
            or self.default_max_sequence_length,
        }
        negative = options.get("negative_prompt", self.spec.negative_prompt)
        if negative:
            kwargs["negative_prompt"] = str(negative)
        return kwargs

    def denoise(
        self,
        pipe: Any,
        kwargs: dict[str, Any],
        on_progress: ProgressCallback,
        request: GenerationRequest | None = None,
    ) -> np.ndarray:
        """Frames of ``render``."""
        return self.render(pipe, kwargs, on_progress, request).frames

    def render(
        self,
        pipe: Any,
        kwargs: dict[str, Any],
        on_progress: ProgressCallback,
        request: GenerationRequest | None = None,
    ) -> Rendered:
        """``runner.render`` (frames, and sound where the pipeline makes it) with the
        request's LoRAs active, its preset's scheduler, and the step cache set for this
        call's step count."""
        with self.adapted(pipe, request):
            sync_cache_steps(pipe, self.spec, kwargs["num_inference_steps"])
            return render(pipe, kwargs, on_progress)

    @contextmanager
    def adapted(self, pipe: Any, request: GenerationRequest | None) -> Iterator[None]:
        """Activate exactly the LoRAs ``request`` (and its preset) asks for, none otherwise,
        and swap in the preset's scheduler for the duration. Call it with the model held."""
        options = request.options if request is not None else {}
        preset = self.spec.presets.get(str(options.get("preset")))
        activate(pipe, self.lora_plan(options, preset))
        with scheduler_for(pipe, preset):
            yield

    def lora_plan(
        self, options: dict[str, Any], preset: PresetSpec | None
    ) -> list[tuple[LoraSpec, float]]:
        """(LoRA, scale) pairs for a request: its preset's, then its own (which win)."""
        declared = {lora.name: lora for lora in self.spec.loras if not lora.fuse}
        scales: dict[str, float | None] = dict(preset.loras) if preset else {}
        for use in options.get("loras") or ():
            scales[use["name"]] = use.get("scale")
        return [
            (declared[name], declared[name].scale if scale is None else scale)
            for name, scale in scales.items()
            if name in declared
        ]

    def finish(self, frames: np.ndarray, request: GenerationRequest) -> np.ndarray:
        """The clip the request asked for: trimmed to exactly ``seconds``, then centre-cropped
        to the requested aspect ratio and resized (never stretched)."""
        return fit_frames(
            frames[: self.output_frames(request.seconds)], request.width, request.height
        )

    def close(self) -> None:
        self.pool.evict(self.spec.id)


def backend_class(family: str) -> type[DiffusersBackend]:
    module, _, name = FAMILIES[family].partition(":")
    return getattr(importlib.import_module(module), name)


def build_backends(
    models_file: ModelsFile, pool: PipelinePool | None = None
) -> list[DiffusersBackend]:
    """One backend per entry whose checkpoint is on this machine (others are logged)."""
    if pool is None:
        pool = PipelinePool(models_file.pool.budget_bytes)
    backends = []
    for spec in models_file.models:
        try:
            checkpoint = resolve_checkpoint(spec)
        except CheckpointMissing as exc:
            log.warning("%s", exc.message)
            continue
        try:
            backends.append(backend_class(spec.family)(spec, pool, checkpoint))
        except ModelsFileError as exc:
            log.error("models.toml: %s", exc)
    return backends


def register_backends(register: Register, settings: Settings) -> None:
    """Register one backend per installed ``models.toml`` entry; nothing if there is no file."""
    path = settings.models_path
    if not path.is_file():
        return
    try:
        models_file = read_models_file(path)
    except ModelsFileError as exc:
        # A typo must not take the other backends down; `mutoscope models list` shows it too.
        log.error("ignoring %s: %s", path, exc)
        return
    for backend in build_backends(models_file):
        register(backend)
