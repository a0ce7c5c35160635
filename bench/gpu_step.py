"""Per-denoising-step latency and peak memory of the Wan 2.1 1.3B transformer.

Builds the real ``WanTransformer3DModel`` architecture with random weights (speed does not
depend on weight values) and runs the Wan pipeline's denoising loop (classifier-free guidance:
a conditional and an unconditional forward per step, flow-matching Euler steps) under three
configurations in one process:

  vanilla   diffusers defaults: bf16, native SDPA attention, eager
  neutral   + regional torch.compile (compile_repeated_blocks) + attention backend
            (quality-neutral: same maths, different kernels)
  tuned     + FirstBlockCache (skips the remaining blocks when the first block's residual
            barely changes; trades a little quality for speed)

On CUDA it defaults to the full size (480x832, 81 frames, 30 layers, bf16). Without a GPU it
runs a reduced size on CPU (float32) so the script stays exercised:

    python bench/gpu_step.py                      # full size on CUDA, reduced on CPU
    python bench/gpu_step.py --no-compile --steps 4
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

WAN_1_3B = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
}


@dataclass
class Result:
    name: str
    step_seconds: float
    peak_bytes: int | None
    skipped_note: str = ""


def parse_args() -> argparse.Namespace:
    cuda = torch.cuda.is_available()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if cuda else "cpu")
    p.add_argument("--height", type=int, default=480 if cuda else 64)
    p.add_argument("--width", type=int, default=832 if cuda else 112)
    p.add_argument("--frames", type=int, default=81 if cuda else 9)
    p.add_argument("--layers", type=int, default=30 if cuda else 4)
    p.add_argument("--steps", type=int, default=10 if cuda else 4, help="timed steps per config")
    p.add_argument("--warmup", type=int, default=2 if cuda else 1)
    p.add_argument("--dtype", default="bfloat16" if cuda else "float32")
    p.add_argument("--attention", default="_native_cudnn" if cuda else "native")
    p.add_argument("--cache-threshold", type=float, default=0.05)
    p.add_argument("--no-compile", action="store_true")
    return p.parse_args()


def build(args: argparse.Namespace) -> torch.nn.Module:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    config = {**WAN_1_3B, "num_layers": args.layers}
    with torch.device("meta"):
        model = WanTransformer3DModel(**config)
    model = model.to_empty(device=args.device).to(getattr(torch, args.dtype)).eval()
    # As from_pretrained does: norms, RoPE and the time embedder stay in float32.
    keep = set(model._keep_in_fp32_modules or ())
    for name, module in model.named_modules():
        if keep & set(name.split(".")):
            module.float()
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.02)
    return model


def denoise_loop(model: torch.nn.Module, args: argparse.Namespace, steps: int) -> None:
    """The WanPipeline loop on the transformer alone (CFG with cache contexts, Euler steps)."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    dtype, device = getattr(torch, args.dtype), args.device
    g = torch.Generator(device="cpu").manual_seed(0)
    shape = (1, 16, (args.frames - 1) // 4 + 1, args.height // 8, args.width // 8)
    latents = torch.randn(shape, generator=g).to(device, dtype)
    text = torch.randn((1, 512, 4096), generator=g).to(device, dtype) * 0.1
    negative = torch.randn((1, 512, 4096), generator=g).to(device, dtype) * 0.1
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    scheduler.set_timesteps(steps, device=device)
    with torch.no_grad():
        for i, t in enumerate(scheduler.timesteps):
            timestep = t.expand(1)
            with model.cache_context("cond", step_index=i):  # type: ignore[operator]
                cond = model(latents, timestep, text, return_dict=False)[0]
            with model.cache_context("uncond", step_index=i):  # type: ignore[operator]
                uncond = model(latents, timestep, negative, return_dict=False)[0]
            guided = uncond + 5.0 * (cond - uncond)
            latents = scheduler.step(guided, t, latents, return_dict=False)[0]
    if hasattr(model, "_reset_stateful_cache"):
        model._reset_stateful_cache()


def measure(name: str, model: torch.nn.Module, args: argparse.Namespace) -> Result:
    on_cuda = args.device.startswith("cuda")
    sync: Callable[[], None] = torch.cuda.synchronize if on_cuda else (lambda: None)
    denoise_loop(model, args, args.warmup)  # compile and autotune outside the timing
    sync()
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    denoise_loop(model, args, args.steps)
    sync()
    per_step = (time.perf_counter() - started) / args.steps
    peak = torch.cuda.max_memory_allocated() if args.device.startswith("cuda") else None
    return Result(name, per_step, peak)


def main() -> None:
    args = parse_args()
    from diffusers.hooks import FirstBlockCacheConfig

    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(
        f"Wan 2.1 1.3B transformer ({args.layers} layers), {args.width}x{args.height}, "
        f"{args.frames} frames, {args.dtype}, {args.steps} timed steps (CFG: 2 forwards/step) "
        f"on {device_name}, torch {torch.__version__}"
    )
    results = []
    for name in ("vanilla", "neutral", "tuned"):
        model = build(args)
        if name != "vanilla":
            model.set_attention_backend(args.attention)
        if name == "tuned":
            model.enable_cache(FirstBlockCacheConfig(threshold=args.cache_threshold))
        if name != "vanilla" and not args.no_compile:
            # Cache hooks are Python around each block: no fullgraph with them (as Mutoscope does).
            model.compile_repeated_blocks(fullgraph=name == "neutral")
        results.append(measure(name, model, args))
        print(f"  {name}: {results[-1].step_seconds:.3f} s/step", flush=True)
        del model
        gc.collect()
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()

    base = results[0].step_seconds
    compiled = "compile + " if not args.no_compile else ""
    notes = {
        "vanilla": "diffusers defaults",
        "neutral": f"{compiled}attention={args.attention}",
        "tuned": f"{compiled}attention={args.attention} + FirstBlockCache({args.cache_threshold})",
    }
    print(f"{'config':<9} {'s/step':>9} {'speed-up':>9} {'peak GPU':>10}  what")
    for r in results:
        peak = f"{r.peak_bytes / 2**30:.2f} GiB" if r.peak_bytes is not None else "n/a"
        speedup = base / r.step_seconds
        print(f"{r.name:<9} {r.step_seconds:9.3f} {speedup:8.2f}x {peak:>10}  {notes[r.name]}")
    print(f"peak host RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(
        "note: FirstBlockCache skips depend on how residuals evolve; with random weights the "
        "'tuned' figure is indicative only. 'neutral' is exact."
    )


if __name__ == "__main__":
    main()
