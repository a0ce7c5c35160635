"""Running a pipeline: the generic call with progress and cancellation, and request options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mutoscope.backends.base import GenerationRequest, ProgressCallback
from mutoscope.backends.diffusers_models.memory import empty_device_cache
from mutoscope.errors import GenerationFailed, InvalidRequest

if TYPE_CHECKING:
    import torch


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
            empty_device_cache()
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
