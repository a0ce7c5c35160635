"""Open-weight video models through Hugging Face diffusers, declared in ``models.toml``.

This module holds what the family backends (``wan.py``, ``ltx.py``, ``cogvideox.py``) share:

* ``read_models_file`` parses ``models.toml`` into typed ``ModelSpec``s;
* ``load_pipeline`` loads one checkpoint offline (``local_files_only=True``) from a local
  directory or the Hugging Face cache, then applies its memory and speed options;
* ``PipelinePool`` keeps loaded pipelines warm and evicts the least recently used ones when
  their weights would exceed a memory budget;
* ``denoise`` runs a pipeline with a step callback that reports progress and lets
  ``JobCancelled`` stop the denoising loop at the next step;
* ``register_backends`` is the ``mutoscope.backends`` entry point: one backend per model.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import json
import logging
import math
import os
import threading
import tomllib
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

import numpy as np

from mutoscope.backends.base import (
    OPENAI_SECONDS,
    OPENAI_SIZES,
    GenerationRequest,
    ProgressCallback,
    VideoBackend,
)
from mutoscope.errors import GenerationFailed, InvalidRequest

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from mutoscope.backends.registry import Register
    from mutoscope.config import Settings

log = logging.getLogger(__name__)

FAMILIES = {
    "wan": "mutoscope.backends.wan:WanBackend",
    "ltx": "mutoscope.backends.ltx:LTXBackend",
    "cogvideox": "mutoscope.backends.cogvideox:CogVideoXBackend",
}
DTYPES = ("float32", "bfloat16", "float16")
Offload = Literal["none", "model", "group-leaf", "group-block"]
Cache = Literal["none", "first-block", "mag"]


class ModelsFileError(ValueError):
    """``models.toml`` is malformed; the message names the entry and field to fix."""


class CheckpointMissing(GenerationFailed):
    """The weights a model entry points at are not on this machine."""

    code = "model_not_downloaded"


# ---------------------------------------------------------------------------------------------
# models.toml


@dataclass(frozen=True)
class MemoryOptions:
    """How one model trades memory for speed (``[models.memory]`` in models.toml)."""

    offload: Offload = "none"
    """``model``: whole components move to the GPU in turn; ``group-leaf``/``group-block``:
    diffusers group offloading of layers / blocks (``group_blocks`` per group)."""
    group_blocks: int = 1
    use_stream: bool = False
    """Overlap group-offload transfers with compute on a CUDA stream."""
    vae_tiling: bool = False
    vae_slicing: bool = False
    fp8_storage: bool = False
    """Store denoiser weights as float8_e4m3fn and upcast per layer (layerwise casting)."""
    cache: Cache = "none"
    cache_threshold: float | None = None
    mag_ratios: tuple[float, ...] = ()
    """MagCache needs ratios calibrated for the checkpoint (see diffusers' MagCacheConfig)."""
    compile: bool = False
    """Regional ``torch.compile`` of the repeated transformer blocks."""
    attention: str | None = None
    """A diffusers attention backend (``native``, ``flash``, ``_native_cudnn``, ``sage``...)."""


@dataclass(frozen=True)
class ModelSpec:
    """One ``[[models]]`` entry. Unset fields take the family's defaults."""

    id: str
    family: str
    path: Path | None = None
    repo: str | None = None
    revision: str | None = None
    dtype: str = "bfloat16"
    vae_dtype: str | None = None
    device: str = "cuda"
    aliases: tuple[str, ...] = ()
    description: str = ""
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str | None = None
    sizes: tuple[str, ...] = ()
    """Native ``WxH`` sizes the model generates at; API sizes map onto them."""
    fps: float | None = None
    max_frames: int | None = None
    max_sequence_length: int | None = None
    remix_strength: float = 0.7
    """How far remix moves from the parent video (0 keeps it, 1 ignores it)."""
    memory: MemoryOptions = field(default_factory=MemoryOptions)

    @property
    def source(self) -> str:
        return str(self.path) if self.path else f"{self.repo}@{self.revision or 'main'}"


@dataclass(frozen=True)
class PoolOptions:
    """``[pool]``: how many bytes of weights may stay loaded at once (LRU beyond that)."""

    budget_gb: float | None = None

    def budget_bytes(self, devices: set[str]) -> int:
        if self.budget_gb is not None:
            return int(self.budget_gb * 1024**3)
        return default_budget(devices)


@dataclass(frozen=True)
class ModelsFile:
    pool: PoolOptions
    models: tuple[ModelSpec, ...]


def read_models_file(path: Path) -> ModelsFile:
    """Parse and check ``models.toml``; raises ``ModelsFileError`` naming what is wrong."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelsFileError(f"{path}: {exc}") from exc
    unknown = set(data) - {"pool", "models"}
    if unknown:
        raise ModelsFileError(
            f"{path}: unknown top-level keys {sorted(unknown)}; use [pool], [[models]]"
        )
    pool = PoolOptions(**_fields(PoolOptions, data.get("pool", {}), "[pool]"))
    models = tuple(
        _model_spec(entry, path.parent, n) for n, entry in enumerate(data.get("models", []))
    )
    ids = Counter(m.id for m in models)
    if dupes := [i for i, c in ids.items() if c > 1]:
        raise ModelsFileError(f"{path}: model ids must be unique; repeated: {dupes}")
    return ModelsFile(pool=pool, models=models)


def _model_spec(entry: dict[str, Any], base: Path, n: int) -> ModelSpec:
    where = f"[[models]] #{n + 1} ({entry.get('id', 'no id')})"
    values = _fields(ModelSpec, entry, where)
    for key in ("id", "family"):
        if not values.get(key):
            raise ModelsFileError(f"{where}: '{key}' is required")
    if values["family"] not in FAMILIES:
        raise ModelsFileError(f"{where}: family must be one of {sorted(FAMILIES)}")
    if bool(values.get("path")) == bool(values.get("repo")):
        raise ModelsFileError(
            f"{where}: give exactly one of 'path' (a local dir) or 'repo' (HF id)"
        )
    for key in ("dtype", "vae_dtype"):
        if values.get(key) is not None and values[key] not in DTYPES:
            raise ModelsFileError(f"{where}: {key} must be one of {list(DTYPES)}")
    for size in values.get("sizes", ()):
        if not _is_size(size):
            raise ModelsFileError(f"{where}: sizes must look like '832x480' (got '{size}')")
    if values.get("path"):
        path = Path(os.path.expanduser(values["path"]))
        values["path"] = path if path.is_absolute() else base / path
    for key in ("aliases", "sizes"):
        values[key] = tuple(values.get(key, ()))
    memory = _fields(MemoryOptions, values.pop("memory", {}), f"{where} memory")
    memory["mag_ratios"] = tuple(memory.get("mag_ratios", ()))
    for key, choices in (("offload", get_args(Offload)), ("cache", get_args(Cache))):
        if memory.get(key, "none") not in choices:
            raise ModelsFileError(f"{where}: memory.{key} must be one of {list(choices)}")
    if memory.get("offload") == "model" and values.get("device", "cuda").startswith("cpu"):
        raise ModelsFileError(f"{where}: memory.offload = 'model' needs a GPU device, not cpu")
    if memory.get("attention") and memory["attention"] not in _attention_backends():
        raise ModelsFileError(
            f"{where}: memory.attention must be a diffusers attention backend, one of "
            f"{_attention_backends()}"
        )
    if memory.get("cache") == "mag" and not memory["mag_ratios"]:
        raise ModelsFileError(f"{where}: memory.cache = 'mag' needs memory.mag_ratios")
    return ModelSpec(**values, memory=MemoryOptions(**memory))


def _attention_backends() -> list[str]:
    from diffusers.models.attention_dispatch import AttentionBackendName

    return [backend.value for backend in AttentionBackendName]


def _fields(cls: type, values: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    if unknown := set(values) - known:
        raise ModelsFileError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    return dict(values)


def _is_size(size: object) -> bool:
    parts = str(size).split("x")
    return len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts)


# ---------------------------------------------------------------------------------------------
# Checkpoints and loading


def resolve_checkpoint(spec: ModelSpec) -> Path:
    """The local directory holding the diffusers-format checkpoint (never downloads)."""
    if spec.path is not None:
        if not (spec.path / "model_index.json").is_file():
            raise CheckpointMissing(
                f"model '{spec.id}': no diffusers checkpoint at {spec.path} (model_index.json "
                "missing); download it there on a connected machine (see docs/models.md)"
            )
        return spec.path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(spec.repo or "", revision=spec.revision, local_files_only=True)
        )
    except LocalEntryNotFoundError as exc:
        raise CheckpointMissing(
            f"model '{spec.id}': {spec.repo} is not in the Hugging Face cache; run "
            f"`huggingface-cli download {spec.repo}` on a connected machine (see docs/models.md)"
        ) from exc


def read_component_config(checkpoint: Path, component: str = "") -> dict[str, Any]:
    """``model_index.json`` (or ``<component>/config.json``) without loading any weights."""
    name = f"{component}/config.json" if component else "model_index.json"
    return json.loads((checkpoint / name).read_text())


def load_pipeline(spec: ModelSpec) -> Any:
    """Load the checkpoint offline with the spec's dtypes, then apply its memory options."""
    import torch
    from diffusers import DiffusionPipeline

    checkpoint = resolve_checkpoint(spec)
    _quiet_loading()
    dtype: Any = getattr(torch, spec.dtype)
    if spec.vae_dtype and spec.vae_dtype != spec.dtype:
        dtype = {"default": dtype, "vae": getattr(torch, spec.vae_dtype)}
    pipe = DiffusionPipeline.from_pretrained(checkpoint, dtype=dtype, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    apply_memory_options(pipe, spec)
    return pipe


def _quiet_loading() -> None:
    """Loading bars are noise in server logs and in ``mutoscope generate --json`` output."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


def apply_memory_options(pipe: Any, spec: ModelSpec) -> None:
    """Apply ``spec.memory`` in the order diffusers documents (casting before placement)."""
    import torch

    opts, device = spec.memory, torch.device(spec.device)
    denoisers = [
        m for m in (pipe.transformer, getattr(pipe, "transformer_2", None)) if m is not None
    ]
    # 1. fp8 weight storage, upcast per layer to the compute dtype
    if opts.fp8_storage:
        for model in denoisers:
            model.enable_layerwise_casting(
                storage_dtype=torch.float8_e4m3fn, compute_dtype=getattr(torch, spec.dtype)
            )
    # 2. Placement: resident, model offload, or group offload
    if opts.offload == "none":
        pipe.to(device)
    elif opts.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    else:
        level = "leaf_level" if opts.offload == "group-leaf" else "block_level"
        pipe.enable_group_offload(
            onload_device=device,
            offload_type=level,
            num_blocks_per_group=opts.group_blocks if level == "block_level" else None,
            use_stream=opts.use_stream and device.type == "cuda",
        )
    # 3. VAE decode in tiles / one video at a time
    if opts.vae_tiling:
        pipe.vae.enable_tiling()
    if opts.vae_slicing:
        pipe.vae.enable_slicing()
    # 4. Attention kernel, step cache, regional compile (denoisers only)
    for model in denoisers:
        if opts.attention:
            model.set_attention_backend(opts.attention)
        if opts.cache != "none":
            model.enable_cache(_cache_config(spec))
        if opts.compile:
            # Cache hooks wrap each block's forward in Python dynamo cannot trace whole.
            model.compile_repeated_blocks(fullgraph=opts.cache == "none")


def _cache_config(spec: ModelSpec) -> Any:
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig

    opts = spec.memory
    if opts.cache == "first-block":
        return FirstBlockCacheConfig(threshold=opts.cache_threshold or 0.05)
    return MagCacheConfig(
        threshold=opts.cache_threshold or 0.06,
        mag_ratios=list(opts.mag_ratios),
        num_inference_steps=spec.steps or len(opts.mag_ratios),
    )


def weight_bytes(pipe: Any) -> int:
    """Bytes of parameters and buffers held by every module of a pipeline (any device)."""
    import torch

    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            for t in (*component.parameters(), *component.buffers()):
                total += t.numel() * t.element_size()
    return total


def checkpoint_bytes(spec: ModelSpec) -> int:
    """On-disk weight size: the estimate used to make room before a load."""
    try:
        root = resolve_checkpoint(spec)
    except CheckpointMissing:
        return 0
    exts = (".safetensors", ".bin", ".pt", ".pth")
    return sum(p.stat().st_size for p in root.rglob("*") if p.suffix in exts and p.is_file())


def default_budget(devices: set[str]) -> int:
    """90% of the first GPU's memory when a model runs on CUDA, else half the machine's RAM."""
    import torch

    if any(d.startswith("cuda") for d in devices) and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(0).total_memory * 0.9)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.5)


# ---------------------------------------------------------------------------------------------
# The warm pool


class LoadedModel:
    """A loaded pipeline plus the sibling pipelines (I2V, V2V) built on its components."""

    def __init__(self, spec: ModelSpec, pipeline: Any):
        self.spec = spec
        self.pipeline = pipeline
        self.bytes = weight_bytes(pipeline)
        self.lock = threading.Lock()
        """Held while a job runs: diffusers pipelines are not re-entrant."""
        self.users = 0
        self._variants: dict[type, Any] = {type(pipeline): pipeline}
        self._active: type = type(pipeline)

    def variant(self, cls: type) -> Any:
        """``cls`` sharing this pipeline's weights (no copy, no reload)."""
        pipe = self._variants.get(cls)
        if pipe is None:
            base = self.pipeline
            kwargs = {}
            for name, param in inspect.signature(cls).parameters.items():
                if name in base.components:
                    kwargs[name] = base.components[name]
                elif name in base.config and not name.startswith("_"):
                    kwargs[name] = base.config[name]
                elif param.default is inspect.Parameter.empty:
                    kwargs[name] = None
            pipe = self._variants[cls] = cls(**kwargs)
            pipe.set_progress_bar_config(disable=True)
        if cls is not self._active and self.spec.memory.offload == "model":
            # Model offload hooks chain one pipeline's components; re-chain for this one.
            pipe.enable_model_cpu_offload(device=self.spec.device)
        self._active = cls
        return pipe

    def release(self) -> None:
        self._variants.clear()
        self.pipeline = None


class PipelinePool:
    """Keeps pipelines loaded between jobs; evicts least recently used ones over budget.

    The budget counts weight bytes (parameters and buffers) of every loaded pipeline, wherever
    they sit: GPU memory for resident models, host memory for offloaded ones.
    """

    def __init__(self, budget_bytes: int, loader: Any = load_pipeline):
        self.budget_bytes = budget_bytes
        self.loader = loader
        self.loads: Counter[str] = Counter()
        """How many times each model id was loaded (a warm hit does not count)."""
        self.evictions: Counter[str] = Counter()
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    @contextmanager
    def use(self, spec: ModelSpec) -> Iterator[LoadedModel]:
        """The loaded model for ``spec``, held exclusively until the block ends."""
        model = self._acquire(spec)
        try:
            with model.lock:
                yield model
        finally:
            with self._lock:
                model.users -= 1

    def _acquire(self, spec: ModelSpec) -> LoadedModel:
        """A warm model at once; else load it, one loader per model and outside the pool
        lock, so jobs on other warm models keep running during a (minutes-long) load."""
        with self._lock:
            if (model := self._checkout(spec.id)) is not None:
                return model
            gate = self._loading.setdefault(spec.id, threading.Lock())
        estimate = checkpoint_bytes(spec)
        with gate:
            with self._lock:
                if (model := self._checkout(spec.id)) is not None:
                    return model  # another job loaded it while we waited
                self._make_room(estimate, keep=spec.id)
            try:
                pipeline = self.loader(spec)
            except (GenerationFailed, ModelsFileError):
                raise
            except Exception as exc:  # OOM, corrupt files, missing kernels: say which model
                raise GenerationFailed(
                    f"model '{spec.id}' could not be loaded from {spec.source}: {exc}"
                ) from exc
            with self._lock:
                model = self._loaded[spec.id] = LoadedModel(spec, pipeline)
                model.users = 1
                self.loads[spec.id] += 1
                self._make_room(0, keep=spec.id)
                return model

    def _checkout(self, model_id: str) -> LoadedModel | None:
        model = self._loaded.get(model_id)
        if model is not None:
            self._loaded.move_to_end(model_id)
            model.users += 1
        return model

    def loaded(self) -> list[str]:
        """Ids of warm models, least recently used first."""
        return list(self._loaded)

    def used_bytes(self) -> int:
        return sum(m.bytes for m in self._loaded.values())

    def evict(self, model_id: str) -> bool:
        with self._lock:
            model = self._loaded.get(model_id)
            if model is None or model.users:
                return False
            self._drop(model_id)
            return True

    def close(self) -> None:
        for model_id in self.loaded():
            self.evict(model_id)

    def _make_room(self, incoming: int, *, keep: str) -> None:
        while self.used_bytes() + incoming > self.budget_bytes:
            idle = [i for i, m in self._loaded.items() if i != keep and not m.users]
            if not idle:
                if incoming or len(self._loaded) > 1:
                    log.warning("model memory budget exceeded and nothing idle to evict")
                return
            self._drop(idle[0])

    def _drop(self, model_id: str) -> None:
        model = self._loaded.pop(model_id)
        model.release()
        self.evictions[model_id] += 1
        gc.collect()
        _empty_device_cache()
        log.info("evicted model %s (%.1f MiB)", model_id, model.bytes / 2**20)


def _empty_device_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ---------------------------------------------------------------------------------------------
# Running a pipeline


def denoise(pipe: Any, kwargs: dict[str, Any], on_progress: ProgressCallback) -> np.ndarray:
    """Run ``pipe`` and return (T, H, W, 3) uint8 frames.

    Progress is reported after every denoising step (up to 0.95; decoding is the rest). A
    ``JobCancelled`` raised by ``on_progress`` propagates out of the pipeline's step callback,
    so the loop stops after the current step.
    """
    steps = kwargs["num_inference_steps"]

    def on_step_end(p: Any, i: int, t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        total = getattr(p, "_num_timesteps", None) or steps
        on_progress(0.95 * min(1.0, (i + 1) / total))
        return tensors

    import torch

    try:
        out = pipe(**kwargs, output_type="np", callback_on_step_end=on_step_end)
    except BaseException as exc:
        # The pipeline's own cleanup did not run: reset cache hooks and offload state.
        pipe.maybe_free_model_hooks()
        if isinstance(exc, torch.OutOfMemoryError):
            _empty_device_cache()
            raise GenerationFailed(
                "out of GPU memory; in models.toml try memory.offload = 'model' or "
                "'group-leaf', vae_tiling = true, or a smaller size / fewer seconds"
            ) from exc
        raise
    frames = np.asarray(out.frames[0], dtype=np.float32)
    on_progress(1.0)
    return (frames.clip(0.0, 1.0) * 255.0).round().astype(np.uint8)


def generator(seed: int) -> torch.Generator:
    import torch

    return torch.Generator(device="cpu").manual_seed(seed)


def option_number(request: GenerationRequest, name: str, default: float) -> float:
    """A numeric ``request.options`` value (steps, guidance, strength), checked."""
    value = request.options.get(name, default)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"option '{name}' must be a number (got {value!r})", param=name
        ) from None


def reference_image(request: GenerationRequest) -> Image.Image:
    """The request's reference image, else the parent video's first frame (remix) or last
    frame (extend), for image-to-video models."""
    from PIL import Image

    if request.image is not None:
        return request.image
    if request.source_video is None:
        raise InvalidRequest("this model needs an input_reference image", param="input_reference")
    return Image.fromarray(request.source_video[-1 if request.mode == "extend" else 0])


def fit_image(image: Image.Image, width: int, height: int) -> Image.Image:
    """Centre-crop to the target aspect ratio, then resize (no stretching)."""
    from PIL import ImageOps

    return ImageOps.fit(image.convert("RGB"), (width, height))


def fit_video(frames: np.ndarray, count: int, width: int, height: int) -> list[Image.Image]:
    """``count`` evenly spaced frames of a (T, H, W, 3) clip, each cropped and resized."""
    from PIL import Image

    picks = np.linspace(0, len(frames) - 1, num=count).round().astype(int)
    return [fit_image(Image.fromarray(frames[i]), width, height) for i in picks]


# ---------------------------------------------------------------------------------------------
# What every diffusers backend shares


class DiffusersBackend(VideoBackend):
    """Sizes, clip lengths and pool plumbing for one models.toml entry.

    Subclasses (one per family) set the family defaults and write ``generate`` as numbered
    steps: choose the pipeline, build its arguments, ``denoise``, resize to the request.
    """

    family: ClassVar[str]
    default_sizes: ClassVar[tuple[str, ...]]
    default_fps: ClassVar[float]
    default_max_frames: ClassVar[int]
    default_steps: ClassVar[int]
    default_guidance: ClassVar[float]
    default_max_sequence_length: ClassVar[int]
    frame_step: ClassVar[int]
    """Valid frame counts are ``frame_step * k + 1`` (the VAE's temporal compression)."""
    size_multiple: int = 16
    """Sides must be multiples of this (VAE spatial compression x transformer patch)."""

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        self.spec = spec
        self.pool = pool
        self.checkpoint = checkpoint
        self.name = spec.id
        self.aliases = spec.aliases
        self.description = spec.description or f"{self.family} ({spec.source})"
        self.fps = spec.fps or self.default_fps
        self.max_frames = spec.max_frames or self.default_max_frames
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

    def frames_for(self, seconds: str) -> int:
        """The shortest valid frame count covering ``seconds`` at the model's fps."""
        wanted = max(1, round(float(seconds) * self.fps))
        return math.ceil((wanted - 1) / self.frame_step) * self.frame_step + 1

    def native_size(self, request: GenerationRequest) -> tuple[int, int]:
        width, height = self._size_map[request.size].split("x")
        return int(width), int(height)

    def call_kwargs(self, request: GenerationRequest, width: int, height: int) -> dict[str, Any]:
        """Arguments every family's pipelines take; ``request.options`` may override steps,
        guidance and negative prompt."""
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

    def finish(self, frames: np.ndarray, request: GenerationRequest) -> np.ndarray:
        """Frames at the size the request asked for."""
        from mutoscope.media.video import resize_frames  # PyAV: not needed to list models

        return resize_frames(frames, request.width, request.height)

    def close(self) -> None:
        self.pool.evict(self.spec.id)


def map_sizes(native: tuple[str, ...]) -> dict[str, str]:
    """Requestable size -> native size: each native size, plus every OpenAI size whose
    orientation (landscape, portrait, square) a native size shares, closest aspect first."""

    def ratio(size: str) -> float:
        w, h = size.split("x")
        return int(w) / int(h)

    def orientation(size: str) -> int:
        r = ratio(size)
        return 0 if abs(r - 1) < 0.05 else (1 if r > 1 else -1)

    mapping = {size: size for size in native}
    for size in OPENAI_SIZES:
        same = [n for n in native if orientation(n) == orientation(size)]
        if same and size not in mapping:
            mapping[size] = min(same, key=lambda n: abs(math.log(ratio(n) / ratio(size))))
    return mapping


# ---------------------------------------------------------------------------------------------
# Entry point


def backend_class(family: str) -> type[DiffusersBackend]:
    module, _, name = FAMILIES[family].partition(":")
    return getattr(importlib.import_module(module), name)


def build_backends(
    models_file: ModelsFile, pool: PipelinePool | None = None
) -> list[DiffusersBackend]:
    """One backend per entry whose checkpoint is on this machine (others are logged)."""
    if pool is None:
        devices = {m.device for m in models_file.models}
        pool = PipelinePool(models_file.pool.budget_bytes(devices))
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
