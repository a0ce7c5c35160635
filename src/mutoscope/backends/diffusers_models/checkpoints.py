"""Finding a model's diffusers checkpoint on this machine (never downloading) and loading it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mutoscope.backends.diffusers_models.loras import fuse_fixed
from mutoscope.backends.diffusers_models.memory import apply_memory_options
from mutoscope.backends.diffusers_models.models_file import ModelSpec
from mutoscope.errors import GenerationFailed


class CheckpointMissing(GenerationFailed):
    """The weights a model entry points at are not on this machine."""

    code = "model_not_downloaded"


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


def checkpoint_bytes(spec: ModelSpec) -> int:
    """On-disk weight size: the estimate used to make room before a load."""
    try:
        root = resolve_checkpoint(spec)
    except CheckpointMissing:
        return 0
    exts = (".safetensors", ".bin", ".pt", ".pth")
    return sum(p.stat().st_size for p in root.rglob("*") if p.suffix in exts and p.is_file())


def load_pipeline(spec: ModelSpec) -> Any:
    """Load the checkpoint offline with the spec's dtypes, fuse its fixed LoRAs, then apply
    its memory options."""
    import torch
    from diffusers import DiffusionPipeline

    checkpoint = resolve_checkpoint(spec)
    _quiet_loading()
    dtype: Any = getattr(torch, spec.dtype)
    if spec.vae_dtype and spec.vae_dtype != spec.dtype:
        dtype = {"default": dtype, "vae": getattr(torch, spec.vae_dtype)}
    pipe = DiffusionPipeline.from_pretrained(checkpoint, dtype=dtype, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    # Fixed LoRAs are fused into the weights before any casting, placement or compilation.
    fuse_fixed(pipe, spec.loras)
    apply_memory_options(pipe, spec)
    return pipe


def _quiet_loading() -> None:
    """Loading bars are noise in server logs and in ``mutoscope generate --json`` output."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
