"""LoRA adapters and named presets of a ``models.toml`` entry.

A model declares its LoRAs (``[[models.loras]]``) and presets (``[models.presets.NAME]``):

* a LoRA with ``fuse = true`` is fixed: it is loaded, fused into the transformer's weights at
  load time and its adapter layers dropped, so it costs nothing per step;
* the others are loaded the first time a request names them (``loras``, or a preset) and then
  kept: each job activates exactly the adapters it asked for (``set_adapters``) and a job that
  names none runs with them disabled, so one request's LoRAs never leak into the next;
* a preset bundles LoRAs with steps, guidance and the scheduler (class and flow ``shift``) they
  were distilled for, e.g. a 4-step LightX2V LoRA for Wan; explicit request options win.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mutoscope.backends.request_options import MAX_LORA_SCALE, MAX_STEPS, NAME


class LoraFileError(ValueError):
    """A LoRA or preset entry is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class LoraSpec:
    """One ``[[models.loras]]`` entry."""

    name: str
    path: Path
    """A ``.safetensors`` file, or a directory holding ``weight_name``."""
    weight_name: str | None = None
    scale: float = 1.0
    """The default strength; a request (``NAME:SCALE``) or a preset may set another."""
    fuse: bool = False
    """Always applied, fused into the weights when the model loads (requests cannot name it)."""
    description: str = ""

    @property
    def source(self) -> tuple[str, str | None]:
        """``(directory, weight_name)`` as ``load_lora_weights`` takes them."""
        if self.path.is_file() or self.path.suffix == ".safetensors":
            return str(self.path.parent), self.path.name
        return str(self.path), self.weight_name


@dataclass(frozen=True)
class PresetSpec:
    """One ``[models.presets.NAME]`` table."""

    name: str
    loras: tuple[tuple[str, float | None], ...] = ()
    steps: int | None = None
    guidance: float | None = None
    shift: float | None = None
    """The flow-matching shift the LoRA was distilled with (``shift`` / ``flow_shift``)."""
    scheduler: str | None = None
    """A diffusers scheduler class, built from the model's scheduler config."""
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    """``steps`` / ``guidance`` as request options, under any the request sets itself."""


