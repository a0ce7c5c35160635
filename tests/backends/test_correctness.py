"""What real checkpoints need to come out right: the requested aspect ratio without stretching,
each family's frame-count rules and native fps, MagCache configured for the steps really run,
and a memory budget per device."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mutoscope.backends.diffusers_models import (
    DiffusersBackend,
    MemoryOptions,
    ModelSpec,
    PipelinePool,
    backend_class,
)
from mutoscope.backends.diffusers_models.frames import aspect_size, fit_frames
from mutoscope.errors import InvalidRequest
from tests.backends.conftest import Progress, request

# ---------------------------------------------------------------------------------------------
# Helpers


def disc(width: int, height: int, frames: int = 1) -> np.ndarray:
    """White disc (radius 0.35 x the short side) centred on black, (T, H, W, 3) uint8."""
    yy, xx = np.mgrid[:height, :width]
    radius = 0.35 * min(width, height)
    inside = (xx + 0.5 - width / 2) ** 2 + (yy + 0.5 - height / 2) ** 2 <= radius**2
    frame = np.where(inside[..., None], 255, 0).astype(np.uint8).repeat(3, axis=2)
    return np.repeat(frame[None], frames, axis=0)


def roundness(frame: np.ndarray) -> float:
    """Width / height of the bright blob's bounding box: 1.0 for a circle."""
    ys, xs = np.nonzero(frame[..., 0] > 127)
    return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)


def backend_for(tiny_checkpoints: dict[str, Path], name: str, **fields: Any) -> DiffusersBackend:
    """A backend on a tiny checkpoint with only ``fields`` set: family defaults elsewhere."""
    path = tiny_checkpoints[name]
    values: dict[str, Any] = {"dtype": "float32", "device": "cpu", "max_sequence_length": 16}
    spec = ModelSpec(id=f"tiny-{name}", family=name.split("-")[0], path=path, **values, **fields)
    return backend_class(spec.family)(spec, PipelinePool(2**40), path)


@contextmanager
def decoder_draws_a_disc(backend: DiffusersBackend) -> Iterator[list[tuple[int, ...]]]:
    """Make the VAE decoder paint a centred disc over what it decodes (same shape, same
    return type), and record the (frames, height, width) it decoded. The rest of the path,
    from size choice to the finished clip, is the real one."""
    decoded: list[tuple[int, ...]] = []
    with backend.pool.use(backend.spec) as model:
        vae = model.pipeline.vae
    real = vae.decode

    def decode(*args: Any, **kwargs: Any) -> Any:
        import torch

        out = real(*args, **kwargs)
        video = out[0]  # (B, C, T, H, W) in [-1, 1]
        t, h, w = video.shape[2:]
        decoded.append((t, h, w))
        mask = torch.from_numpy(disc(w, h)[0, :, :, 0] > 0)
        video.copy_(torch.where(mask, 1.0, -1.0).expand_as(video))
        return out

    vae.decode = decode
    try:
        yield decoded
    finally:
        del vae.decode


# ---------------------------------------------------------------------------------------------
# Sizes: crop, never stretch


@pytest.mark.parametrize(
    ("native", "size"),
    [((768, 512), (1280, 720)), ((720, 480), (1792, 1024)), ((512, 768), (720, 1280))],
)
def test_fitting_a_clip_keeps_a_circle_round(
    native: tuple[int, int], size: tuple[int, int]
) -> None:
    clip = disc(*native, frames=2)

    fitted = fit_frames(clip, *size)

    assert fitted.shape == (2, size[1], size[0], 3)
    assert roundness(fitted[0]) == pytest.approx(1.0, abs=0.02)
    # A plain resize would have drawn an ellipse: the measure sees stretching.
    from PIL import Image

    stretched = np.asarray(Image.fromarray(clip[0]).resize(size))
    assert abs(roundness(stretched) - 1.0) > 0.1


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (1792, 1024), (1024, 1792)])
@pytest.mark.parametrize(
    ("native", "multiple"), [((832, 480), 16), ((768, 512), 32), ((1280, 704), 32)]
)
def test_generation_size_has_the_requested_aspect_and_about_the_native_area(
    native: tuple[int, int], multiple: int, size: tuple[int, int]
) -> None:
    if (size[0] > size[1]) != (native[0] > native[1]):
        native = native[::-1]

    width, height = aspect_size(native, size[0] / size[1], multiple)

    assert width % multiple == 0 and height % multiple == 0
    assert width / height == pytest.approx(size[0] / size[1], rel=0.035)
    assert width * height == pytest.approx(native[0] * native[1], rel=0.12)


