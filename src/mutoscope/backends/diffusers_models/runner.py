"""Running a pipeline: the generic call with progress and cancellation, and request options."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mutoscope.backends.base import GenerationRequest, ProgressCallback
from mutoscope.backends.diffusers_models.memory import empty_device_cache
from mutoscope.errors import GenerationFailed, InvalidRequest

if TYPE_CHECKING:
    import torch


@dataclass
class Rendered:
    """What a pipeline call made: (T, H, W, 3) uint8 frames, and the soundtrack of pipelines
    that make one (LTX-2) as float32 (channels, n) samples, else None."""

    frames: np.ndarray
    audio: np.ndarray | None = None


def denoise(pipe: Any, kwargs: dict[str, Any], on_progress: ProgressCallback) -> np.ndarray:
    """Run ``pipe`` and return (T, H, W, 3) uint8 frames (see ``render``)."""
    return render(pipe, kwargs, on_progress).frames


def render(pipe: Any, kwargs: dict[str, Any], on_progress: ProgressCallback) -> Rendered:
    """Run ``pipe`` and return its frames (and audio, if it makes any).

    Progress is reported after every denoising step (up to 0.95; decoding is the rest). A
    ``JobCancelled`` raised by ``on_progress`` propagates out of the pipeline's step callback
    (or, for pipelines without one, out of the scheduler's step), so the loop stops after the
    current step.
    """
    import torch

    steps = kwargs["num_inference_steps"]
    progress = _StepProgress(on_progress, steps)
    takes_callback = "callback_on_step_end" in inspect.signature(pipe.__call__).parameters
    try:
        if takes_callback:
            out = pipe(**kwargs, output_type="np", callback_on_step_end=progress.on_step_end)
        else:
            with progress.counting_scheduler_steps(pipe.scheduler):
                out = pipe(**kwargs, output_type="np")
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
    audio = getattr(out, "audio", None)
    if audio is not None:
        audio = np.asarray(torch.as_tensor(audio[0]).float().cpu(), dtype=np.float32)
    on_progress(1.0)
    return Rendered((frames.clip(0.0, 1.0) * 255.0).round().astype(np.uint8), audio)


class _StepProgress:
    def __init__(self, on_progress: ProgressCallback, steps: int):
        self.on_progress = on_progress
        self.steps = steps

    def on_step_end(self, p: Any, i: int, t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        total = getattr(p, "_num_timesteps", None) or self.steps
        self.on_progress(0.95 * min(1.0, (i + 1) / total))
        return tensors

    @contextmanager
    def counting_scheduler_steps(self, scheduler: Any) -> Iterator[None]:
        """Report a step each time the scheduler steps (the instance attribute shadows the
        class's method for this call only)."""
        done = 0

        def step(*args: Any, **kwargs: Any) -> Any:
            nonlocal done
            result = type(scheduler).step(scheduler, *args, **kwargs)
            done += 1
            self.on_progress(0.95 * min(1.0, done / self.steps))
            return result

        scheduler.step = step
        try:
            yield
        finally:
            del scheduler.step


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