def parse_loras(entries: Any, base: Path, where: str) -> tuple[LoraSpec, ...]:
    """``[[models.loras]]`` tables as ``LoraSpec``s (paths relative to models.toml)."""
    if not isinstance(entries, list):
        raise LoraFileError(f"{where}: loras must be a list of [[models.loras]] tables")
    loras = []
    for n, entry in enumerate(entries):
        at = f"{where} loras #{n + 1} ({entry.get('name', 'no name')})"
        known = {"name", "path", "weight_name", "scale", "fuse", "description"}
        if unknown := set(entry) - known:
            raise LoraFileError(f"{at}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        if not entry.get("name") or not entry.get("path"):
            raise LoraFileError(f"{at}: 'name' and 'path' are required")
        _check_name(entry["name"], at)
        scale = entry.get("scale", 1.0)
        if not isinstance(scale, int | float) or abs(scale) > MAX_LORA_SCALE:
            raise LoraFileError(f"{at}: scale must be a number from -4 to 4")
        path = Path(os.path.expanduser(str(entry["path"])))
        loras.append(
            LoraSpec(
                name=entry["name"],
                path=path if path.is_absolute() else base / path,
                weight_name=entry.get("weight_name"),
                scale=float(scale),
                fuse=bool(entry.get("fuse", False)),
                description=str(entry.get("description", "")),
            )
        )
    names = [lora.name for lora in loras]
    if len(set(names)) != len(names):
        raise LoraFileError(f"{where}: LoRA names must be unique ({names})")
    return tuple(loras)


def parse_presets(tables: Any, loras: tuple[LoraSpec, ...], where: str) -> dict[str, PresetSpec]:
    """``[models.presets.NAME]`` tables as ``PresetSpec``s, checked against the LoRAs."""
    if not isinstance(tables, dict):
        raise LoraFileError(f"{where}: presets must be tables, e.g. [models.presets.fast]")
    by_name = {lora.name: lora for lora in loras}
    presets = {}
    for name, table in tables.items():
        at = f"{where} presets.{name}"
        _check_name(name, at)
        known = {"loras", "steps", "guidance", "shift", "scheduler", "description"}
        if not isinstance(table, dict) or set(table) - known:
            raise LoraFileError(f"{at}: a preset takes only the keys {sorted(known)}")
        uses = tuple(_preset_lora(item, at) for item in table.get("loras", []))
        for lora_name, _ in uses:
            if lora_name not in by_name:
                raise LoraFileError(f"{at}: no LoRA named '{lora_name}' in this model's loras")
            if by_name[lora_name].fuse:
                raise LoraFileError(
                    f"{at}: LoRA '{lora_name}' is fused (always applied); drop it here"
                )
        steps, guidance = table.get("steps"), table.get("guidance")
        if steps is not None and not (isinstance(steps, int) and 1 <= steps <= MAX_STEPS):
            raise LoraFileError(f"{at}: steps must be a whole number from 1 to {MAX_STEPS}")
        if guidance is not None and not isinstance(guidance, int | float):
            raise LoraFileError(f"{at}: guidance must be a number")
        scheduler = table.get("scheduler")
        if scheduler is not None and scheduler_class(scheduler) is None:
            raise LoraFileError(
                f"{at}: scheduler must be a diffusers scheduler class such as "
                f"'FlowMatchEulerDiscreteScheduler' (got '{scheduler}')"
            )
        options: dict[str, Any] = {}
        if steps is not None:
            options["steps"] = steps
        if guidance is not None:
            options["guidance"] = float(guidance)
        presets[name] = PresetSpec(
            name=name,
            loras=uses,
            steps=steps,
            guidance=None if guidance is None else float(guidance),
            shift=None if table.get("shift") is None else float(table["shift"]),
            scheduler=scheduler,
            description=str(table.get("description", "")),
            options=options,
        )
    return presets


def _preset_lora(item: Any, at: str) -> tuple[str, float | None]:
    if isinstance(item, str):
        name, _, text = item.partition(":")
        try:
            return name, float(text) if text else None
        except ValueError:
            raise LoraFileError(f"{at}: '{item}' is not NAME or NAME:SCALE") from None
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        value = item.get("scale")
        return item["name"], None if value is None else float(value)
    raise LoraFileError(f'{at}: loras entries are "NAME", "NAME:SCALE" or {{name, scale}}')


def _check_name(name: object, at: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise LoraFileError(f"{at}: names are letters, digits, '.', '_' and '-' (got {name!r})")


def scheduler_class(name: str) -> type | None:
    import diffusers

    cls = getattr(diffusers, name, None)
    return cls if isinstance(cls, type) and name.endswith("Scheduler") else None


# ---------------------------------------------------------------------------------------------
# On a loaded pipeline


def fuse_fixed(pipe: Any, loras: tuple[LoraSpec, ...]) -> None:
    """Load every ``fuse = true`` LoRA, fuse it at its scale, then drop the adapter layers
    (the fused weights stay): fixed LoRAs cost nothing per step."""
    fixed = [lora for lora in loras if lora.fuse]
    for lora in fixed:
        folder, weight_name = lora.source
        pipe.load_lora_weights(folder, weight_name=weight_name, adapter_name=lora.name)
        pipe.fuse_lora(lora_scale=lora.scale, adapter_names=[lora.name])
    if fixed:
        pipe.unload_lora_weights()


def loaded_adapters(pipe: Any) -> set[str]:
    """Adapter names loaded into any of the pipeline's components."""
    lists = pipe.get_list_adapters() if hasattr(pipe, "get_list_adapters") else {}
    return {name for names in lists.values() for name in names}


def activate(pipe: Any, wanted: list[tuple[LoraSpec, float]]) -> None:
    """Make exactly ``wanted`` (LoRA, scale) the active adapters, loading any not loaded yet;
    with nothing wanted, disable the loaded ones."""
    loaded = loaded_adapters(pipe)
    for lora, _ in wanted:
        if lora.name not in loaded:
            _load(pipe, lora)
    if wanted:
        pipe.enable_lora()
        pipe.set_adapters([lora.name for lora, _ in wanted], [scale for _, scale in wanted])
    elif loaded:
        pipe.disable_lora()


def _load(pipe: Any, lora: LoraSpec) -> None:
    from mutoscope.errors import GenerationFailed

    folder, weight_name = lora.source
    try:
        pipe.load_lora_weights(folder, weight_name=weight_name, adapter_name=lora.name)
    except Exception as exc:
        if lora.name in loaded_adapters(pipe):  # half loaded: leave the model as it was
            pipe.delete_adapters(lora.name)
        raise GenerationFailed(
            f"LoRA '{lora.name}' could not be loaded from {lora.path}: {exc}; check that it "
            "is a diffusers/peft LoRA for this model's family (see docs/models.md)",
            code="lora_failed",
        ) from exc


@contextmanager
def scheduler_for(pipe: Any, preset: PresetSpec | None) -> Iterator[None]:
    """Run with the preset's scheduler (class and shift), then restore the model's own."""
    if preset is None or (preset.scheduler is None and preset.shift is None):
        yield
        return
    original = pipe.scheduler
    cls: Any = scheduler_class(preset.scheduler) if preset.scheduler else type(original)
    assert cls is not None  # checked when models.toml was read
    overrides: dict[str, Any] = {}
    if preset.shift is not None:
        accepted = inspect.signature(cls.__init__).parameters
        overrides["flow_shift" if "flow_shift" in accepted else "shift"] = preset.shift
    pipe.scheduler = cls.from_config(original.config, **overrides)
    try:
        yield
    finally:
        pipe.scheduler = original
