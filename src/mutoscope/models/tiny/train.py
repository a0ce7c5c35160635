"""Train ``mutoscope-tiny``: first the frame autoencoder, then the text-conditioned denoiser.

Resumable: everything (both networks, optimisers, EMA, step counters and wall time spent) lives
in ``<out>/checkpoint.pt``, written every ``--checkpoint-minutes``. Run it again with the same
``--out`` to continue. ``--export`` writes the shippable safetensors (EMA denoiser + autoencoder,
fp16) with metadata recording how, where and how long it trained.

    python -m mutoscope.models.tiny.train --out runs/tiny --minutes 90
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import platform
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mutoscope.models.tiny import world
from mutoscope.models.tiny.modeling import DenoiserConfig, FrameAutoencoder, TinyDenoiser
from mutoscope.models.tiny.text import MiniLMTextEncoder

log = logging.getLogger("mutoscope.tiny.train")

SHIFT = 6.0
"""Noise-level shift toward high noise; without it the denoiser ignores the caption."""
CAPTION_DROP = 0.1
OBJECT_WEIGHT = 4.0
"""Extra loss weight on latent cells an object covers (they are a small part of each frame)."""
PRIOR_WEIGHT = 1.0
"""Weight of the layout prior's own regression onto the clean clip."""


@dataclass
class TrainConfig:
    out: Path = Path("runs/tiny")
    ae_steps: int = 500
    ae_batch: int = 48
    steps: int = 1_000_000
    minutes: float = 120.0
    batch: int = 32
    lr: float = 4e-4
    pool: int = 1500
    refresh: int = 4
    ema: float = 0.998
    checkpoint_minutes: float = 3.0
    decay: bool = False
    """Cosine-decay the learning rate over this run's ``minutes`` (use for the final stretch)."""
    device: str = "cpu"
    threads: int = 2
    seed: int = 0
    prior_only: bool = False
    """Train only the layout prior (much cheaper per step than the UNet); the rest stays put."""
    init_from: Path | None = None
    """Start a new ``out`` from another run's checkpoint (autoencoder and matching weights)."""
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)


