"""Stage 3 of ``mutoscope-tiny``: train the :class:`CaptionDecoder` on what the denoiser makes.

The denoiser (stage 2) and the encoder stay frozen. Each training frame pairs a latent the
decoder will really meet with the frame the caption describes:

* **denoised** (45 %): the clip is noised to a level the sampler's last step sees and the
  shipped denoiser predicts it back; its blobs are what sampling produces;
* **stand-in** (40 %): the scene rendered with circles (or a random shape) instead of each
  object's shape, sometimes blurred, then encoded: the caption, not the latent, must say
  which shape to draw;
* **clean** (15 %): the true clip's latent, so a good latent still decodes as itself; a few of
  these go without a caption.

Targets are the rendered frames, with pixels near an object weighted up as in stage 1.
Resumable: ``<out>/caption_decoder.pt`` is written every three minutes.

    python -m mutoscope.models.tiny.train --caption-decoder --out runs/tiny --minutes 60
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from mutoscope.models.tiny import world
from mutoscope.models.tiny.modeling import CaptionDecoder, FrameAutoencoder, TinyDenoiser
from mutoscope.models.tiny.text import MiniLMTextEncoder
from mutoscope.models.tiny.train import _hardware, pixel_weight, to_unit

log = logging.getLogger("mutoscope.tiny.train")

LR = 5e-4
DENOISED, STAND_IN = 0.45, 0.40
"""Shares of the degraded inputs; the rest are clean latents."""
SIGMA_RANGE = (0.3, 0.75)
"""Noise levels to denoise from: the 8-step sampler's last prediction is made at about 0.46."""
CAPTION_DROP = 0.05
TWO_OBJECTS = 0.7
"""Share of two-object scenes: their objects are smaller and must be told apart by colour."""
HARD_SHAPES, HARD_MOTIONS = ("cross",), ("grow",)
LOW_CONTRAST = 170.0
"""RGB distance below which an object is hard to tell from its backdrop (purple on blue)."""


def _contrast(a: str, b: str) -> float:
    """RGB distance between palette colours ``a`` and ``b``."""
    return float(np.linalg.norm(np.subtract(world.COLORS[a], world.COLORS[b])))


def is_hard(scene: world.Scene) -> bool:
    """Whether ``scene`` has an object the decoder finds hard: a cross, a growing
    object, or one close in colour to the backdrop."""
    return any(
        o.shape in HARD_SHAPES
        or o.motion in HARD_MOTIONS
        or _contrast(o.color, scene.background) < LOW_CONTRAST
        for o in scene.objects
    )


def add_ghost(
    frames: np.ndarray, idx: list[int], scene: world.Scene, rng: random.Random
) -> np.ndarray:
    """``frames`` (keyframes ``idx`` of ``scene``) with a faint blob the caption does not
    mention drifting across them, in a colour that is in neither the caption nor (mostly) far
    from the backdrop: the smudges sampling sometimes leaves, which the decoder must drop."""
    used = {scene.background, *(o.color for o in scene.objects)}
    free = sorted(
        (c for c in world.COLORS if c not in used), key=lambda c: _contrast(c, scene.background)
    )
    color = free[0] if rng.random() < 0.6 else rng.choice(free)
    alpha, size = rng.uniform(0.15, 0.7), rng.uniform(3.0, 9.0)
    x0, y0 = rng.uniform(6, world.RES - 6), rng.uniform(6, world.RES - 6)
    vx, vy = rng.uniform(-2.5, 2.5), rng.uniform(-2.5, 2.5)
    out = frames.astype(np.float32)
    for k, f in enumerate(idx):
        layer = np.zeros((world.RES, world.RES), np.float32)
        cx = float(np.clip(x0 + vx * f, 0, world.RES - 1))
        cy = float(np.clip(y0 + vy * f, 0, world.RES - 1))
        shape = "circle" if rng.random() < 0.7 else rng.choice(world.SHAPES)
        world.draw_shape(layer, shape, cx, cy, size, (1.0,))
        layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.6, 1.5))[..., None] * alpha
        out[k] = out[k] * (1 - layer) + np.array(world.COLORS[color], np.float32) * layer
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def sample_scene(rng: random.Random, focus: float) -> world.Scene:
    """A training scene; with probability ``focus`` one that :func:`is_hard` accepts."""
    n = 2 if rng.random() < TWO_OBJECTS else 1
    hard = rng.random() < focus
    while True:
        scene = world.sample_scene(rng, "train", n)
        if not hard or is_hard(scene):
            return scene