def test_wan_generates_at_the_requests_aspect_and_the_clip_is_not_stretched(
    tiny_checkpoints: dict[str, Path],
) -> None:
    # Native 2:1; the request is 16:9. The old path generated 2:1 and stretched it.
    backend = backend_for(tiny_checkpoints, "wan", sizes=("192x96",), fps=2, max_frames=9, steps=1)
    assert backend.native_size(request(size="1280x720")) == (176, 96)

    with decoder_draws_a_disc(backend) as decoded:
        video = backend.generate(request(size="1280x720"), Progress())

    assert decoded == [(9, 96, 176)]
    assert video.frames.shape == (8, 720, 1280, 3)
    assert roundness(video.frames[0]) == pytest.approx(1.0, abs=0.02)


def test_a_fixed_size_model_is_cropped_to_the_request_not_stretched(
    tiny_checkpoints: dict[str, Path],
) -> None:
    # CogVideoX 1.0 only works at its trained size (720x480 at full scale; 3:2 here).
    backend = backend_for(
        tiny_checkpoints, "cogvideox", sizes=("48x32",), fps=2, max_frames=9, steps=1
    )
    assert backend.native_size(request(size="1280x720")) == (48, 32)

    with decoder_draws_a_disc(backend) as decoded:
        video = backend.generate(request(size="1280x720"), Progress())

    assert decoded == [(9, 32, 48)]
    assert video.frames.shape == (8, 720, 1280, 3)
    assert roundness(video.frames[0]) == pytest.approx(1.0, abs=0.03)


# ---------------------------------------------------------------------------------------------
# Frame counts and fps


def test_cogvideox_generates_its_trained_49_frames_and_keeps_the_requested_seconds(
    tiny_checkpoints: dict[str, Path],
) -> None:
    backend = backend_for(tiny_checkpoints, "cogvideox", sizes=("16x16",), steps=1)
    assert (backend.fps, backend.max_frames) == (8.0, 49)
    assert backend.frames_for("4") == 49  # not the 33 frames that merely cover 4 s
    assert backend.seconds == ("4",)
    with pytest.raises(InvalidRequest, match="at most 49 frames at 8 fps") as err:
        backend.check(request(size="16x16", seconds="8"))
    assert err.value.param == "seconds"

    with decoder_draws_a_disc(backend) as decoded:
        video = backend.generate(request(size="16x16", seconds="4"), Progress())

    assert decoded == [(49, 16, 16)]
    assert video.frames.shape == (32, 16, 16, 3) and video.fps == 8
    assert video.duration == 4.0


@pytest.mark.parametrize(
    ("name", "fps", "frames", "seconds"),
    [
        ("wan", 16, {"4": 65}, ("4",)),  # Wan 2.1: 4k+1, up to 81 at 16 fps
        ("wan-a14b", 16, {"4": 65}, ("4",)),
        ("wan-ti2v", 24, {"4": 97}, ("4",)),  # Wan 2.2 TI2V-5B: up to 121 at 24 fps
        ("ltx", 24, {"4": 97, "8": 193}, ("4", "8")),  # LTX: 8k+1, up to 257 at 24 fps
    ],
)
def test_family_frame_rules_and_native_fps(
    tiny_checkpoints: dict[str, Path],
    name: str,
    fps: float,
    frames: dict[str, int],
    seconds: tuple[str, ...],
) -> None:
    backend = backend_for(tiny_checkpoints, name)

    assert backend.fps == fps
    assert {s: backend.frames_for(s) for s in frames} == frames
    assert all(backend.output_frames(s) == int(s) * fps for s in frames)
    assert backend.seconds == seconds


def test_every_offered_length_comes_out_exactly(tiny_checkpoints: dict[str, Path]) -> None:
    backend = backend_for(tiny_checkpoints, "ltx", sizes=("32x32",), fps=3, max_frames=25, steps=1)
    assert backend.seconds == ("4", "8")

    for seconds in backend.seconds:
        video = backend.generate(request(size="32x32", seconds=seconds), Progress())
        assert video.duration == float(seconds)


# ---------------------------------------------------------------------------------------------
# MagCache gets the step count of the call


def mag_steps(model: Any) -> int:
    hook = model.blocks[0]._diffusers_hook.get_hook("mag_cache_leader_block_hook")
    return hook.config.num_inference_steps


