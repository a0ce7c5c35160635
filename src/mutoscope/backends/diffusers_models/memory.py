"""Memory: where a pipeline's weights live (resident, offloaded, fp8), how much they weigh, and
the budget the warm pool keeps them under."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mutoscope.backends.diffusers_models.models_file import ModelSpec


def apply_memory_options(pipe: Any, spec: ModelSpec) -> None:
    """Apply ``spec.memory`` in the order diffusers documents (casting before placement)."""
    import torch

    from mutoscope.backends.diffusers_models.cache import enable_cache

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
            enable_cache(model, spec)
        if opts.compile:
            # Cache hooks wrap each block's forward in Python dynamo cannot trace whole.
            model.compile_repeated_blocks(fullgraph=opts.cache == "none")


def weight_bytes(pipe: Any) -> int:
    """Bytes of parameters and buffers held by every module of a pipeline (any device)."""
    import torch

    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            for t in (*component.parameters(), *component.buffers()):
                total += t.numel() * t.element_size()
    return total


def memory_place(spec: ModelSpec) -> str:
    """Which memory holds a model's weights between jobs: its GPU (``cuda:N``) when they are
    resident there, else ``cpu`` (CPU models, and offloaded ones, whose weights wait in host
    memory). Each place has its own budget."""
    device = spec.device
    if spec.memory.offload != "none" or not device.startswith("cuda"):
        return "cpu"
    if ":" in device:
        return device
    import torch

    index = torch.cuda.current_device() if torch.cuda.is_available() else 0
    return f"cuda:{index}"


def default_budget(place: str) -> int:
    """90% of that GPU's memory for ``cuda:N``, else half the machine's RAM."""
    import torch

    if place.startswith("cuda") and torch.cuda.is_available():
        index = int(place.partition(":")[2] or 0)
        return int(torch.cuda.get_device_properties(index).total_memory * 0.9)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.5)


def empty_device_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