def stand_in(scene: world.Scene, rng: random.Random) -> world.Scene:
    """``scene`` with each object's shape swapped for a circle (mostly) or any shape."""
    objects = []
    for obj in scene.objects:
        r = rng.random()
        shape = "circle" if r < 0.6 else rng.choice(world.SHAPES)
        objects.append(replace(obj, shape=shape))
    return replace(scene, objects=tuple(objects))


class DecoderData:
    """Builds stage-3 batches: ``clips`` scenes x ``per_clip`` frames each."""

    def __init__(
        self,
        ae: FrameAutoencoder,
        denoiser: TinyDenoiser,
        text: MiniLMTextEncoder,
        seed: int,
        device: str = "cpu",
        focus: float = 0.0,
        ghosts: float = 0.0,
    ) -> None:
        self.ae, self.denoiser, self.text, self.device = ae, denoiser, text, device
        self.focus, self.ghosts = focus, ghosts
        self.rng = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.empty = text.encode([""])

    @torch.no_grad()
    def batch(
        self, clips: int = 8, per_clip: int = 4
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(latents, hidden, mask, target frames, weights), one row per frame."""
        rng, scale = self.rng, self.ae.latent_scale
        scenes = [sample_scene(rng, self.focus) for _ in range(clips)]
        captions = [world.caption(s, rng) for s in scenes]
        truth = [world.render(s) for s in scenes]
        modes = []
        for _ in scenes:
            r = rng.random()
            modes.append(
                "denoised" if r < DENOISED else "stand-in" if r < DENOISED + STAND_IN else "clean"
            )
        # captionless rows are clean ones (a third of them, so CAPTION_DROP overall)
        drop = [m == "clean" and rng.random() < CAPTION_DROP * 3 for m in modes]
        hidden, mask = self.text.encode(
            ["" if d else c for d, c in zip(drop, captions, strict=True)]
        )
        idx = [rng.sample(range(world.FRAMES), per_clip) for _ in scenes]

        latents: list[torch.Tensor | None] = [None] * clips
        for i, (scene, mode) in enumerate(zip(scenes, modes, strict=True)):
            if mode == "stand-in":
                frames = world.render(stand_in(scene, rng))[idx[i]]
                if rng.random() < 0.5:
                    s = rng.uniform(0.5, 1.5)
                    frames = np.stack([cv2.GaussianBlur(f, (0, 0), s) for f in frames])
            elif mode == "clean":
                frames = truth[i][idx[i]]
            else:
                continue
            if rng.random() < self.ghosts:
                frames = add_ghost(frames, idx[i], scene, rng)
            z = self.ae.encode(to_unit(frames).to(self.device))
            latents[i] = z + 0.03 * torch.randn(z.shape, generator=self.gen).to(z)
        todo = [i for i, m in enumerate(modes) if m == "denoised"]
        if todo:
            x = to_unit(np.stack([truth[i] for i in todo])).to(self.device)
            x0 = self.ae.encode(x.flatten(0, 1)) * scale
            x0 = x0.reshape(len(todo), -1, *x0.shape[-2:])
            sigma = torch.empty(len(todo)).uniform_(*SIGMA_RANGE, generator=self.gen)
            level = sigma.view(-1, 1, 1, 1).to(x0)
            xt = (1 - level) * x0 + level * torch.randn(x0.shape, generator=self.gen).to(x0)
            tokens, tmask, pooled = self.denoiser.encode_text(hidden[todo], mask[todo])
            pred = self.denoiser(xt, sigma.to(x0), tokens, tmask, pooled)
            pred = pred.reshape(len(todo), world.FRAMES, -1, *pred.shape[-2:]) / scale
            for j, i in enumerate(todo):
                latents[i] = pred[j, idx[i]]
        z = torch.cat([t for t in latents if t is not None])
        target = to_unit(np.concatenate([truth[i][idx[i]] for i in range(clips)]))
        weight = torch.cat([pixel_weight(truth[i][idx[i]], scenes[i]) for i in range(clips)])
        rows = torch.arange(clips).repeat_interleave(per_clip)
        return z, hidden[rows], mask[rows], target.to(self.device), weight.to(self.device)


def decoder_loss(model: CaptionDecoder, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    z, hidden, mask, target, weight = batch
    y = model(z, hidden, mask)
    return ((y - target).abs() * weight).mean() + ((y - target).square() * weight).mean()


def train_caption_decoder(
    out: Path,
    minutes: float,
    weights: Path | None = None,
    device: str = "cpu",
    threads: int = 2,
    *,
    steps: int | None = None,
    clips: int = 8,
    init_from: Path | None = None,
    lr: float = LR,
    focus: float = 0.0,
    ghosts: float = 0.0,
) -> Path:
    """Train (or resume) ``<out>/caption_decoder.pt`` for ``minutes`` (or until ``steps`` in
    all) against the shipped (or ``weights``) autoencoder and denoiser, ``clips`` x 4 frames a
    step; the learning rate cosine-decays from ``lr`` over the run (a resumed run starts again
    from ``lr``: pass a lower one to continue a finished run). ``focus`` is the share of scenes
    drawn from the hard ones (:func:`is_hard`), ``ghosts`` the share of encoded inputs given a
    stray blob (:func:`add_ghost`); each run's settings are kept in the checkpoint."""
    from mutoscope.models.tiny.pipeline import WEIGHTS, TinyPipeline

    torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    pipe = TinyPipeline.from_file(weights or WEIGHTS)
    ae, denoiser = pipe.ae.to(device), pipe.denoiser.to(device)
    model = CaptionDecoder.from_autoencoder(ae).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    path = out / "caption_decoder.pt"
    state: dict[str, Any] = {"steps": 0, "seconds": 0.0, "history": []}
    state["hardware"] = _hardware(device, threads)
    if path.exists():
        ck = torch.load(path, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        log.info("resumed caption decoder at step %d", state["steps"])
    elif init_from is not None:  # an earlier design: matching weights, new parts start at zero
        ck = torch.load(init_from, map_location=device, weights_only=False)
        missing, unexpected = model.load_state_dict(ck["model"], strict=False)
        if unexpected:
            raise ValueError(f"{init_from} has weights this decoder lacks: {unexpected}")
        state = ck["state"]
        state.setdefault("warm_starts", []).append({"step": state["steps"], "new": missing})
        log.info("warm start from %s at step %d (new: %s)", init_from, state["steps"], missing)
    data = DecoderData(
        ae,
        denoiser,
        pipe.text,
        seed=5000 + state["steps"],
        device=device,
        focus=focus,
        ghosts=ghosts,
    )
    state.setdefault("runs", []).append(
        {
            "from_step": state["steps"],
            "minutes": minutes,
            "lr": lr,
            "focus": focus,
            "ghosts": ghosts,
        }
    )

    def save() -> None:
        tmp = path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, tmp)
        tmp.replace(path)

    model.train()
    t_start = last = time.monotonic()
    losses: list[float] = []
    while (done := time.monotonic() - t_start) < minutes * 60:
        if steps is not None and state["steps"] >= steps:
            break
        t0 = time.monotonic()
        rate = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * done / (minutes * 60))))
        for g in opt.param_groups:
            g["lr"] = rate * min(1.0, (state["steps"] + 1) / 100)
        loss = decoder_loss(model, data.batch(clips))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        state["steps"] += 1
        state["seconds"] += time.monotonic() - t0
        if state["steps"] % 50 == 0:
            mean = float(np.mean(losses[-50:]))
            state["history"].append((state["steps"], round(state["seconds"]), mean))
            log.info(
                "caption decoder step %d loss %.4f (%.2fs/step)",
                state["steps"],
                mean,
                state["seconds"] / state["steps"],
            )
        if time.monotonic() - last > 180:
            save()
            last = time.monotonic()
    save()
    return path


def attach(checkpoint: Path, weights: Path, dest: Path) -> Path:
    """Write ``weights`` plus the caption decoder in ``checkpoint`` (fp16, ``cdec.``) to ``dest``,
    recording its training in the metadata."""
    from safetensors.torch import load_file, save_file

    from mutoscope.models.tiny.pipeline import read_metadata

    meta = read_metadata(weights)
    tensors = {k: v for k, v in load_file(str(weights)).items() if not k.startswith("cdec.")}
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    tensors.update({f"cdec.{k}": v.half() for k, v in ck["model"].items()})
    training = json.loads(meta.get("training", "{}"))
    state = ck["state"]
    training["caption_decoder"] = {
        "steps": state["steps"],
        "seconds": round(state["seconds"]),
        "objective": "L1 + L2 to the rendered frame (object pixels 9x) from denoised, "
        "stand-in-shape and clean latents; warm-started from the autoencoder's decoder",
        "hardware": state.get("hardware") or _hardware("cpu", 2),
        "loss_history": state["history"][-10:],
        "runs": state.get("runs", []),
    }
    meta["training"] = json.dumps(training)
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(dest), metadata=meta)
    return dest