def test_magcache_is_set_for_the_family_default_steps_when_steps_is_unset(
    tiny_checkpoints: dict[str, Path],
) -> None:
    memory = MemoryOptions(cache="mag", mag_ratios=(1.0, 1.0, 0.99, 0.98))
    backend = backend_for(
        tiny_checkpoints, "wan", sizes=("16x16",), fps=2, max_frames=9, memory=memory
    )
    assert backend.spec.steps is None and backend.steps == 30

    progress = Progress()
    backend.generate(request(size="16x16"), progress)
    with backend.pool.use(backend.spec) as model:
        assert mag_steps(model.pipeline.transformer) == 30
    assert len(progress.values) == 31

    backend.generate(request(size="16x16", options={"steps": 3}), Progress())
    with backend.pool.use(backend.spec) as model:
        assert mag_steps(model.pipeline.transformer) == 3


def test_magcache_on_two_experts_counts_the_steps_each_expert_runs(
    tiny_checkpoints: dict[str, Path],
) -> None:
    memory = MemoryOptions(cache="mag", mag_ratios=(1.0, 0.99, 0.98, 0.97))
    backend = backend_for(
        tiny_checkpoints, "wan-a14b", sizes=("16x16",), fps=2, max_frames=9, memory=memory
    )
    with backend.pool.use(backend.spec) as model:
        pipe = model.pipeline
    calls = {"transformer": 0, "transformer_2": 0}
    handles = [
        getattr(pipe, name).register_forward_pre_hook(
            lambda *_, name=name: calls.__setitem__(name, calls[name] + 1)
        )
        for name in calls
    ]
    try:
        backend.generate(request(size="16x16", options={"steps": 6, "guidance": 1.0}), Progress())
    finally:
        for handle in handles:
            handle.remove()

    assert calls["transformer"] > 0 and calls["transformer_2"] > 0
    assert sum(calls.values()) == 6
    assert mag_steps(pipe.transformer) == calls["transformer"]
    assert mag_steps(pipe.transformer_2) == calls["transformer_2"]


# ---------------------------------------------------------------------------------------------
# Memory budgets per device


class FakePipeline:
    """Just enough of a pipeline for the pool: components with weights."""

    def __init__(self, mib: int):
        import torch

        self.components = {"transformer": torch.nn.Linear(mib * 2**18 // 1024, 1024, bias=False)}


def spec_on(model_id: str, device: str, offload: str = "none") -> ModelSpec:
    return ModelSpec(
        id=model_id,
        family="wan",
        path=Path("/nowhere"),
        device=device,
        memory=MemoryOptions(offload=offload),  # type: ignore[arg-type]
    )


def test_each_gpu_has_its_own_budget_and_evicts_only_its_own_models() -> None:
    budgets = {"cuda:0": 3 * 2**20, "cuda:1": 3 * 2**20, "cpu": 3 * 2**20}
    pool = PipelinePool(budgets.__getitem__, loader=lambda spec: FakePipeline(mib=2))
    on_0, on_1, other_on_0 = spec_on("a", "cuda:0"), spec_on("b", "cuda:1"), spec_on("c", "cuda:0")

    for spec in (on_0, on_1):
        with pool.use(spec):
            pass
    assert pool.loaded() == ["a", "b"]  # 2 MiB on each GPU: both fit their own budget

    with pool.use(other_on_0):
        pass
    assert pool.loaded() == ["b", "c"]  # "a" made room on cuda:0; cuda:1 untouched
    assert pool.used_bytes("cuda:1") == pool.used_bytes("cuda:0") == 2 * 2**20

    with pool.use(spec_on("d", "cuda:1", offload="group-leaf")):
        pass  # offloaded weights live in host memory
    assert pool.loaded() == ["b", "c", "d"] and pool.used_bytes("cpu") == 2 * 2**20


def test_default_budget_reads_the_gpu_the_model_is_placed_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    from mutoscope.backends.diffusers_models.memory import default_budget
    from mutoscope.backends.diffusers_models.models_file import PoolOptions

    asked: list[int] = []

    class Props:
        def __init__(self, index: int):
            asked.append(index)
            self.total_memory = (index + 1) * 10 * 2**30

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties", Props)

    assert default_budget("cuda:1") == int(20 * 2**30 * 0.9)
    assert PoolOptions().budget_bytes("cuda:0") == int(10 * 2**30 * 0.9)
    assert PoolOptions(budget_gb=4).budget_bytes("cuda:1") == 4 * 2**30
    assert asked == [1, 0]


def test_build_backends_gives_the_pool_a_budget_per_place(
    write_models: Callable[..., Path],
) -> None:
    from mutoscope.backends.diffusers_models import build_backends, read_models_file

    path = write_models(("a", "wan", {}), pool="[pool]\nbudget_gb = 2\n")
    (backend,) = build_backends(read_models_file(path))

    assert backend.pool.budget("cpu") == backend.pool.budget("cuda:3") == 2 * 2**30
