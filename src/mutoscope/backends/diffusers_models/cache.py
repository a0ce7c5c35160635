"""Step caches that skip transformer work between similar denoising steps (FirstBlockCache,
MagCache), configured from ``[models.memory]``."""

from __future__ import annotations

from typing import Any

from mutoscope.backends.diffusers_models.models_file import ModelSpec


def cache_config(spec: ModelSpec) -> Any:
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig

    opts = spec.memory
    if opts.cache == "first-block":
        return FirstBlockCacheConfig(threshold=opts.cache_threshold or 0.05)
    return MagCacheConfig(
        threshold=opts.cache_threshold or 0.06,
        mag_ratios=list(opts.mag_ratios),
        num_inference_steps=spec.steps or len(opts.mag_ratios),
    )
