"""Text -> video sampling for ``mutoscope-tiny``.

``TinyPipeline.__call__`` reads top to bottom: read the prompt into the world's vocabulary
(re-phrased as the caption the model was trained on), encode it, prepare latents (noise, or a
noised parent clip for remix), denoise with a flow-matching Euler scheduler, decode the
keyframes, then time-interpolate to 24 fps and resize to the requested size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from mutoscope.models.tiny import world
from mutoscope.models.tiny.modeling import (
    LATENT_CHANNELS,
    CaptionDecoder,
    DenoiserConfig,
    FrameAutoencoder,
    TinyDenoiser,
)
from mutoscope.models.tiny.text import MiniLMTextEncoder
from mutoscope.models.tiny.train import SHIFT, to_unit
from mutoscope.models.tiny.vocabulary import read_prompt

WEIGHTS = Path(__file__).parent / "weights" / "mutoscope-tiny.safetensors"
DEFAULT_STEPS = 8
DEFAULT_GUIDANCE = 1.0


def read_metadata(path: Path = WEIGHTS) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


@dataclass
class TinyOutput:
    frames: np.ndarray
    """(T, H, W, 3) uint8."""
    keyframes: np.ndarray
    """(FRAMES, 64, 64, 3) uint8 as sampled, before interpolation and resizing."""
    caption: str = ""
    """The text that conditioned the model (the canonical caption, or the prompt as given)."""


class TinyPipeline:
    """Holds the frozen text encoder, denoiser and autoencoder. Not thread-safe: callers lock."""

    def __init__(
        self,
        ae: FrameAutoencoder,
        denoiser: TinyDenoiser,
        text: MiniLMTextEncoder,
        caption_decoder: CaptionDecoder | None = None,
    ):
        self.ae = ae.eval().requires_grad_(False)
        self.denoiser = denoiser.eval().requires_grad_(False)
        self.text = text
        self.caption_decoder = caption_decoder
        if caption_decoder is not None:
            caption_decoder.eval().requires_grad_(False)
        self._empty: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def from_file(cls, path: Path = WEIGHTS, text: MiniLMTextEncoder | None = None) -> TinyPipeline:
        from safetensors.torch import load_file

        meta = read_metadata(path)
        stored = json.loads(meta["denoiser_config"])
        stored.setdefault("layout_layers", 0)  # files from before the layout prior
        stored.setdefault("raw_tokens", False)
        cfg = DenoiserConfig(**stored)
        cfg.block_out_channels = tuple(cfg.block_out_channels)
        tensors = load_file(str(path))
        ae, denoiser = FrameAutoencoder(), TinyDenoiser(cfg)

        def part(prefix: str) -> dict[str, torch.Tensor]:
            n = len(prefix)
            return {k[n:]: v.float() for k, v in tensors.items() if k.startswith(prefix)}

        ae.load_state_dict(part("ae."))
        denoiser.load_state_dict(part("denoiser."))
        cdec = None
        if "cdec.inp.weight" in tensors:  # files from before the caption decoder have none
            cdec = CaptionDecoder(ch=tensors["cdec.inp.weight"].shape[0])
            cdec.load_state_dict(part("cdec."))
        return cls(ae, denoiser, text or MiniLMTextEncoder(), cdec)

    def _encode_prompt(self, prompt: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.denoiser.encode_text(*self.text.encode([prompt]))

    def encode_clip(self, frames: np.ndarray) -> torch.Tensor:
        """Any-size (T, H, W, 3) uint8 clip -> (1, FRAMES*C, 16, 16) scaled latents."""
        idx = np.linspace(0, len(frames) - 1, world.FRAMES).round().astype(int)
        small = np.stack([_center_square(frames[i]) for i in idx])
        z = self.ae.encode(to_unit(small)) * self.ae.latent_scale
        return z.reshape(1, -1, *z.shape[-2:])

    def decode(
        self, latents: torch.Tensor, caption: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> np.ndarray:
        """Clip latents -> (FRAMES, 64, 64, 3) uint8 keyframes.

        With the caption's MiniLM tokens and a caption decoder, the decoder reads the caption
        (it draws the shapes the denoiser leaves as blobs); otherwise the autoencoder decodes.
        """
        z = latents.reshape(-1, LATENT_CHANNELS, *latents.shape[-2:]) / self.ae.latent_scale
        if caption is not None and self.caption_decoder is not None:
            x = self.caption_decoder(z, *caption).clamp(-1, 1)
        else:
            x = self.ae.decode(z).clamp(-1, 1)
        return ((x + 1) * 127.5).round().to(torch.uint8).movedim(1, -1).numpy()

    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        *,
        seed: int = 0,
        num_frames: int = 96,
        width: int = world.RES,
        height: int = world.RES,
        steps: int = DEFAULT_STEPS,
        guidance: float = DEFAULT_GUIDANCE,
        source: np.ndarray | None = None,
        strength: float = 0.8,
        on_step: Callable[[int, int], None] | None = None,
        canonical: bool = True,
    ) -> TinyOutput:
        # 0. Read the prompt into the world (synonyms, word order, a contrasting backdrop) and
        #    re-phrase it as a training caption; a prompt it cannot read goes in as written
        text = (read_prompt(prompt).caption if canonical else None) or prompt

        # 1. Encode prompt (and the empty caption for classifier-free guidance)
        caption = self.text.encode([text])
        tokens, mask, pooled = self.denoiser.encode_text(*caption)
        if guidance != 1.0:
            if self._empty is None:
                self._empty = self._encode_prompt("")
            tokens = torch.cat([self._empty[0], tokens])
            mask = torch.cat([self._empty[1], mask])
            pooled = torch.cat([self._empty[2], pooled])
        prior = self.denoiser.prior(tokens, mask)

        # 2. Prepare latents: seeded noise, or the parent clip noised to ``strength`` (remix)
        cfg = self.denoiser.config
        shape = (1, cfg.frames * cfg.latent_channels, cfg.latent_res, cfg.latent_res)
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
        scheduler: Any = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=SHIFT)
        scheduler.set_timesteps(steps)
        timesteps = scheduler.timesteps
        latents = noise
        if source is not None:
            start = round((1 - strength) * steps)
            timesteps = timesteps[start:]
            scheduler.set_begin_index(start)
            sigma0 = float(scheduler.sigmas[start])
            latents = (1 - sigma0) * self.encode_clip(source) + sigma0 * noise

        # 3. Denoise: the network predicts the clean clip; the scheduler wants a velocity
        for i, t in enumerate(timesteps):
            sigma = t / 1000
            batch = latents.expand(tokens.shape[0], -1, -1, -1)
            x0 = self.denoiser(batch, sigma.expand(tokens.shape[0]), tokens, mask, pooled, prior)
            if guidance != 1.0:
                x0 = x0[:1] + guidance * (x0[1:] - x0[:1])
            velocity = (latents - x0) / sigma
            latents = scheduler.step(velocity, t, latents).prev_sample
            if on_step is not None:
                on_step(i + 1, len(timesteps))

        # 4. Decode keyframes, then 5. interpolate in time and fit the requested size
        keyframes = self.decode(latents, caption)
        frames = interpolate(keyframes, num_frames)
        return TinyOutput(fit_size(frames, width, height), keyframes, text)


def _center_square(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return cv2.resize(
        frame[y : y + s, x : x + s], (world.RES, world.RES), interpolation=cv2.INTER_AREA
    )


def interpolate(keyframes: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames spanning the keyframes, motion-compensated between neighbours.

    A plain cross-fade shows a moving object twice (fading out here, in there); instead each
    in-between frame warps both neighbouring keyframes along their optical flow (Farneback, at
    the keyframes' 64x64) to its own time and blends the two.
    """
    pos = np.linspace(0, len(keyframes) - 1, n)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(keyframes) - 1)
    alpha = (pos - lo).astype(np.float32)
    h, w = keyframes.shape[1:3]
    grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), axis=-1).astype(np.float32)
    gray = [cv2.cvtColor(k, cv2.COLOR_RGB2GRAY) for k in keyframes]
    flows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    out = np.empty((n, *keyframes.shape[1:]), np.uint8)
    for i in range(n):
        a, k0, k1 = float(alpha[i]), int(lo[i]), int(hi[i])
        if a < 1e-3 or k0 == k1:
            out[i] = keyframes[k0]
            continue
        if k0 not in flows:
            flows[k0] = (_flow(gray[k0], gray[k1]), _flow(gray[k1], gray[k0]))
        forward, backward = flows[k0]
        from0 = _warp(keyframes[k0], grid - a * forward)
        from1 = _warp(keyframes[k1], grid - (1 - a) * backward)
        out[i] = cv2.addWeighted(from0, 1 - a, from1, a, 0)
    return out


