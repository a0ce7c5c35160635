"""Text -> video sampling for ``mutoscope-tiny``.

``TinyPipeline.__call__`` reads top to bottom: read the prompt into the world's vocabulary
(re-phrased as the caption the model was trained on), encode it, prepare latents (noise, or a
noised parent clip for remix), denoise with a flow-matching Euler scheduler, decode the
keyframes, then time-interpolate to 24 fps and resize to the requested size.

An extension (``context``: the last frames of the clip being continued) pins the first
``CONTEXT_KEYFRAMES`` keyframes to the clip's tail at every step (the latents are replaced by
the tail's, noised to the current sigma, and the prediction for them by the tail itself), so
the model draws what comes next; the new frames start right after the clip's last frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from mutoscope.models.tiny import world
from mutoscope.models.tiny.layers import interpolate, keep_named, render
from mutoscope.models.tiny.modeling import (
    LATENT_CHANNELS,
    CaptionDecoder,
    DenoiserConfig,
    FrameAutoencoder,
    TinyDenoiser,
)
from mutoscope.models.tiny.scheduler import FlowMatchEuler
from mutoscope.models.tiny.text import MiniLMTextEncoder
from mutoscope.models.tiny.train import SHIFT, to_unit
from mutoscope.models.tiny.vocabulary import read_prompt

WEIGHTS = Path(__file__).parent / "weights" / "mutoscope-tiny.safetensors"
DEFAULT_STEPS = 8
DEFAULT_GUIDANCE = 1.0
CONTEXT_KEYFRAMES = 2
"""Keyframes of a continued clip's tail the model sees: two give position and motion."""


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
    positions: np.ndarray | None = None
    """Each frame's place among the keyframes (0..FRAMES-1); ``None``: spread evenly over all
    of them, as ``interpolate(keyframes, len(frames))`` spreads them. The soundtrack reads it."""

    def frame_positions(self) -> np.ndarray:
        if self.positions is not None:
            return self.positions
        return np.linspace(0, len(self.keyframes) - 1, len(self.frames))


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
        from mutoscope.models.tiny.loading import uninitialised

        tensors = load_file(str(path))
        cdec = None
        with uninitialised():  # every weight is loaded below (strict)
            ae, denoiser = FrameAutoencoder(), TinyDenoiser(cfg)
            if "cdec.inp.weight" in tensors:  # files from before the caption decoder have none
                cdec = CaptionDecoder(ch=tensors["cdec.inp.weight"].shape[0])

        def part(prefix: str) -> dict[str, torch.Tensor]:
            n = len(prefix)
            return {k[n:]: v.float() for k, v in tensors.items() if k.startswith(prefix)}

        # assign: the modules take the float tensors made here rather than copying them again.
        ae.load_state_dict(part("ae."), assign=True)
        denoiser.load_state_dict(part("denoiser."), assign=True)
        if cdec is not None:
            cdec.load_state_dict(part("cdec."), assign=True)
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
        context: np.ndarray | None = None,
        layers: bool = True,
    ) -> TinyOutput:
        """``num_frames`` frames for ``prompt``; with ``source``, a remix of that clip noised to
        ``strength``; with ``context`` (the last frames of a clip, at the output's frame rate),
        the ``num_frames`` frames that follow it.

        With ``layers`` (the default) and a prompt the vocabulary reads, the keyframes keep only
        the objects it names and the frames are drawn at the output size from the objects'
        coverage (``models.tiny.layers``); otherwise the decoded keyframes are interpolated and
        resized as they are (the rendering before those layers)."""
        # 0. Read the prompt into the world (synonyms, word order, a contrasting backdrop) and
        #    re-phrase it as a training caption; a prompt it cannot read goes in as written
        reading = read_prompt(prompt)
        text = (reading.caption if canonical else None) or prompt

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
        scheduler = FlowMatchEuler(shift=SHIFT)
        scheduler.set_timesteps(steps)
        timesteps = scheduler.timesteps
        latents = noise
        if source is not None:
            start = round((1 - strength) * steps)
            timesteps = timesteps[start:]
            scheduler.set_begin_index(start)
            sigma0 = float(scheduler.sigmas[start])
            latents = (1 - sigma0) * self.encode_clip(source) + sigma0 * noise
        pinned, known = 0, None
        if context is not None:
            tail = context_keyframes(context, num_frames)
            pinned = len(tail) * cfg.latent_channels
            known = self.ae.encode(to_unit(tail)) * self.ae.latent_scale
            known = known.reshape(1, -1, *known.shape[-2:])
            latents = latents.clone()  # written in place below; ``noise`` stays as drawn

        # 3. Denoise: the network predicts the clean clip; the scheduler wants a velocity
        for i, t in enumerate(timesteps):
            sigma = t / 1000
            if known is not None:  # the continued clip's tail, noised to this step's sigma
                latents[:, :pinned] = (1 - sigma) * known + sigma * noise[:, :pinned]
            batch = latents.expand(tokens.shape[0], -1, -1, -1)
            x0 = self.denoiser(batch, sigma.expand(tokens.shape[0]), tokens, mask, pooled, prior)
            if guidance != 1.0:
                x0 = x0[:1] + guidance * (x0[1:] - x0[:1])
            if known is not None:
                x0[:, :pinned] = known
            velocity = (latents - x0) / sigma
            latents = scheduler.step(velocity, latents)
            if on_step is not None:
                on_step(i + 1, len(timesteps))

        # 4. Decode keyframes (the continued clip's tail as it was, not as decoded); keep only
        #    the objects the prompt names, each in one colour
        keyframes = self.decode(latents, caption)
        if context is not None:
            keyframes[:CONTEXT_KEYFRAMES] = tail
        named = reading.scene.objects if layers and reading.scene is not None else ()
        if named:
            keyframes = keep_named(keyframes, [world.COLORS[o.color] for o in named])

        # 5. Interpolate in time and draw at the requested size (after a continued clip's tail:
        #    only the frames after its last one)
        first, count, positions = 0, num_frames, None
        if context is not None:
            first, count = CONTEXT_KEYFRAMES - 1, num_frames + 1
            span = len(keyframes) - CONTEXT_KEYFRAMES
            positions = CONTEXT_KEYFRAMES - 1 + np.linspace(0, span, num_frames + 1)[1:]
        if named:
            frames = render(keyframes[first:], count, width, height)
        else:
            frames = fit_size(interpolate(keyframes[first:], count), width, height)
        if context is not None:
            frames = frames[1:]
        return TinyOutput(frames, keyframes, text, positions)


def context_keyframes(context: np.ndarray, num_frames: int) -> np.ndarray:
    """The ``CONTEXT_KEYFRAMES`` keyframes (64x64) of a continued clip's tail, spaced as the
    new clip's keyframes will be, the last being the clip's last frame.

    The new clip's remaining keyframes span ``num_frames`` frames after it, so keyframes are
    ``num_frames / (FRAMES - CONTEXT_KEYFRAMES)`` frames apart (the tail is clamped where it
    is shorter than that).
    """
    spacing = num_frames / (world.FRAMES - CONTEXT_KEYFRAMES)
    last = len(context) - 1
    picks = [max(0, last - round(spacing * k)) for k in range(CONTEXT_KEYFRAMES - 1, -1, -1)]
    return np.stack([_center_square(context[i]) for i in picks])


def _center_square(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return cv2.resize(
        frame[y : y + s, x : x + s], (world.RES, world.RES), interpolation=cv2.INTER_AREA
    )


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
    for i, f in enumerate(frames):  # straight into ``out``: no 2.7 MB temporary per 720p frame
        cv2.resize(f, (width, height), dst=out[i], interpolation=cv2.INTER_CUBIC)
    return out