def to_unit(clip: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float (..., 3, H, W) in [-1, 1]."""
    t = torch.from_numpy(clip).float().div(127.5).sub(1.0)
    return t.movedim(-1, -3)


def sigma_schedule(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training noise levels: logit-normal (75 %) or uniform (25 %), shifted toward high noise."""
    u = torch.sigmoid(torch.randn(n, generator=generator))
    uniform = torch.rand(n, generator=generator)
    u = torch.where(torch.rand(n, generator=generator) < 0.25, uniform, u)
    return SHIFT * u / (1 + (SHIFT - 1) * u)


# -- stage 1: autoencoder -------------------------------------------------------------------


def pixel_weight(frames: np.ndarray, scene: world.Scene) -> torch.Tensor:
    """(N, 1, H, W) loss weights for rendered ``frames`` of ``scene``: 9 on and next to an
    object (pixels far from the backdrop, dilated by one), 1 elsewhere."""
    bg = world.background(scene.background, scene.gradient).astype(np.int16)
    obj = (np.abs(frames.astype(np.int16) - bg).sum(-1) > 30).astype(np.float32)
    return 1.0 + 8.0 * F.max_pool2d(torch.from_numpy(obj)[:, None], 3, 1, 1)


def _frame_batch(rng: random.Random, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    frames, weights = [], []
    for _ in range(n // 4):
        scene = world.sample_scene(rng, "train")
        sel = world.render(scene)[rng.sample(range(world.FRAMES), 4)]
        frames.append(sel)
        weights.append(pixel_weight(sel, scene))
    return to_unit(np.concatenate(frames)), torch.cat(weights)


def train_autoencoder_step(
    ae: FrameAutoencoder, opt: torch.optim.Optimizer, rng: random.Random, batch: int, device: str
) -> float:
    x, w = _frame_batch(rng, batch)
    x, w = x.to(device), w.to(device)
    z = ae.encode(x)
    y = ae.decode(z + 0.05 * torch.randn_like(z))
    loss = ((y - x).abs() * w).mean() + ((y - x).square() * w).mean() + 1e-4 * z.square().mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


@torch.no_grad()
def calibrate_latent_scale(ae: FrameAutoencoder, device: str) -> float:
    rng = random.Random(99)
    x, _ = _frame_batch(rng, 256)
    std = float(ae.encode(x.to(device)).std())
    ae.latent_scale.fill_(1.0 / std)
    return 1.0 / std


# -- stage 2: denoiser ----------------------------------------------------------------------


class ClipPool:
    """A replay pool of encoded training clips, refreshed a few clips per step.

    Rendering, MiniLM and the frozen encoder cost far less per step this way than the denoiser.
    """

    def __init__(
        self, ae: FrameAutoencoder, text: MiniLMTextEncoder, size: int, seed: int, device: str
    ):
        self.ae, self.text, self.device = ae, text, device
        self.rng = random.Random(seed)
        self.latents = torch.empty(0)
        self.hidden = torch.empty(0)
        self.mask = torch.empty(0, dtype=torch.bool)
        self.size = size
        self._cursor = 0
        self.latents, self.hidden, self.mask = self._make(size)

    @torch.no_grad()
    def _make(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        lat, hid, msk = [], [], []
        for start in range(0, n, 64):
            k = min(64, n - start)
            clips, caps = [], []
            for _ in range(k):
                scene = world.sample_scene(self.rng, "train")
                clips.append(world.render(scene))
                caps.append(world.caption(scene, self.rng))
            x = to_unit(np.stack(clips)).to(self.device)  # (k, F, 3, H, W)
            z = self.ae.encode(x.flatten(0, 1)) * self.ae.latent_scale
            lat.append(z.reshape(k, -1, *z.shape[-2:]).half().cpu())
            h, m = self.text.encode(caps)
            hid.append(h.half())
            msk.append(m)
        return torch.cat(lat), torch.cat(hid), torch.cat(msk)

    def refresh(self, n: int) -> None:
        lat, hid, msk = self._make(n)
        idx = (torch.arange(n) + self._cursor) % self.size
        self._cursor = int(idx[-1]) + 1
        self.latents[idx], self.hidden[idx], self.mask[idx] = lat, hid, msk

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, self.size, (n,))
        return self.latents[idx].float(), self.hidden[idx].float(), self.mask[idx]


def denoiser_loss(
    model: TinyDenoiser,
    x0: torch.Tensor,
    hidden: torch.Tensor,
    mask: torch.Tensor,
    empty: tuple[torch.Tensor, torch.Tensor],
    prior_only: bool = False,
) -> torch.Tensor:
    """x0-prediction loss on a rectified-flow path ``x_t = (1 - s) x0 + s * noise``.

    Cells covered by an object weigh ``1 + OBJECT_WEIGHT``; with a layout prior, the prior is
    also regressed onto the clean clip.
    """
    b = x0.shape[0]
    drop = torch.rand(b) < CAPTION_DROP
    if drop.any():
        hidden = hidden.clone()
        mask = mask.clone()
        hidden[drop] = empty[0].to(hidden)
        mask[drop] = empty[1]
    weight = object_weight(x0, model.config.frames)
    if prior_only:
        with torch.no_grad():
            tokens, mask, _ = model.encode_text(hidden, mask)
        prior = model.prior(tokens, mask)
        assert prior is not None, "--prior-only needs a denoiser with a layout prior"
        return _weighted_mse(prior, x0, weight)
    sigma = sigma_schedule(b).to(x0.device)
    s = sigma.view(-1, 1, 1, 1)
    xt = (1 - s) * x0 + s * torch.randn_like(x0)
    tokens, mask, pooled = model.encode_text(hidden, mask)
    prior = model.prior(tokens, mask)
    pred = model(xt, sigma, tokens, mask, pooled, prior)
    loss = _weighted_mse(pred, x0, weight)
    if prior is not None:
        loss = loss + PRIOR_WEIGHT * _weighted_mse(prior, x0, weight)
    return loss


def object_weight(x0: torch.Tensor, frames: int, threshold: float = 0.3) -> torch.Tensor:
    """(B, F, 1, H, W) loss weights: ``1 + OBJECT_WEIGHT`` where a cell differs from its row.

    Backdrops are constant along rows (solid or vertical gradient), so a cell far from its
    row's median latent belongs to an object.
    """
    z = x0.unflatten(1, (frames, -1))  # (B, F, C, H, W)
    row = z.median(dim=-1, keepdim=True).values
    covered = ((z - row).abs().amax(dim=2, keepdim=True) > threshold).to(x0.dtype)
    return 1.0 + OBJECT_WEIGHT * covered


def _weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    err = (pred - target).square().unflatten(1, (weight.shape[1], -1))
    return (err * weight).mean() / weight.mean()


# -- the loop -------------------------------------------------------------------------------


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def train(cfg: TrainConfig) -> Path:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device = cfg.device
    cfg.out.mkdir(parents=True, exist_ok=True)
    ckpt_path = cfg.out / "checkpoint.pt"

    # 1. Build or resume
    ae = FrameAutoencoder().to(device)
    ae_opt = torch.optim.Adam(ae.parameters(), lr=2e-3)
    model = TinyDenoiser(cfg.denoiser).to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    state: dict[str, Any] = {
        "ae_step": 0,
        "step": 0,
        "seconds": 0.0,
        "ae_seconds": 0.0,
        "history": [],
    }
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        ae.load_state_dict(ck["ae"])
        ae_opt.load_state_dict(ck["ae_opt"])
        state = ck["state"]
        if ck["config"] == cfg.denoiser.to_dict():
            model.load_state_dict(ck["model"])
            ema.load_state_dict(ck["ema"])
            opt.load_state_dict(ck["opt"])
        elif state["step"] == 0:
            log.info("denoiser config changed before its training began; starting it fresh")
        else:
            raise SystemExit(
                f"{ckpt_path} holds a denoiser with config {ck['config']}; use another --out"
            )
        log.info(
            "resumed from %s at ae_step=%d step=%d", ckpt_path, state["ae_step"], state["step"]
        )
    elif cfg.init_from is not None:
        ck = torch.load(cfg.init_from, map_location=device, weights_only=False)
        ae.load_state_dict(ck["ae"])
        ae_opt.load_state_dict(ck["ae_opt"])
        state = ck["state"]
        state["opt_steps"] = 0
        changed = sorted(k for k, v in cfg.denoiser.to_dict().items() if ck["config"].get(k) != v)
        state.setdefault("warm_starts", []).append({"step": state["step"], "changed": changed})
        grow_into(model, ck["model"])
        grow_into(ema, ck["ema"])
        log.info("warm start from %s at step=%d", cfg.init_from, state["step"])

    def checkpoint() -> None:
        _save(
            ckpt_path,
            {
                "ae": ae.state_dict(),
                "ae_opt": ae_opt.state_dict(),
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "opt": opt.state_dict(),
                "state": state,
                "config": cfg.denoiser.to_dict(),
            },
        )
        log.info("checkpoint written: %s", ckpt_path)

    state["hardware"] = _hardware(device, cfg.threads)
    state["batch"] = cfg.batch
    t_start = time.monotonic()
    budget = cfg.minutes * 60
    last_ckpt = time.monotonic()

    # 2. Autoencoder
    rng = random.Random(cfg.seed + state["ae_step"])
    ae.train()
    losses: list[float] = []
    while state["ae_step"] < cfg.ae_steps and time.monotonic() - t_start < budget:
        t0 = time.monotonic()
        lr = 2e-3 * min(1.0, 0.5 * (1 + math.cos(math.pi * state["ae_step"] / cfg.ae_steps)) + 0.05)
        for g in ae_opt.param_groups:
            g["lr"] = lr
        losses.append(train_autoencoder_step(ae, ae_opt, rng, cfg.ae_batch, device))
        state["ae_step"] += 1
        state["ae_seconds"] += time.monotonic() - t0
        if state["ae_step"] % 50 == 0:
            log.info(
                "ae step %d loss %.4f (%.2fs/step)",
                state["ae_step"],
                np.mean(losses[-50:]),
                state["ae_seconds"] / state["ae_step"],
            )
        if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60:
            checkpoint()
            last_ckpt = time.monotonic()
    if state["ae_step"] < cfg.ae_steps:
        checkpoint()
        return ckpt_path
    ae.eval().requires_grad_(False)
    if "latent_scale" not in state:
        state["latent_scale"] = calibrate_latent_scale(ae, device)
        checkpoint()
        log.info("autoencoder done; latent scale %.3f", state["latent_scale"])

    # 3. Denoiser
    text = MiniLMTextEncoder()
    pool = ClipPool(ae, text, cfg.pool, cfg.seed + 7 + state["step"], device)
    empty_h, empty_m = text.encode([""])
    empty = (empty_h[0], empty_m[0])
    model.train()
    losses = []
    while state["step"] < cfg.steps and time.monotonic() - t_start < budget:
        t0 = time.monotonic()
        pool.refresh(cfg.refresh)
        lr = cfg.lr * min(1.0, (state.get("opt_steps", state["step"]) + 1) / 300)
        if cfg.decay:  # cosine to 5 % over this run's remaining wall-clock budget
            done = (time.monotonic() - t_start) / budget
            lr *= 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, done)))
        for g in opt.param_groups:
            g["lr"] = lr
        x0, hidden, mask = pool.batch(cfg.batch)
        loss = denoiser_loss(
            model, x0.to(device), hidden.to(device), mask.to(device), empty, cfg.prior_only
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(cfg.ema, (1 + state["step"]) / (10 + state["step"]))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                pe.lerp_(pm, 1 - decay)
        losses.append(float(loss.detach()))
        state["step"] += 1
        state["opt_steps"] = state.get("opt_steps", state["step"]) + 1
        if cfg.prior_only:
            state["prior_only_steps"] = state.get("prior_only_steps", 0) + 1
        state["seconds"] += time.monotonic() - t0
        if state["step"] % 25 == 0:
            mean = float(np.mean(losses[-25:]))
            state["history"].append((state["step"], round(state["seconds"]), mean))
            log.info(
                "step %d loss %.4f (%.2fs/step, %.0f min)",
                state["step"],
                mean,
                state["seconds"] / state["step"],
                state["seconds"] / 60,
            )
        if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60:
            checkpoint()
            last_ckpt = time.monotonic()
    checkpoint()
    return ckpt_path


def grow_into(model: TinyDenoiser, old: dict[str, torch.Tensor]) -> None:
    """Load ``old`` weights into ``model`` where names match; widen the UNet's input conv.

    The first release's input was (noisy clip, coords); with a layout prior it is (noisy clip,
    prior, coords), so the prior's new input channels start at zero and the model starts out
    computing exactly what the old one did. Other new modules (the raw-token path) keep their
    fresh initialisation.
    """
    new = model.state_dict()
    for name, value in old.items():
        if name not in new:
            continue
        if new[name].shape == value.shape:
            new[name] = value
        elif name == "unet.conv_in.weight":
            clip = model.config.frames * model.config.latent_channels * model.config.patch**2
            grown = torch.zeros_like(new[name])
            grown[:, :clip] = value[:, :clip]
            grown[:, -2:] = value[:, clip:]
            new[name] = grown
        else:
            shapes = f"{tuple(value.shape)} -> {tuple(new[name].shape)}"
            raise ValueError(f"cannot grow {name}: {shapes}")
    model.load_state_dict(new)


def finetune_decoder(out: Path, minutes: float, device: str = "cpu", threads: int = 1) -> Path:
    """Stage 1b (optional, can run beside stage 2): sharpen the decoder with the encoder frozen.

    Latents do not change, so the denoiser trained meanwhile stays valid. The result goes to
    ``<out>/decoder.pt`` (resumable) and replaces the checkpoint's decoder at export.
    """
    torch.set_num_threads(threads)
    ck = torch.load(out / "checkpoint.pt", map_location=device, weights_only=False)
    ae = FrameAutoencoder().to(device)
    ae.load_state_dict(ck["ae"])
    path = out / "decoder.pt"
    done, seconds = 0, 0.0
    opt = torch.optim.Adam(ae.decoder.parameters(), lr=1e-3)
    if path.exists():
        dk = torch.load(path, map_location=device, weights_only=False)
        ae.decoder.load_state_dict(dk["decoder"])
        opt.load_state_dict(dk["opt"])
        done, seconds = dk["steps"], dk["seconds"]
    ae.encoder.requires_grad_(False)
    rng = random.Random(1000 + done)
    t_start = last = time.monotonic()
    losses: list[float] = []
    while time.monotonic() - t_start < minutes * 60:
        t0 = time.monotonic()
        x, w = _frame_batch(rng, 32)
        x, w = x.to(device), w.to(device)
        with torch.no_grad():
            z = ae.encode(x)
        y = ae.decode(z + 0.05 * torch.randn_like(z))
        loss = ((y - x).abs() * w).mean() + ((y - x).square() * w).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        done += 1
        seconds += time.monotonic() - t0
        if done % 50 == 0:
            log.info("decoder step %d loss %.4f", done, np.mean(losses[-50:]))
        if time.monotonic() - last > 180:
            _save(
                path,
                {
                    "decoder": ae.decoder.state_dict(),
                    "opt": opt.state_dict(),
                    "steps": done,
                    "seconds": seconds,
                },
            )
            last = time.monotonic()
    _save(
        path,
        {
            "decoder": ae.decoder.state_dict(),
            "opt": opt.state_dict(),
            "steps": done,
            "seconds": seconds,
        },
    )
    return path


def _hardware(device: str, threads: int) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} ({platform.node()})"
    cpu = platform.processor() or platform.machine()
    return f"{cpu} CPU, {threads} torch thread(s), shared 2-core host {platform.node()}"


