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
        context: np.ndarray | None = None,
    ) -> TinyOutput:
        """``num_frames`` frames for ``prompt``; with ``source``, a remix of that clip noised to
        ``strength``; with ``context`` (the last frames of a clip, at the output's frame rate),
        the ``num_frames`` frames that follow it."""
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

        # 4. Decode keyframes, then 5. interpolate in time and fit the requested size
        keyframes = self.decode(latents, caption)
        positions = None
        if context is not None:
            # The tail as it was (not as decoded), and only the frames after its last one
            keyframes[:CONTEXT_KEYFRAMES] = tail
            frames = interpolate(keyframes[CONTEXT_KEYFRAMES - 1 :], num_frames + 1)[1:]
            span = len(keyframes) - CONTEXT_KEYFRAMES
            positions = CONTEXT_KEYFRAMES - 1 + np.linspace(0, span, num_frames + 1)[1:]
        else:
            frames = interpolate(keyframes, num_frames)
        return TinyOutput(fit_size(frames, width, height), keyframes, text, positions)


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


def interpolate(keyframes: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames spanning the keyframes; objects move between keyframes, they do not fade.

    Each keyframe is split into its backdrop (constant along rows: solid or vertical gradient)
    and its objects (connected regions far from the backdrop, with soft edges). An object found
    in both neighbouring keyframes (matched by colour, then distance) is moved along the line
    between its two positions and blended with itself; so an object that moves far between
    keyframes, as a bounce does near the floor, shows once, where optical flow (used before)
    lost it and showed it twice. Anything unmatched (a faint blob in one keyframe) cross-fades.
    """
    pos = np.linspace(0, len(keyframes) - 1, n)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(keyframes) - 1)
    alpha = (pos - lo).astype(np.float32)
    layers = [_layers(k) for k in keyframes]
    pairs: dict[int, list[tuple[_Blob | None, _Blob | None]]] = {}
    out = np.empty((n, *keyframes.shape[1:]), np.uint8)
    for i in range(n):
        a, k0, k1 = float(alpha[i]), int(lo[i]), int(hi[i])
        if a < 1e-3 or k0 == k1:
            out[i] = keyframes[k0]
            continue
        if k0 not in pairs:
            pairs[k0] = _match(layers[k0][1], layers[k1][1])
        frame = (1 - a) * layers[k0][0] + a * layers[k1][0]
        for b0, b1 in pairs[k0]:
            # one layer per object: its two keyframe views moved to this time and blended
            shift = (b1.centre - b0.centre) if b0 is not None and b1 is not None else np.zeros(2)
            cover = np.zeros(frame.shape[:2], np.float32)
            paint = np.zeros(frame.shape, np.float32)
            for blob, weight, offset in ((b0, 1 - a, a * shift), (b1, a, (a - 1) * shift)):
                if blob is not None:
                    c = _shifted(blob.cover, offset) * weight
                    cover += c
                    paint += _shifted(blob.colour, offset) * c[..., None]
            frame = frame * (1 - np.minimum(cover, 1.0)[..., None]) + paint
        out[i] = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    return out


@dataclass(eq=False)  # compared by identity (it holds arrays)
class _Blob:
    cover: np.ndarray
    """(H, W) float32 0-1: how much of each pixel the object covers."""
    colour: np.ndarray
    """(H, W, 3) float32: the object's colour where it covers (backdrop removed at edges)."""
    centre: np.ndarray
    """(x, y) of the coverage's centroid."""
    mean: np.ndarray
    """Mean colour (RGB), for matching."""


def _layers(frame: np.ndarray) -> tuple[np.ndarray, list[_Blob]]:
    """``frame`` as its backdrop (float32, objects removed) and its objects."""
    img = frame.astype(np.float32)
    rows = np.repeat(np.median(img, axis=1, keepdims=True), img.shape[1], axis=1)
    diff = np.abs(img - rows).sum(-1)
    core = (diff > 60).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    blobs = []
    backdrop = img.copy()
    near = np.ones((3, 3), np.uint8)
    for j in range(1, count):
        if stats[j, cv2.CC_STAT_AREA] < 3:
            continue
        inside = labels == j
        mean = img[inside].mean(0)
        span = mean - rows  # per pixel: from the backdrop to the object's colour
        ratio = ((img - rows) * span).sum(-1) / np.maximum((span**2).sum(-1), 1.0)
        region = cv2.dilate(inside.astype(np.uint8), near) > 0  # with its soft edge
        cover = np.where(region, np.clip(ratio, 0.0, 1.0), 0.0).astype(np.float32)
        if cover.sum() < 1.0:
            continue
        solid = (cover > 0.95)[..., None]
        colour = np.where(region[..., None], np.where(solid, img, mean), 0.0).astype(np.float32)
        ys, xs = np.nonzero(cover)
        w = cover[ys, xs]
        centre = np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()], np.float32)
        blobs.append(_Blob(cover, colour, centre, mean))
        backdrop[region] = rows[region]  # the backdrop behind the object, from its row
    return backdrop, blobs


def _match(before: list[_Blob], after: list[_Blob]) -> list[tuple[_Blob | None, _Blob | None]]:
    """Pairs of the same object in two keyframes (similar colour, nearest first)."""
    pairs: list[tuple[_Blob | None, _Blob | None]] = []
    free = list(after)
    for b0 in sorted(before, key=lambda b: -float(b.cover.sum())):
        scored = [
            (float(np.abs(b0.mean - b1.mean).sum()), float(np.abs(b0.centre - b1.centre).sum()), b1)
            for b1 in free
        ]
        scored = [s for s in scored if s[0] < 90]
        if not scored:
            pairs.append((b0, None))
            continue
        _, _, best = min(scored, key=lambda s: (s[0] > 45, s[1]))
        free.remove(best)
        pairs.append((b0, best))
    pairs.extend((None, b1) for b1 in free)
    return pairs


def _shifted(image: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``image`` moved by ``offset`` (x, y) pixels, sub-pixel (bilinear), zeros coming in."""
    if not offset.any():
        return image
    m = np.array([[1, 0, offset[0]], [0, 1, offset[1]]], np.float32)
    h, w = image.shape[:2]
    return np.asarray(cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR))


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
    for i, f in enumerate(frames):  # straight into ``out``: no 2.7 MB temporary per 720p frame
        cv2.resize(f, (width, height), dst=out[i], interpolation=cv2.INTER_CUBIC)
    return out
