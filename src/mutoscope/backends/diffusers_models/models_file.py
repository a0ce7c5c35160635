"""``models.toml``: the typed ``ModelSpec`` of each ``[[models]]`` entry and its checks."""

from __future__ import annotations

import os
import tomllib
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from mutoscope.backends.diffusers_models.loras import (
    LoraFileError,
    LoraSpec,
    PresetSpec,
    parse_loras,
    parse_presets,
)

FAMILIES = {
    "wan": "mutoscope.backends.wan:WanBackend",
    "wan-vace": "mutoscope.backends.wan_vace:WanVACEBackend",
    "ltx": "mutoscope.backends.ltx:LTXBackend",
    "cogvideox": "mutoscope.backends.cogvideox:CogVideoXBackend",
    "ltx2": "mutoscope.backends.ltx2:LTX2Backend",
    "hunyuanvideo15": "mutoscope.backends.hunyuanvideo15:HunyuanVideo15Backend",
}
DTYPES = ("float32", "bfloat16", "float16")
Offload = Literal["none", "model", "group-leaf", "group-block"]
Cache = Literal["none", "first-block", "mag"]


class ModelsFileError(ValueError):
    """``models.toml`` is malformed; the message names the entry and field to fix."""


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
    loras: tuple[LoraSpec, ...] = ()
    """``[[models.loras]]``: adapters fused when the model loads, or named per request."""
    presets: dict[str, PresetSpec] = field(default_factory=dict)
    """``[models.presets.NAME]``: LoRAs, steps, guidance and scheduler a request picks by name."""

    @property
    def source(self) -> str:
        return str(self.path) if self.path else f"{self.repo}@{self.revision or 'main'}"


@dataclass(frozen=True)
class PoolOptions:
    """``[pool]``: how many bytes of weights may stay loaded at once on each device (each
    GPU, and host memory for CPU and offloaded models); least recently used beyond that."""

    budget_gb: float | None = None

    def budget_bytes(self, place: str) -> int:
        """The budget for one memory place (``cuda:N`` or ``cpu``)."""
        from mutoscope.backends.diffusers_models.memory import default_budget

        if self.budget_gb is not None:
            return int(self.budget_gb * 1024**3)
        return default_budget(place)


@dataclass(frozen=True)
class ModelsFile:
    pool: PoolOptions
    models: tuple[ModelSpec, ...]


#: ``[[models]]`` families served by remote inference engines, not by diffusers.
ENGINE_FAMILIES = ("openai-videos",)


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
    # Entries of engine families are read by their own backends (backends/openai_videos.py).
    entries = [m for m in data.get("models", []) if m.get("family") not in ENGINE_FAMILIES]
    models = tuple(_model_spec(entry, path.parent, n) for n, entry in enumerate(entries))
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
    try:
        values["loras"] = parse_loras(values.get("loras", []), base, where)
        values["presets"] = parse_presets(values.get("presets", {}), values["loras"], where)
    except LoraFileError as exc:
        raise ModelsFileError(str(exc)) from None
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