def export(checkpoint: Path, dest: Path, note: str = "", raw: bool = False) -> Path:
    """Write the EMA (or, with ``raw``, the latest) denoiser + autoencoder as fp16 safetensors."""
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state = ck["state"]
    ae_state = dict(ck["ae"])
    decoder = checkpoint.parent / "decoder.pt"
    decoder_steps, decoder_seconds = 0, 0.0
    if decoder.exists():
        dk = torch.load(decoder, map_location="cpu", weights_only=False)
        ae_state.update({f"decoder.{k}": v for k, v in dk["decoder"].items()})
        decoder_steps, decoder_seconds = dk["steps"], dk["seconds"]
    ae_state["latent_scale"] = torch.tensor(float(state["latent_scale"]))
    hardware = state.get("hardware") or _hardware("cpu", 1)
    training = {
        "autoencoder_steps": state["ae_step"],
        "autoencoder_seconds": round(state["ae_seconds"]),
        "decoder_finetune_steps": decoder_steps,
        "decoder_finetune_seconds": round(decoder_seconds),
        "denoiser_steps": state["step"],
        "denoiser_seconds": round(state["seconds"]),
        "of_which_prior_only_steps": state.get("prior_only_steps", 0),
        "warm_starts": state.get("warm_starts", []),
        "batch": state.get("batch", 32),
        "objective": f"x0-prediction on a rectified-flow path, sigma shift {SHIFT}, "
        f"caption dropout {CAPTION_DROP}",
        "data": "procedural shapes world (mutoscope.models.tiny.world), held-out triples excluded",
        "hardware": hardware,
        "torch": torch.__version__,
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "note": note,
        "loss_history": state["history"][-20:],
    }
    training["denoiser_weights"] = "latest" if raw else "EMA"
    denoiser = ck["model"] if raw else ck["ema"]
    save_weights(dest, ae_state, denoiser, ck["config"], training)
    caption_decoder = checkpoint.parent / "caption_decoder.pt"
    if caption_decoder.exists():  # stage 3, trained against this run's denoiser
        from mutoscope.models.tiny.train_decoder import attach

        attach(caption_decoder, dest, dest)
    return dest


