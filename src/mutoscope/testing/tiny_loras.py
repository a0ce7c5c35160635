"""Tiny LoRA files for the tiny pipelines of ``tiny_pipelines``: random low-rank adapters on
the transformer's attention projections, made with peft and saved the way diffusers saves
trained LoRAs (``save_lora_weights``), so they load through exactly the code real ones do.

Their effect is noise: they prove that an adapter is loaded, applied, scaled, fused and
switched off, not any style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def save_tiny_lora(checkpoint: Path, path: Path, *, seed: int = 0, rank: int = 4) -> Path:
    """A LoRA for the tiny checkpoint at ``checkpoint``, written to the file ``path``."""
    import torch
    from diffusers import DiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe: Any = DiffusionPipeline.from_pretrained(checkpoint, local_files_only=True)
    torch.manual_seed(seed)
    config = LoraConfig(
        r=rank, lora_alpha=rank, target_modules=TARGETS, init_lora_weights="gaussian"
    )
    pipe.transformer.add_adapter(config)
    with torch.no_grad():
        # peft starts B at zero (a no-op adapter); give it weight so the LoRA changes outputs.
        for name, param in pipe.transformer.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    layers = get_peft_model_state_dict(pipe.transformer)
    path.parent.mkdir(parents=True, exist_ok=True)
    type(pipe).save_lora_weights(path.parent, transformer_lora_layers=layers, weight_name=path.name)
    return path