def _warp(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``image`` sampled at the (H, W, 2) pixel positions ``where`` (bilinear, edges repeat)."""
    mx, my = where[..., 0].astype(np.float32), where[..., 1].astype(np.float32)
    return np.asarray(cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow from ``a`` to ``b`` (pixels), as (H, W, 2) float32."""
    start = np.zeros((*a.shape[:2], 2), np.float32)  # ignored: no OPTFLOW_USE_INITIAL_FLOW
    return np.asarray(cv2.calcOpticalFlowFarneback(a, b, start, 0.5, 2, 9, 3, 5, 1.1, 0))


def fit_size(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize square frames to ``width`` x ``height``, extending the backdrop to change aspect."""
    h, w = frames.shape[1:3]
    if width / height > w / h:
        pad = round(h * width / height) - w
        frames = np.pad(frames, ((0, 0), (0, 0), (pad // 2, pad - pad // 2), (0, 0)), mode="edge")
    elif width / height < w / h:
        pad = round(w * height / width) - h
        frames = np.pad(frames, ((0, 0), (pad // 2, pad - pad // 2), (0, 0), (0, 0)), mode="edge")
    if frames.shape[1:3] == (height, width):
        return np.ascontiguousarray(frames)
    out = np.empty((len(frames), height, width, 3), np.uint8)
    for i, f in enumerate(frames):
        out[i] = cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC)
    return out
