"""Invisible video watermark: a 48-bit payload, Reed-Solomon coded, in every frame's luma.

Design (why each part is there):

* **Fixed working plane.** Every frame's luma is seen through a 256x256 grid of cells whatever
  the frame size or aspect, so a re-scaled copy (50 % downscale, another aspect) lands on the
  same grid. The watermark is drawn on that grid and its residual is upsampled onto the frame,
  which keeps embedding cheap at 1792x1024.
* **Tiled spread spectrum.** A 64x64-cell tile of 4x4-cell blocks repeats across the plane; each
  block carries one of the 80 coded bits with a keyed pseudo-random sign, so each bit is spread
  over about 50 blocks per frame. Tiling turns the shift caused by cropping into a cyclic
  shift that one FFT correlation finds; a small search over scale handles the crop's zoom.
* **Informed embedding.** Per frame and bit, the host's own projection on the bit's pattern is
  measured and only what is needed to reach a fixed margin is added, so busy content does not
  drown the mark and flat content is not over-marked (PSNR stays above 40 dB).
* **Soft combining + ECC.** The detector averages the clip's frames (the pattern is static),
  removes the local mean (brightness changes, low-frequency content), correlates, and hands the
  soft bits to RS(10, 6) with erasures on the least reliable bytes. Only a clean decode counts,
  and the verify layer then requires the payload to exist in our database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from reedsolo import ReedSolomonError, RSCodec

PLANE = 256
"""Working plane (cells per side)."""
TILE = 128
"""Tile period (cells); must divide PLANE."""
BLOCK = 8
"""Block side (cells); one block carries one bit."""
DATA_BYTES = 6
PARITY_BYTES = 10
N_BITS = (DATA_BYTES + PARITY_BYTES) * 8
MAX_SYMBOL_FIXES = 8
"""2 x errors + erasures allowed; the 2 spare parity symbols keep false decodes < 1e-9."""
HIGHPASS = 17
"""Box size (cells) of the local mean removed before correlating."""
KEY = 0x6D75746F
"""Seed of the block-to-bit map and signs (public: the watermark is for attribution, not DRM)."""

_RS = RSCodec(PARITY_BYTES)


@dataclass(frozen=True)
class Detection:
    """What the detector read from a clip."""

    found: bool
    payload: bytes | None
    """The 6-byte payload when a codeword decoded cleanly."""
    bit_margin: float
    """Fraction of raw bits that agree with the decoded codeword (0.0 when none decoded)."""
    score: float
    """Peak strength of the synchronisation search, in robust z units."""
    scale: tuple[float, float]
    """Fraction of the original frame (x, y) the input appears to cover (1.0 = uncropped)."""
    bits: np.ndarray | None = None
    """Hard bits (N_BITS,) read at the best alignment, coded (before RS)."""

    @property
    def payload_hex(self) -> str | None:
        return self.payload.hex() if self.payload is not None else None


class Watermarker:
    """Embed and detect the Mutoscope watermark. Stateless apart from the keyed pattern."""

    def __init__(
        self,
        *,
        strength: float = 2.4,
        cancel: float = 1.0,
        floor: float = 0.5,
        cap: float = 3.0,
        min_psnr: float = 38.5,
        key: int = KEY,
    ) -> None:
        self.strength = strength
        self._max_rms = 255.0 / 10 ** (min_psnr / 20)
        self.cancel, self.floor, self.cap = cancel, floor, cap
        """Target margin (luma levels) that every bit's projection reaches in every frame."""
        self.key = key

    # ---- pattern ---------------------------------------------------------------------------

    @cached_property
    def _tile(self) -> tuple[np.ndarray, np.ndarray]:
        """(bit index, sign) per block of one tile, each (TILE//BLOCK, TILE//BLOCK)."""
        rng = np.random.default_rng(self.key)
        nb = (TILE // BLOCK) ** 2
        bits = np.resize(np.arange(N_BITS), nb)
        rng.shuffle(bits)
        signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=nb)
        side = TILE // BLOCK
        return bits.reshape(side, side), signs.reshape(side, side)

    @cached_property
    def _plane_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """(bit index, sign) per block of the full plane (tiles repeated)."""
        bits, signs = self._tile
        reps = PLANE // TILE
        return np.tile(bits, (reps, reps)), np.tile(signs, (reps, reps))

    @cached_property
    def _gain(self) -> np.ndarray:
        """How much of a unit pattern the detector's high-pass keeps, per bit (N_BITS,)."""
        bits, signs = self._plane_blocks
        gains = np.empty(N_BITS, dtype=np.float32)
        for i in range(N_BITS):
            unit = _cells((bits == i) * signs)
            kept = _highpass(unit[None])[0]
            gains[i] = float((kept * unit).sum() / np.abs(unit).sum())
        return gains

    @cached_property
    def _tile_patterns_fft(self) -> np.ndarray:
        """Conjugate FFT of each bit's pattern on one tile (N_BITS, TILE, TILE//2+1)."""
        bits, signs = self._tile
        pats = np.stack([_cells((bits == i) * signs) for i in range(N_BITS)])
        return np.conj(np.fft.rfft2(pats))

    # ---- embed -----------------------------------------------------------------------------

    def embed(self, frames: np.ndarray, payload: bytes) -> np.ndarray:
        """Return marked copies of (T, H, W, 3) uint8 RGB frames carrying ``payload`` (6 bytes)."""
        _check_frames(frames)
        signs_b = _payload_signs(payload)  # (N_BITS,) ±1
        bits, signs = self._plane_blocks
        out = np.empty_like(frames)
        for start in range(0, len(frames), 16):  # bounded memory at 1792x1024
            chunk = frames[start : start + 16]
            # 1. Measure each bit's projection in each frame (working plane, high-passed)
            luma = _highpass(_plane_luma(chunk))
            sums = luma.reshape(len(chunk), PLANE // BLOCK, BLOCK, PLANE // BLOCK, BLOCK)
            per_block = sums.sum(axis=(2, 4)) * signs  # (t, 64, 64)
            proj = np.zeros((len(chunk), N_BITS), dtype=np.float32)
            for t in range(len(chunk)):
                proj[t] = np.bincount(bits.ravel(), per_block[t].ravel(), minlength=N_BITS)
            proj /= self._cells_per_bit
            # 2. Add only what each bit needs to reach the margin (informed embedding)
            # the detector averages frames, so cancel the chunk's mean host projection
            proj = np.broadcast_to(proj.mean(axis=0, keepdims=True), proj.shape)
            need = (self.strength - self.cancel * signs_b * proj) / self._gain
            amp = signs_b * np.clip(need, self.floor * self.strength, self.cap * self.strength)
            # keep every frame inside the distortion budget (PSNR >= min_psnr)
            rms = np.sqrt((amp**2 * self._cells_per_bit).sum(axis=1) / PLANE**2)
            amp *= np.minimum(1.0, self._max_rms / np.maximum(rms, 1e-6))[:, None]
            # 3. Draw the residual on the plane, upsample it onto the frames
            residual = _cells(amp[:, bits] * signs)  # (t, PLANE, PLANE)
            out[start : start + 16] = _add_residual(chunk, residual)
        return out

    @cached_property
    def _cells_per_bit(self) -> np.ndarray:
        bits, _ = self._plane_blocks
        return (np.bincount(bits.ravel(), minlength=N_BITS) * BLOCK * BLOCK).astype(np.float32)

    # ---- detect ----------------------------------------------------------------------------

    def detect(self, frames: np.ndarray, *, search: bool = True) -> Detection:
        """Read the payload from (T, H, W, 3) uint8 frames (any size, cropped, re-encoded).

        ``search`` also tries crops (the input covering 76-100 % of the original per axis);
        an uncropped input is read first and the search only runs when that fails.
        """
        _check_frames(frames)
        mean = _mean_luma(frames, 2 * PLANE)
        best = self._read(mean, 1.0, 1.0)
        if best.found or not search:
            return best
        coarse = [self._score(mean, fx, fy) for fx in _COARSE for fy in _COARSE]
        coarse.sort(key=lambda c: -c[0])
        tried: list[Detection] = [best]
        for _, fx, fy in coarse[:3]:
            for dx in _FINE:
                for dy in _FINE:
                    fx2, fy2 = min(1.0, fx + dx), min(1.0, fy + dy)
                    found = self._read(mean, fx2, fy2)
                    if found.found:
                        return found
                    tried.append(found)
        return max(tried, key=lambda d: d.score)

    def _align(self, mean: np.ndarray, fx: float, fy: float) -> tuple[np.ndarray, np.ndarray]:
        """Soft correlations of every bit at every cyclic shift: (N_BITS, TILE, TILE) and S."""
        w, h = max(TILE, round(PLANE * fx)), max(TILE, round(PLANE * fy))
        plane = cv2.resize(mean, (w, h), interpolation=cv2.INTER_AREA)
        folded = _fold(_highpass(plane[None])[0])
        corr = np.fft.irfft2(np.fft.rfft2(folded)[None] * self._tile_patterns_fft, s=(TILE, TILE))
        return corr, (corr**2).sum(axis=0)

    def _score(self, mean: np.ndarray, fx: float, fy: float) -> tuple[float, float, float]:
        _, energy = self._align(mean, fx, fy)
        return _robust_z(energy), fx, fy

    def _read(self, mean: np.ndarray, fx: float, fy: float) -> Detection:
        corr, energy = self._align(mean, fx, fy)
        shift = np.unravel_index(int(np.argmax(energy)), energy.shape)
        soft = corr[:, shift[0], shift[1]]
        scale = float(np.median(np.abs(soft))) or 1.0
        soft = soft / scale
        payload = _decode(soft)
        return Detection(
            found=payload is not None,
            payload=payload,
            bit_margin=_agreement(soft, payload),
            score=_robust_z(energy),
            scale=(fx, fy),
            bits=(soft > 0).astype(np.uint8),
        )


_COARSE = np.round(np.arange(0.76, 1.0001, 0.03), 3).tolist()
_FINE = (-0.01, 0.0, 0.01)


def encode_bits(payload: bytes) -> np.ndarray:
    """The N_BITS coded bits (0/1) of a 6-byte payload."""
    if len(payload) != DATA_BYTES:
        raise ValueError(f"payload must be {DATA_BYTES} bytes (got {len(payload)})")
    return np.unpackbits(np.frombuffer(bytes(_RS.encode(payload)), dtype=np.uint8))


def _payload_signs(payload: bytes) -> np.ndarray:
    return (encode_bits(payload).astype(np.float32) * 2 - 1).astype(np.float32)


def _decode(soft: np.ndarray) -> bytes | None:
    """RS-decode soft bits, erasing the least reliable bytes when plain decoding fails."""
    hard = np.packbits((soft > 0).astype(np.uint8)).tobytes()
    reliability = np.abs(soft).reshape(-1, 8).min(axis=1)
    order = np.argsort(reliability)
    for n_erased in range(MAX_SYMBOL_FIXES + 1):
        erased = sorted(order[:n_erased].tolist())
        try:
            data, _, fixed = _RS.decode(hard, erase_pos=erased or None)
        except ReedSolomonError:
            continue
        errors = len(set(fixed) - set(erased))
        if 2 * errors + n_erased <= MAX_SYMBOL_FIXES:
            return bytes(data)
    return None


def _agreement(soft: np.ndarray, payload: bytes | None) -> float:
    if payload is None:
        return 0.0
    return float(np.mean((soft > 0).astype(np.uint8) == encode_bits(payload)))


def _check_frames(frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")


def _cells(blocks: np.ndarray) -> np.ndarray:
    """Expand per-block values (..., n, n) to cells (..., n*BLOCK, n*BLOCK)."""
    return np.repeat(np.repeat(blocks, BLOCK, axis=-2), BLOCK, axis=-1).astype(np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def _plane_luma(frames: np.ndarray) -> np.ndarray:
    """(T, PLANE, PLANE) float32 luma of each frame on the working plane."""
    return np.stack(
        [_luma(cv2.resize(f, (PLANE, PLANE), interpolation=cv2.INTER_AREA)) for f in frames]
    )


def _mean_luma(frames: np.ndarray, side: int) -> np.ndarray:
    acc = np.zeros((side, side), dtype=np.float32)
    for f in frames:
        acc += _luma(cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA))
    return acc / len(frames)


def _highpass(planes: np.ndarray) -> np.ndarray:
    """Remove the local mean (box HIGHPASS cells) from each (T, h, w) plane."""
    out = np.empty_like(planes, dtype=np.float32)
    for t, p in enumerate(planes):
        p = p.astype(np.float32)
        out[t] = p - cv2.blur(p, (HIGHPASS, HIGHPASS), borderType=cv2.BORDER_REFLECT)
    return out


def _fold(plane: np.ndarray) -> np.ndarray:
    """Sum a (h, w) plane into one (TILE, TILE) tile, cell (y, x) into (y % TILE, x % TILE)."""
    h, w = plane.shape
    ph, pw = -h % TILE, -w % TILE
    padded = np.pad(plane, ((0, ph), (0, pw)))
    return padded.reshape(padded.shape[0] // TILE, TILE, padded.shape[1] // TILE, TILE).sum(
        axis=(0, 2)
    )


def _robust_z(values: np.ndarray) -> float:
    med = float(np.median(values))
    mad = float(np.median(np.abs(values - med))) or 1e-9
    return (float(values.max()) - med) / (1.4826 * mad)


def _add_residual(frames: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """Upsample each (PLANE, PLANE) residual to the frame size; add it to R, G and B."""
    h, w = frames.shape[1:3]
    out = np.empty_like(frames)
    for t, (frame, res) in enumerate(zip(frames, residual, strict=True)):
        up = cv2.resize(res, (w, h), interpolation=cv2.INTER_LINEAR)
        delta = np.rint(up).astype(np.int16)
        out[t] = np.clip(frame.astype(np.int16) + delta[..., None], 0, 255).astype(np.uint8)
    return out