def save_weights(
    dest: Path,
    ae_state: dict[str, torch.Tensor],
    denoiser_state: dict[str, torch.Tensor],
    config: dict[str, object],
    training: dict[str, object],
) -> Path:
    """The shipped format: fp16 tensors under ``ae.`` and ``denoiser.``, JSON metadata."""
    from safetensors.torch import save_file

    tensors = {
        f"ae.{k}": v.half() if k != "latent_scale" else v.float() for k, v in ae_state.items()
    }
    tensors.update({f"denoiser.{k}": v.half() for k, v in denoiser_state.items()})
    meta = {
        "format": "mutoscope-tiny/1",
        "denoiser_config": json.dumps(config),
        "training": json.dumps(training),
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(dest), metadata=meta)
    return dest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", type=Path, default=TrainConfig.out)
    p.add_argument(
        "--minutes", type=float, default=TrainConfig.minutes, help="wall-clock budget for this run"
    )
    p.add_argument("--ae-steps", type=int, default=TrainConfig.ae_steps)
    p.add_argument("--steps", type=int, default=TrainConfig.steps, help="total denoiser steps")
    p.add_argument("--batch", type=int, default=TrainConfig.batch)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--pool", type=int, default=TrainConfig.pool, help="clips kept encoded in memory"
    )
    p.add_argument(
        "--export", type=Path, default=None, help="write safetensors from the checkpoint and exit"
    )
    p.add_argument("--note", default="")
    p.add_argument("--raw", action="store_true", help="export the latest weights, not the EMA")
    p.add_argument("--decay", action="store_true", help="cosine-decay the LR over --minutes")
    p.add_argument("--finetune-decoder", action="store_true", help="run stage 1b for --minutes")
    p.add_argument("--prior-only", action="store_true", help="train only the layout prior")
    p.add_argument(
        "--caption-decoder",
        action="store_true",
        help="run stage 3 for --minutes: the caption decoder, against --weights",
    )
    p.add_argument(
        "--weights", type=Path, default=None, help="stage 3: model to train against (shipped)"
    )
    p.add_argument("--lr", type=float, default=None, help="stage 3: peak learning rate")
    p.add_argument("--focus", type=float, default=0.0, help="stage 3: share of hard scenes")
    p.add_argument("--ghosts", type=float, default=0.0, help="stage 3: share with a stray blob")
    p.add_argument(
        "--init-from", type=Path, default=None, help="warm-start a new --out from a checkpoint"
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.caption_decoder:
        from mutoscope.models.tiny import train_decoder

        if args.export:
            ck = args.out / "caption_decoder.pt"
            from mutoscope.models.tiny.pipeline import WEIGHTS

            print(train_decoder.attach(ck, args.weights or WEIGHTS, args.export))
            return
        print(
            train_decoder.train_caption_decoder(
                args.out,
                args.minutes,
                args.weights,
                args.device,
                args.threads,
                init_from=args.init_from,
                lr=args.lr or train_decoder.LR,
                focus=args.focus,
                ghosts=args.ghosts,
            )
        )
        return
    if args.finetune_decoder:
        print(finetune_decoder(args.out, args.minutes, args.device, args.threads))
        return
    if args.export:
        print(export(args.out / "checkpoint.pt", args.export, args.note, args.raw))
        return
    cfg = TrainConfig(
        out=args.out,
        minutes=args.minutes,
        ae_steps=args.ae_steps,
        steps=args.steps,
        batch=args.batch,
        device=args.device,
        threads=args.threads,
        pool=args.pool,
        decay=args.decay,
        init_from=args.init_from,
        prior_only=args.prior_only,
    )
    train(cfg)


if __name__ == "__main__":
    main()
