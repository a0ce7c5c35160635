"""Step caches that skip transformer work between similar denoising steps (FirstBlockCache,
MagCache), configured from ``[models.memory]``.

MagCache is tied to the number of denoising steps: it stretches its calibrated ratios to that
count and resets its state after that many steps. So it is configured again, per denoiser,
whenever a call runs another step count than the last one (an unset ``steps`` means the
family's default, a request may ask for its own), and a two-expert model (Wan 2.2 A14B) gives
each expert the steps it really runs.
"""

from __future__ import annotations

import copy
from typing import Any
from weakref import WeakKeyDictionary

from mutoscope.backends.diffusers_models.models_file import ModelSpec

_configured_steps: WeakKeyDictionary[Any, int] = WeakKeyDictionary()
"""Denoiser module -> the step count its MagCache is configured for."""


def cache_config(spec: ModelSpec, steps: int | None = None) -> Any:
    """The diffusers cache config for ``spec``; ``steps`` is the number of denoising steps the
    cached model runs per call (MagCache only)."""
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig

    opts = spec.memory
    if opts.cache == "first-block":
        return FirstBlockCacheConfig(threshold=opts.cache_threshold or 0.05)
    return MagCacheConfig(
        threshold=opts.cache_threshold or 0.06,
        mag_ratios=list(opts.mag_ratios),
        num_inference_steps=steps or spec.steps or len(opts.mag_ratios),
    )


def enable_cache(model: Any, spec: ModelSpec, steps: int | None = None) -> None:
    config = cache_config(spec, steps)
    model.enable_cache(config)
    if spec.memory.cache == "mag":
        _configured_steps[model] = config.num_inference_steps


def sync_cache_steps(pipe: Any, spec: ModelSpec, steps: int) -> dict[str, int]:
    """Reconfigure MagCache for a call of ``steps`` denoising steps where its count differs;
    returns ``{denoiser name: steps it runs}`` (empty without MagCache)."""
    if spec.memory.cache != "mag":
        return {}
    counts = expert_steps(pipe, steps)
    for name, count in counts.items():
        model = getattr(pipe, name)
        if count and _configured_steps.get(model) != count:
            model.disable_cache()
            enable_cache(model, spec, count)
    return counts


def expert_steps(pipe: Any, steps: int) -> dict[str, int]:
    """How many of ``steps`` each denoiser runs: all of them, or for a two-expert pipeline
    (``boundary_ratio``) the high-noise steps on ``transformer`` and the rest on
    ``transformer_2``, split where the pipeline splits them."""
    ratio = getattr(pipe, "config", {}).get("boundary_ratio")
    if getattr(pipe, "transformer_2", None) is None or ratio is None:
        return {"transformer": steps}
    scheduler = copy.deepcopy(pipe.scheduler)
    scheduler.set_timesteps(steps, device="cpu")
    boundary = ratio * scheduler.config.num_train_timesteps
    high = sum(1 for t in scheduler.timesteps if t >= boundary)
    return {"transformer": high, "transformer_2": steps - high}
