"""Invisible video watermark: a 48-bit payload, Reed-Solomon coded, in every frame's luma or,
on flat footage, its blue-yellow chroma.

* **v5 (written now): blue-yellow chroma on flat footage.** On the embedded model's footage
  (constant backdrops, 99 % of pixels flat) no luma mark was both invisible and robust: the
  clean picture has ~0.005 levels^2 of fine texture per flat pixel, a smooth luma carrier
  rounded to whole RGB levels adds 0.035-0.064 (its contour steps), and what survives CRF 28 on
  a flat area is 1-2 levels. v5 keeps v4's dither modulation on textured chunks and writes flat
  chunks' mark in Cb instead (``_add_cb``): each pixel moves by a whole multiple of the RGB step
  (-3, 0, +8), which changes BT.601 luma by +0.015 and Cb by +4.51 (Cr by -2.15), so luma stays
  within 0.04 of the original (luma PSNR ~86 dB) and the change lies mostly in the blue-yellow
  channel, the eye's least sensitive one, though not an invisible one: on grey backdrops the
  blue-yellow blotches measured ~1.7 ΔE00 mean, ~4 at the 99th percentile before the
  limit below (docs/benchmarks.md).
  The step first used, (0, -1, +5) (Cb +2.83), measured 20-25 % more ΔE00 for the same Cb and
  -0.35 of a level in display luminance; it stays the fallback where the new one would clip
  (near-white), and marks along it read the same. The steps are ordered-dithered (4x4 Bayer), so
  the mean over 4x4 px follows the smooth carrier. The carrier is v3's tiled spread-spectrum
  pattern (its own key, ``V5``; blocks of ~40x22 px at 1280x720, 0.5-2 cycles/degree at 40-100
  px/degree), which survives 4:2:0 subsampling, 50 % downscale and CRF 28; pixels whose blue or
  green would clip are left alone. A decode says 5 when it read the chroma mark (textured chunks
  carry v4's mark, read as 4).

  **Below a just-noticeable difference (round 5).** As first written (margin 2.0 Cb levels) the
  carrier measured CIEDE2000 1.3 mean, 3.5 at the 99th percentile on flat pixels: visible
  blotches. Two changes brought it under 0.5 / 1.0 with the same robustness: (1) the reader
  clips each high-passed Cb plane at CHROMA_CLIP robust standard deviations, so moving objects'
  edges no longer outweigh the mark (the errors at low amplitude came from them, not from the
  codec: after 50 % downscale + CRF 28 a margin of 0.5 read 91-97 % of bits unclipped and 100 %
  clipped), which let the margin fall to 1.0; (2) the carrier is soft-limited (tanh) per cell
  to CHROMA_DE ΔE00 for the colour it lies on (a 16^3 table of ΔE00 per Cb level along the step
  ``_add_cb`` takes there), so a grey, where one Cb level is ~1.2 ΔE00, takes ~0.5 Cb level and a
  saturated blue (~0.25 ΔE00 a level) about four times more. The flat tops the limit makes
  carry more energy per unit of peak than the sine bumps did. Marks written before read the
  same way (same key, pattern and plane).

* **v4 (v5 writes it on textured footage): dither modulation.** A spread-spectrum mark (v3)
  must outweigh the host's own texture at the detector, which on textured footage took
  39.5 dB; and x264 carries a static mark on panning footage only by motion-compensated
  copies of its first frame (per-frame survival after CRF 28: ~0.96 in the I-frame, ~0.3
  after), so averaging the clip's frames gains little. v4 instead re-quantises each block's
  high-passed value onto one of two lattices (QIM, ``_Qim``) per group of frames, which the
  host does not disturb: 47 dB on the 1/f footage with every bit after CRF 28 + 50 %
  downscale, read mostly from the I-frame. Its change is weighted per pixel and frame to
  zero on flat areas (``_flat_guard``). Chunks with less than QIM_TEXTURED textured pixels
  (the embedded model's flat backdrops, where the guard would leave nothing to mark) get
  v3's mark unchanged; a decode says which it read.

Design (why each part is there):

* **Fixed working plane.** Every frame's luma is seen through a 256x256 grid of cells whatever
  the frame size or aspect, so a re-scaled copy (50 % downscale, another aspect) lands on the
  same grid. The watermark is drawn on that grid and its residual is upsampled onto the frame,
  which keeps embedding cheap at 1792x1024.
* **Tiled spread spectrum.** A 128x128-cell tile of 8x8-cell blocks repeats across the plane;
  each block carries one of the 128 coded bits with a keyed pseudo-random sign, so each bit is
  spread over 2 blocks per tile (8 per frame; a block is about 40x22 px at 1280x720). Tiling
  turns the shift caused by cropping into a cyclic shift that one correlation finds; a
  small search over scale handles the crop's zoom.
* **Smooth blocks.** Each block is a sine bump that falls to near zero at its edges, not a flat
  square (v1): no sharp steps between neighbouring bits, and no cross-talk between them.
* **Informed embedding.** Per one-second chunk and bit, the host's own projection on the bit's
  pattern is measured and only what is needed to reach a fixed margin is added.
* **v3: a budget set by what the picture can hide.** v2 spent the same margin everywhere and
  reached about 39 dB luma PSNR on the embedded model's flat backdrops, where it showed as a
  checkerboard. v3 (a) weights the mark by local contrast and motion (full where the picture
  is textured, edged or moving; a quarter where it is flat), (b) asks for a smaller margin,
  which flat, static footage still carries through CRF 28 + 50 % downscale (its host noise is
  small), (c) caps every chunk at 45.5 dB luma PSNR after rounding, relaxing towards 39.5 dB
  and v2's margin only as the chunk's busy share goes above half (fully textured footage,
  where contrast masking hides the mark and the host's texture is the detector's main noise;
  a one-second clip of it needs v2's energy to survive), and (d) adds the same change to R, G
  and B (luma only: no colour speckle). The detector's high-pass is narrower (9 cells, not 17),
  which measured +12-18 % soft-bit SNR at the lower amplitude. v3 has its own key, so a decode
  says which version it read; detection tries v3, then v2 (which also reads v1).
* **Cheap for the worker and the encoder.** The residual is constant over each chunk (x264's
  P-frames predict it), is drawn with reshapes and Kronecker products rather than matrix
  products (BLAS threads cost ~15-50 ms a product on a busy machine), and is added in place
  with two saturating OpenCV passes per frame.
* **Soft combining + ECC.** The detector averages the clip's frames (the pattern is static),
  removes the local mean (brightness changes, low-frequency content), correlates, and hands the
  soft bits to RS(16, 6) with erasures on the least reliable bytes. Only a clean decode counts,
  and the verify layer then requires the payload to exist in our database.
* **Cheap to say "not found" (round 7).** A clip without a mark (most files people check) runs
  every reader and the whole crop search; that took ~7 s of CPU for 4 s at 1280x720, now about
  1.5 s, the crop searches two at a time on two cores. The same readings for less: each plane
  is resized once for all readers (``_ClipPlanes``, ``_Planes``: two separable passes, the
  first shared by a width's scales), the sync energy is two shifted window sums per bit instead
  of 128 FFTs, and v4's block values come from one window filter for every grid offset. Two
  changes to what is read, each checked on cropped copies: the crop search reads in full only
  the FINE_READS best-ranked scales of each fine grid (ranked on the mean frame, or on v4's
  probe frames), and resizes from SEARCH_SIDE-px planes.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

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
MAX_SYMBOL_FIXES = 6
"""2 x errors + erasures allowed on their own. The 4 parity symbols kept in reserve make a false
decode on unmarked content about 2e-10 per attempt (worst case: 6 erasures, 256**-4), ~1e-8 per
verify."""
CONFIRMED_FIXES = 8
"""Allowed when a registry confirms the payload (``known``): a random word decodes this way about
1.5e-5 per attempt, and must then also hit one of N registered 48-bit payloads (N / 2**48)."""
CHUNK = 24
"""Frames that share one residual (one second at 24 fps)."""
HIGHPASS = 17
"""v1/v2: box size (cells) of the local mean removed before correlating."""
KEY = 0x6D75746F
"""v1/v2: seed of the block-to-bit map and signs (public: the watermark is for attribution,
not DRM)."""
KEY_V3 = 0x6D757433
"""v3: its own map and signs, so a decode says which version it read."""
KEY_V4 = 0x6D757434
"""v4: its own block-to-bit map (its textured-footage mark has no signs)."""
KEY_V5 = 0x6D757435
"""v5: the chroma mark's own map and signs."""
CB_VECTOR = (-3, 0, 8)
"""v5: the RGB change of one chroma step: Cb +4.51, BT.601 luma +0.015, Cr -2.15 (Rec. 709
luminance -0.06). Among integer vectors with |luma| < 0.06 it is near the least CIEDE2000 per Cb
level: 1.06 on a grey-20 backdrop, 0.86 on grey 240, 0.26 on blue, against 1.43, 1.14 and 0.32
for (0, -1, 5), which v5 first stepped along (about 25 % less visible for the same mark; the
reader sees only Cb, so marks along either vector read the same)."""
CB_FALLBACKS: tuple[tuple[int, int, int], ...] = ((0, -1, 5),)
"""v5: where CB_VECTOR would clip (near-white backdrops: blue above 239), each pixel takes the
first of these that does not: (0, -1, +5), Cb +2.83, luma -0.017 (blue up to 245)."""
CHROMA_ROOM = 0.5
"""v5: share of a flat chunk's pixels that must have room for a luma-neutral chroma step (not
too near 0 or 255) for it to take the chroma mark; the others take v3's luma mark."""
CB_MAX_STEPS = 2
"""v5: at most this many chroma steps per pixel (5.7 Cb levels)."""
CHROMA_STRENGTH = 1.0
"""v5: the chroma mark's margin (Cb levels of the high-passed, window-weighted projection),
before the ΔE limit below, which binds on greys (v5 first wrote 2.0 without that limit and
without the reader's clip: 1.0 then read 87-100 % of bits and 2 of 4 payloads on the
embedded model's footage after 50 % downscale + CRF 28; with both, 98-100 %, 4 of 4)."""
CHROMA_DE = 0.6
"""v5: the most CIEDE2000 the chroma carrier may add at any place (its smooth part; the
dither's pixel-scale pattern lies above blue-yellow acuity): the carrier is soft-limited per
cell to this many ΔE00 for the colour it lies on, so a saturated blue takes about 4x the Cb of
a grey."""
CHROMA_CLIP = 3.0
"""v5's reader: the high-passed Cb plane is clipped at this many robust standard deviations,
so moving objects' edges do not outweigh the mark (measured on the embedded model's footage
after 50 % downscale + CRF 28: 91-97 % of bits unclipped, 100 % clipped, at margin 0.5)."""
QIM_STEP = 4.5
"""v4: quantiser step (luma levels of a block's high-passed, window-weighted mean) of the
dither modulation on textured footage. Measured: 47 dB luma PSNR on the 1/f footage, all bits
after CRF 28 + 50 % downscale."""
QIM_GROUP = 4
QIM_TEXTURED = 0.3
"""v4: share of a chunk's pixels that must be textured (by ``_flat_guard``) for it to take
dither modulation; flatter chunks (the embedded model's) take v3's spread-spectrum mark,
which carries more per unit of change where the host is flat and the guard would leave
nothing to mark."""
"""v4: frames that share one residual on textured footage (its blocks are re-quantised on the
group's first frame: the frame x264 keeps best is the first, an I-frame)."""
MIN_PSNR = 45.5
"""v3: luma PSNR floor (dB, after rounding) of a chunk that is flat: 0.5 dB above the 45 dB
target, where a mark shows most (the embedded model's backdrops)."""
TEXTURE_RELAX = 6.0
"""v3: dB the floor relaxes by as the chunk's textured or moving share goes from 50 to 100 %
(39.5 dB on fully busy footage, where contrast masking hides the mark and the host's own
texture is the detector's main noise). The embedded model's clips are 2-40 % busy: always
45.5 dB."""
BUSY_STRENGTH = 5.0
"""v3: the margin (strength) on fully busy footage; v2's, which such footage needs to survive
CRF 28 + 50 % downscale in one second."""
FLAT_WEIGHT = 0.25
"""v3: share of the mark's amplitude kept where the picture is flat (no contrast, no motion)."""
GUARD = (1.5, 4.0)
"""v3 on busy chunks: local luma standard deviation (levels, over about 12x12 px) below which
a pixel is left unchanged and above which it takes the full mark (the bench counts a pixel as
flat below 1 level over 9x9 px)."""
ERODE = 5
"""Side (at the guard's 1/4 scale) of the erosion that keeps the guarded mark a few pixels
away from flat areas: the fine-texture measure (sigma 2 px) and the eye see that far."""
ACTIVITY = (1.0, 6.0)
"""v3: local contrast or motion (luma levels, on the working plane) below which a place counts
as flat and above which it gets the full mark."""
WINDOW = np.sin(np.pi * (np.arange(BLOCK) + 0.5) / BLOCK).astype(np.float32)
"""Profile of a block along each axis (its pattern is the outer product): a sine bump."""

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
    version: int | None = None
    """Which mark decoded (5: v5's chroma mark; 4: dither modulation, written by v4 and v5 on
    textured footage; 3; 2 also stands for v1), None when nothing did."""

    @property
    def payload_hex(self) -> str | None:
        return self.payload.hex() if self.payload is not None else None


@dataclass(frozen=True)
class Scheme:
    """One version of the mark: its keyed pattern and the detector's high-pass."""

    version: int
    key: int
    highpass: int
    """Box size (cells) of the local mean removed before correlating."""
    clip: float = 0.0
    """Robust clip of each high-passed plane before correlating, in robust standard deviations
    (0: none). Objects' edges then weigh no more than a few cells of mark each."""


V2 = Scheme(version=2, key=KEY, highpass=HIGHPASS)
"""v1 and v2 marks (v1's flat squares correlate with v2's bumps): read, no longer written."""
V3 = Scheme(version=3, key=KEY_V3, highpass=9)
"""The current mark. A narrower high-pass than v2's: at v3's lower amplitude the host's
low-frequency content is the main noise (measured: +12-18 % soft-bit SNR after CRF 28 + 50 %)."""
V4 = Scheme(version=4, key=KEY_V4, highpass=9)
"""v4: dither modulation (QIM) on busy chunks, v3's mark on the others."""
V5 = Scheme(version=5, key=KEY_V5, highpass=9, clip=CHROMA_CLIP)
"""v5: v4's dither modulation on busy chunks, a spread-spectrum mark in Cb on the others."""
READ_ORDER = (V3, V2)
"""Spread-spectrum marks, read after v4's dither modulation."""


class _Pattern:
    """A scheme's keyed block pattern, its correlator and its reader."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme

    @cached_property
    def tile(self) -> tuple[np.ndarray, np.ndarray]:
        """(bit index, sign) per block of one tile, each (TILE//BLOCK, TILE//BLOCK)."""
        rng = np.random.default_rng(self.scheme.key)
        nb = (TILE // BLOCK) ** 2
        bits = np.resize(np.arange(N_BITS), nb)
        rng.shuffle(bits)
        signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=nb)
        side = TILE // BLOCK
        return bits.reshape(side, side), signs.reshape(side, side)

    @cached_property
    def plane_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """(bit index, sign) per block of the full plane (tiles repeated)."""
        bits, signs = self.tile
        reps = PLANE // TILE
        return np.tile(bits, (reps, reps)), np.tile(signs, (reps, reps))

    def pattern(self, i: int) -> np.ndarray:
        """Bit ``i``'s unit pattern on the plane (PLANE, PLANE): smooth, zero outside its
        blocks, periodic with the tile."""
        bits, signs = self.plane_blocks
        # ``_expand`` (a Kronecker product) rather than ``u @ blocks @ u.T``: BLAS threads took
        # ~50 ms a product on a busy machine, 13 s for the 256 patterns built on first use
        return _expand(((bits == i) * signs).astype(np.float32))

    @cached_property
    def norms(self) -> np.ndarray:
        """<P_i, P_i> per bit (N_BITS,)."""
        return np.array([float((self.pattern(i) ** 2).sum()) for i in range(N_BITS)], np.float32)

    @cached_property
    def gain(self) -> np.ndarray:
        """How much of a unit pattern the detector's high-pass keeps, per bit (N_BITS,)."""
        gains = np.empty(N_BITS, dtype=np.float32)
        for i in range(N_BITS):
            unit = self.pattern(i)
            kept = _highpass(unit[None], self.scheme.highpass)[0]
            gains[i] = float((kept * unit).sum() / self.norms[i])
        return gains

    def project(self, plane: np.ndarray) -> np.ndarray:
        """Each bit's normalised projection of a (PLANE, PLANE) plane: (N_BITS,)."""
        bits, signs = self.plane_blocks
        per_block = _block_sums(plane) * signs
        return np.bincount(bits.ravel(), per_block.ravel(), minlength=N_BITS) / self.norms

    def weighted_share(self, weight: np.ndarray) -> np.ndarray:
        """Share of each bit's pattern energy a (PLANE, PLANE) weight keeps: (N_BITS,)."""
        bits, _ = self.plane_blocks
        per_block = _block_sums(weight * _WINDOW_PLANE)
        return np.bincount(bits.ravel(), per_block.ravel(), minlength=N_BITS) / self.norms

    @cached_property
    def _pairs(self) -> list[tuple[int, int, int, int, bool]]:
        """Per bit, its two blocks' top-left cells in one tile and whether their signs agree
        (the tile has 2 blocks per bit): (y1, x1, y2, x2, same sign)."""
        bits, signs = self.tile
        side = TILE // BLOCK
        order = np.argsort(bits.ravel(), kind="stable").reshape(N_BITS, -1)
        if order.shape[1] != 2:
            raise AssertionError("the sync energy assumes 2 blocks per bit in a tile")
        pairs = []
        for first, second in order.tolist():
            (y1, x1), (y2, x2) = divmod(first, side), divmod(second, side)
            same = bool(signs.ravel()[first] == signs.ravel()[second])
            pairs.append((y1 * BLOCK, x1 * BLOCK, y2 * BLOCK, x2 * BLOCK, same))
        return pairs

    @cached_property
    def _bit_onehot(self) -> np.ndarray:
        bits, _ = self.tile
        return np.eye(N_BITS, dtype=np.float32)[bits.ravel()]

    # ---- read ------------------------------------------------------------------------------

    def folds(self, planes: _Planes, fx: float, fy: float) -> np.ndarray:
        """High-passed planes folded onto one tile, per frame: (T, TILE, TILE)."""
        w, h = max(TILE, round(PLANE * fx)), max(TILE, round(PLANE * fy))
        hp = _clip_robust(_highpass(planes.resized(w, h), self.scheme.highpass), self.scheme.clip)
        return np.stack([_fold(p) for p in hp])

    def sync_energy(self, folded: np.ndarray) -> np.ndarray:
        """Sum over bits of the squared correlation of a (TILE, TILE) fold with the bit's
        pattern, at every cyclic shift: (TILE, TILE).

        A bit's pattern is two signed window bumps per tile, so its correlation at shift s is
        ``±G[s + p1] ± G[s + p2]``, G being the fold's cyclic window sums: two shifted copies
        per bit, where an FFT correlation of the 128 patterns took ~2.5x longer."""
        g = np.tile(_window_sums_cyclic(folded.astype(np.float32)), (2, 2))
        energy = np.zeros((TILE, TILE), np.float32)
        corr = np.empty((TILE, TILE), np.float32)
        for y1, x1, y2, x2, same in self._pairs:
            first, second = g[y1 : y1 + TILE, x1 : x1 + TILE], g[y2 : y2 + TILE, x2 : x2 + TILE]
            (np.add if same else np.subtract)(first, second, out=corr)
            energy += np.square(corr, out=corr)
        return energy

    def soft_bits(self, folds: np.ndarray) -> np.ndarray:
        """Correlation of aligned (T, TILE, TILE) folds with every bit's pattern: (T, N_BITS)."""
        blocks = _block_sums(folds)
        _, signs = self.tile
        return np.asarray((blocks * signs).reshape(len(folds), -1) @ self._bit_onehot)

    def score(self, mean: _Planes, fx: float, fy: float) -> tuple[float, float, float]:
        energy = self.sync_energy(self.folds(mean, fx, fy)[0])
        return _robust_z(energy), fx, fy

    def read(
        self,
        planes: _Planes,
        fx: float,
        fy: float,
        *,
        peaks: int = 4,
        known: Callable[[bytes], bool] | None = None,
    ) -> Detection:
        # 1. Candidate alignments: no shift when uncropped, then the strongest energy peaks
        #    of the clip's mean (the pattern does not move)
        folds = self.folds(planes, fx, fy)
        energy = self.sync_energy(folds.mean(axis=0))
        order = np.argsort(energy, axis=None)[::-1][:peaks]
        shifts = [
            (int(y), int(x)) for y, x in zip(*np.unravel_index(order, energy.shape), strict=True)
        ]
        if (fx, fy) == (1.0, 1.0):
            shifts.insert(0, (0, 0))
        z = _robust_z(energy)
        first: Detection | None = None
        for dy, dx in dict.fromkeys(shifts):
            # 2. Soft bits per frame at that alignment
            per_frame = self.soft_bits(np.roll(folds, (-dy, -dx), axis=(1, 2)))
            # 3. Combine frames by reliability (re-encoders keep I-frames, smear P-frames)
            soft = _combine(per_frame)
            soft = soft / (float(np.median(np.abs(soft))) or 1.0)
            payload, fixes = _decode(soft, CONFIRMED_FIXES if known else MAX_SYMBOL_FIXES)
            if payload is not None and fixes > MAX_SYMBOL_FIXES and not (known and known(payload)):
                payload = None
            found = Detection(
                found=payload is not None,
                payload=payload,
                bit_margin=_agreement(soft, payload),
                score=z,
                scale=(fx, fy),
                bits=(soft > 0).astype(np.uint8),
                version=self.scheme.version if payload is not None else None,
            )
            if found.found:
                return found
            first = first or found
        assert first is not None
        return first

    def search(
        self,
        clip: _ClipPlanes,
        known: Callable[[bytes], bool] | None,
        stop: threading.Event | None = None,
    ) -> list[Detection]:
        """Try crops (the input covering 78-100 % of the original per axis): the sync energy's
        strength on the mean frame ranks a coarse grid of scales, then the fine grid around the
        two best; stops at a find, or between hypotheses once ``stop`` is set."""
        coarse = [self.score(clip.mean, fx, fy) for fx in _COARSE for fy in _COARSE]
        coarse.sort(key=lambda c: -c[0])
        tried: list[Detection] = []
        fine = []
        for _, fx, fy in coarse[:2]:
            near = [self.score(clip.mean, x, y) for x, y in _fine_scales([(fx, fy)])]
            near.sort(key=lambda c: -c[0])
            fine += [(x, y) for _, x, y in near[:FINE_READS]]
        for fx, fy in dict.fromkeys(fine):
            if stop is not None and stop.is_set():
                break
            tried.append(self.read(clip.sample, fx, fy, peaks=2, known=known))
            if tried[-1].found:
                return tried
        return tried


class _Qim:
    """v4's mark on busy footage: dither modulation (QIM) of each block.

    A block's value is the window-weighted mean of the high-passed plane over it (as the
    detector sees it). The embedder moves it onto the nearest point of one of two interleaved
    lattices, step x Z for a 0 bit and step x (Z + 1/2) for a 1, so the host's own texture,
    however strong, does not count against the mark (a spread-spectrum mark has to outweigh
    it). The price: a value is only right in the frame it was quantised on, and x264 carries a
    static mark on panning footage mostly by motion-compensated copies of its first frame; the
    detector weights frames by how well they fit (the first, an I-frame, carries most)."""

    def __init__(self, scheme: Scheme, step: float) -> None:
        self.scheme, self.step = scheme, step

    @property
    def steps(self) -> tuple[float, ...]:
        """The steps a mark may have been written with (the detector does not know the
        original frame size), most common first."""
        return (self.step, self.step * 2**0.5, self.step * 2)

    def step_for(self, pixels: int) -> float:
        """Smaller frames put fewer pixels under each block, so the codec moves its value
        more: x1.4 from 640x360 (where a 1-s excerpt of a CRF 20 copy, re-encoded at CRF 23,
        lost the payload at x1), x2 below."""
        return self.steps[0 if pixels >= _HD_PIXELS else 1 if pixels >= _HD_PIXELS // 4 else 2]

    @cached_property
    def tile_bits(self) -> np.ndarray:
        """Bit index per block of one tile (TILE // BLOCK, TILE // BLOCK)."""
        return _Pattern(self.scheme).tile[0]

    @cached_property
    def scramble(self) -> np.ndarray:
        """Keyed +-1 per coded bit: a bit is written on the lattice its scrambled value names,
        so flat or unmarked content (every block on or near 0) reads as random bits, never as
        the all-zero codeword."""
        rng = np.random.default_rng(self.scheme.key + 1)
        return rng.choice(np.array([-1.0, 1.0], np.float32), size=N_BITS)

    @cached_property
    def gain(self) -> float:
        """How much of a unit block bump the high-pass and block value keep."""
        unit = np.zeros((PLANE // 4, PLANE // 4), np.float32)
        unit[BLOCK * 2 : BLOCK * 3, BLOCK * 2 : BLOCK * 3] = _WINDOW_2D
        kept = _highpass(unit[None], self.scheme.highpass)[0]
        return float((kept * unit).sum() / _WSUM)

    def values(self, hp: np.ndarray, oy: int = 0, ox: int = 0) -> np.ndarray:
        """Block values of (T, h, w) high-passed planes, the block grid from cell (oy, ox)."""
        ny, nx = (hp.shape[1] - oy) // BLOCK, (hp.shape[2] - ox) // BLOCK
        grid = hp[:, oy : oy + ny * BLOCK, ox : ox + nx * BLOCK]
        return _block_sums(np.ascontiguousarray(grid)) / _WSUM

    def _bits(self, shape: tuple[int, int], by: int, bx: int) -> np.ndarray:
        """Bit index per block of a (ny, nx) grid whose first block is block (by, bx) of the
        tile."""
        side = TILE // BLOCK
        rolled = np.roll(self.tile_bits, (-by, -bx), axis=(0, 1))
        return np.tile(rolled, (-(-shape[0] // side), -(-shape[1] // side)))[: shape[0], : shape[1]]

    def embed(self, chunk: np.ndarray, signs_b: np.ndarray, out: np.ndarray, psnr: float) -> None:
        side = PLANE // BLOCK
        step = self.step_for(chunk.shape[1] * chunk.shape[2])
        offset = 0.5 * step * (signs_b * self.scramble > 0)[self._bits((side, side), 0, 0)]
        max_rms = 255.0 / 10 ** (psnr / 20)
        for start in range(0, len(chunk), QIM_GROUP):
            group, dst = chunk[start : start + QIM_GROUP], out[start : start + QIM_GROUP]
            # 1. The group's first frame's block values, moved to the nearest lattice point
            value = self.values(_highpass(_plane_luma(group[:1]), self.scheme.highpass))[0]
            target = np.round((value - offset) / step) * step + offset
            residual = _expand((target - value) / self.gain)
            # 2. Within the PSNR budget (rarely binding: the change is at most step / 2),
            #    and none on the frame's flat pixels
            residual *= _budget_scale(residual, max_rms)
            _add_gray_guarded(group, residual, dst)

    def soft(self, values: np.ndarray, step: float, by: int = 0, bx: int = 0) -> np.ndarray:
        """(T, N_BITS) soft bits (> 0: a 1) of (T, ny, nx) block values whose first block is
        block (by, bx) of the tile."""
        bits = self._bits(values.shape[1:], by, bx)
        votes = -np.cos(2 * np.pi * values / step)
        index = (bits.ravel()[None] + N_BITS * np.arange(len(values))[:, None]).ravel()
        sums = np.bincount(index, votes.ravel(), minlength=N_BITS * len(values))
        return (sums.reshape(len(values), N_BITS) * self.scramble).astype(np.float32)

    def fit(self, values: np.ndarray, step: float) -> float:
        """How close (T, ny, nx) values sit to the lattices in the frame where they sit
        closest (x264 keeps the mark best in I-frames): about 2 / pi for unmarked content."""
        return float(np.abs(np.cos(2 * np.pi * values / step)).mean(axis=(1, 2)).max())

    def _values_at(self, sums: np.ndarray, shape: tuple[int, ...], oy: int, ox: int) -> np.ndarray:
        """``values`` of (T, h, w) planes of ``shape`` from their ``_window_sums``: a strided
        view, so every grid offset costs one pass over the planes in all."""
        ny, nx = (shape[1] - oy) // BLOCK, (shape[2] - ox) // BLOCK
        return sums[:, oy : oy + ny * BLOCK : BLOCK, ox : ox + nx * BLOCK : BLOCK] / _WSUM

    def best_offset(
        self, planes: np.ndarray, step: float, offsets: range
    ) -> tuple[float, int, int]:
        """(fit, oy, ox): the block grid offset (each of ``offsets`` per axis) where the (T, h, w)
        high-passed planes' block values fit the lattices best."""
        sums = _window_sums(planes)
        return max(
            (self.fit(self._values_at(sums, planes.shape, y, x), step), y, x)
            for y in offsets
            for x in offsets
        )

    def tile_agreement(self, values: np.ndarray, step: float) -> np.ndarray:
        """(TILE // BLOCK, TILE // BLOCK): for each block (by, bx) of the tile that the grid
        may start with, the most over frames of the squared soft bits ``soft`` would read
        (the same as ``(self.soft(values, step, by, bx) ** 2).sum(axis=1).max()``)."""
        side = TILE // BLOCK
        votes = -np.cos(2 * np.pi * values / step)
        t, ny, nx = votes.shape
        padded = np.zeros((t, -(-ny // side) * side, -(-nx // side) * side), np.float32)
        padded[:, :ny, :nx] = votes
        folded = padded.reshape(t, padded.shape[1] // side, side, -1, side).sum(axis=(1, 3))
        first, second = self._pair_index
        soft = folded.reshape(t, -1)[:, first] + folded.reshape(t, -1)[:, second]
        return np.asarray((soft**2).sum(axis=1).max(axis=0)).reshape(side, side)

    @cached_property
    def _pair_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Per bit and first block (by, bx): the folded grid cells of the bit's two blocks,
        each (N_BITS, side * side)."""
        side = TILE // BLOCK
        order = np.argsort(self.tile_bits.ravel(), kind="stable").reshape(N_BITS, 2)
        by, bx = np.divmod(np.arange(side * side), side)
        cells = []
        for k in range(2):
            u, v = np.divmod(order[:, k], side)
            cells.append(((u[:, None] - by) % side) * side + (v[:, None] - bx) % side)
        return cells[0], cells[1]

    def read(
        self,
        planes: _Planes,
        fx: float,
        fy: float,
        *,
        known: Callable[[bytes], bool] | None = None,
        peaks: int = 2,
        fine: bool = False,
        step: float | None = None,
    ) -> Detection:
        step = step or self.step
        values, shifts = self.align(planes, fx, fy, step=step, peaks=peaks, fine=fine)
        return self.decode(values, shifts, step, (fx, fy), known)

    def align(
        self,
        planes: _Planes,
        fx: float,
        fy: float,
        *,
        step: float,
        peaks: int = 2,
        fine: bool = False,
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Block values of the (T, h, w) planes read at scale (fx, fy), and the blocks of the
        tile the grid may start with (best first); at (1, 1) the step plays no part."""
        exact = (PLANE * fx, PLANE * fy)
        w, h = max(TILE, math.ceil(exact[0])), max(TILE, math.ceil(exact[1]))
        hp = _highpass(planes.resized(w, h), self.scheme.highpass)
        if (fx, fy) == (1.0, 1.0):
            return self.values(hp), [(0, 0)]
        # 1. Block grid, to a quarter of a cell (the lattices need it that close): the
        #    offset where the first frames' values fit best; the planes are warped to the
        #    exact scale (their integer size rounds it)
        probe = hp[: min(3, len(hp))]
        best = (-1.0, 0.0, 0.0, 0, 0)
        for ty, tx in itertools.product(_QUARTERS if fine else (0.0,), repeat=2):
            warped = _warp(probe, w / exact[0], h / exact[1], tx, ty)
            fit, y, x = self.best_offset(warped, step, range(BLOCK))
            best = max(best, (fit, ty, tx, y, x))
        _, ty, tx, oy, ox = best
        hp = _warp(hp, w / exact[0], h / exact[1], tx, ty)
        # 2. Which block of the tile comes first: the one whose bits' blocks agree most
        agree = self.tile_agreement(self.values(hp[: len(probe)], oy, ox), step)
        order = np.argsort(agree, axis=None, kind="stable")[::-1][:peaks]
        side = TILE // BLOCK
        return self.values(hp, oy, ox), [divmod(int(i), side) for i in order]

    def decode(
        self,
        values: np.ndarray,
        shifts: list[tuple[int, int]],
        step: float,
        scale: tuple[float, float],
        known: Callable[[bytes], bool] | None,
    ) -> Detection:
        """Soft bits of the block values from each candidate first block, RS-decoded."""
        first: Detection | None = None
        for (by, bx), seed in itertools.product(shifts, (None, 0)):
            # frames combined from equal weights, then (when that fails) from the first
            # frame's own bits: on panning footage only the first frame, an I-frame, may still
            # carry the mark after a second encode, and 20-odd near-random frames can outvote
            # it in the equal start
            soft = _combine(self.soft(values, step, by, bx), seed=seed)
            soft = soft / (float(np.median(np.abs(soft))) or 1.0)
            payload, fixes = _decode(soft, CONFIRMED_FIXES if known else MAX_SYMBOL_FIXES)
            if payload is not None and fixes > MAX_SYMBOL_FIXES and not (known and known(payload)):
                payload = None
            found = Detection(
                found=payload is not None,
                payload=payload,
                bit_margin=_agreement(soft, payload),
                score=self.fit(values, step),
                scale=scale,
                bits=(soft > 0).astype(np.uint8),
                version=4 if payload is not None else None,
            )
            if found.found:
                return found
            first = first or found
        assert first is not None
        return first

    def search(
        self,
        clip: _ClipPlanes,
        known: Callable[[bytes], bool] | None,
        frame_size: tuple[int, int],
        stop: threading.Event | None = None,
    ) -> list[Detection]:
        """Try crops (78-100 % of the original per axis) ranked by how well the probe frames'
        block values fit the lattices at their best grid offset; stops at a find.

        The lattices need the grid to within a fraction of a cell, which a search over scale
        does not reach; so crops of the sizes Mutoscope writes, kept at their cropped size,
        are tried first at their exact scale (``frame_size``: the input's (width, height))."""
        probe, sample = clip.probe, clip.sample
        tried: list[Detection] = []
        for fx, fy, pixels in _exact_scales(frame_size):
            step = self.step_for(pixels)
            tried.append(self.read(sample, fx, fy, known=known, fine=True, step=step))
            if tried[-1].found:
                return tried
        ranked = []
        for fx in _COARSE:
            for fy in _COARSE:
                w, h = round(PLANE * fx), round(PLANE * fy)
                hp = _highpass(probe.resized(w, h), self.scheme.highpass)
                best, _, _ = self.best_offset(hp, self.step, range(0, BLOCK, 2))
                ranked.append((best, fx, fy))
        ranked.sort(reverse=True)
        fine = []
        for _, fx, fy in ranked[:2]:
            near = []
            for x, y in _fine_scales([(fx, fy)]):
                w, h = max(TILE, math.ceil(PLANE * x)), max(TILE, math.ceil(PLANE * y))
                hp = _highpass(probe.resized(w, h), self.scheme.highpass)
                near.append((self.best_offset(hp, self.step, range(BLOCK))[0], x, y))
            near.sort(reverse=True)
            fine += [(x, y) for _, x, y in near[:FINE_READS]]
        for fx, fy in dict.fromkeys(fine):
            if stop is not None and stop.is_set():
                break
            tried.append(self.read(sample, fx, fy, known=known))
            if tried[-1].found:
                return tried
        return tried


WRITTEN_SIZES = ((1280, 720), (1792, 1024), (1920, 1080), (640, 360), (320, 180))
"""Landscape sizes Mutoscope writes (and their portrait twins): a crop of one, kept at its
cropped size, has an exact scale."""


def _exact_scales(frame_size: tuple[int, int]) -> list[tuple[float, float, int]]:
    """(fx, fy, the written size's pixels) of ``frame_size`` as a 78-100 % crop of each
    written size it fits in."""
    w, h = frame_size
    scales = []
    for big_w, big_h in {*WRITTEN_SIZES, *((b, a) for a, b in WRITTEN_SIZES)}:
        fx, fy = w / big_w, h / big_h
        if 0.78 <= fx <= 1.0 and 0.78 <= fy <= 1.0 and (fx, fy) != (1.0, 1.0):
            scales.append((fx, fy, big_w * big_h))
    return sorted(scales, reverse=True)


_QUARTERS = (0.0, 0.25, 0.5, 0.75)


def _warp(planes: np.ndarray, sx: float, sy: float, tx: float, ty: float) -> np.ndarray:
    """(T, h, w) planes resampled at (x * sx + tx, y * sy + ty): a small scale correction and a
    sub-cell shift."""
    h, w = planes.shape[1:]
    size = (math.floor((w - tx) / sx), math.floor((h - ty) / sy))
    m = np.array([[sx, 0.0, tx], [0.0, sy, ty]], np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return np.stack([cv2.warpAffine(p, m, size, flags=flags) for p in planes])


def _sample_frames(n: int) -> np.ndarray:
    """Frames a crop hypothesis is read from: at most 24, spread over the clip."""
    return np.unique(np.linspace(0, n - 1, 24).round().astype(int))


def _fine_scales(coarse: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The fine grid (``_FINE`` per axis, at most 1.0) around each coarse scale, in order,
    each scale once; one width's scales together (they share ``_Planes``' first pass)."""
    return list(
        dict.fromkeys(
            (min(1.0, fx + dx), min(1.0, fy + dy))
            for fx, fy in coarse
            for dx in _FINE
            for dy in _FINE
        )
    )


class _Planes:
    """A clip's (T, n, n) float32 planes (luma or Cb) and their resized versions: the readers
    of each mark, step and crop hypothesis resize the same frames to the same sizes.

    A resize is done in two passes, across then down (INTER_AREA is separable: the same
    result), the first pass for all frames at once and kept for the next size of the same
    width, which saves about half of each resize in the crop search's fine grid."""

    def __init__(self, array: np.ndarray, *, keep: int = 0) -> None:
        """``keep``: bytes of resized planes kept for the next reader that asks for the same
        size (the least recently used go first; the latest is always kept). Only the mean
        frame keeps more: the spread-spectrum marks rank the same scales on it, while the
        ranked crop search rarely reads one size twice (keeping 32 MB of the sampled frames
        saved no measurable CPU and added ~65 MB to verify's peak memory)."""
        self.array = array
        self.keep = keep
        self._sized: dict[tuple[int, int], np.ndarray] = {}
        self._across: tuple[int, np.ndarray] | None = None
        self._lock = threading.Lock()  # the crop searches run in threads

    def __len__(self) -> int:
        return len(self.array)

    def resized(self, w: int, h: int) -> np.ndarray:
        """(T, h, w) float32: every plane resized with INTER_AREA (do not write to it)."""
        with self._lock:
            if (w, h) not in self._sized:
                self._sized[(w, h)] = self._resize(w, h)
                while len(self._sized) > 1 and self._bytes() > self.keep:
                    del self._sized[next(iter(self._sized))]
            self._sized[(w, h)] = self._sized.pop((w, h))  # the most recently used last
            return self._sized[(w, h)]

    def _bytes(self) -> int:
        return sum(a.nbytes for a in self._sized.values())

    def _resize(self, w: int, h: int) -> np.ndarray:
        t, n, m = self.array.shape
        if (n, m) == (h, w):
            return self.array
        if n % h == 0 and m % w == 0:  # whole-number factors: OpenCV's fast path
            return np.stack(
                [cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in self.array]
            )
        if self._across is None or self._across[0] != w:
            # frames stacked vertically: rows map one to one, so frames do not mix
            flat = self.array.reshape(t * n, m)
            across = cv2.resize(flat, (w, t * n), interpolation=cv2.INTER_AREA)
            self._across = (w, across.reshape(t, n, w))
        down = self._across[1]
        return np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in down])


@dataclass(frozen=True)
class _ClipPlanes:
    """What the detector reads of a clip's planes (luma or Cb), made in one pass over its
    frames: every frame on the working plane (the uncropped reads), and on the crop search's
    working size (SEARCH_SIDE) only the mean and the frames the search reads. Holding every
    frame at that size took ~100 MB per plane for 96 frames, and on a VM the fresh memory's
    page faults cost more than the arithmetic."""

    whole: _Planes
    """(T, PLANE, PLANE) every frame."""
    mean: _Planes
    """(1, SEARCH_SIDE, SEARCH_SIDE) the mean frame: where the spread-spectrum marks rank
    scales."""
    sample: _Planes
    """``_sample_frames``: what a crop hypothesis is read from."""
    probe: _Planes
    """``_probe_frames``: where v4's crop search ranks scales."""

    @classmethod
    def of(cls, frames: np.ndarray, plane: Callable[[np.ndarray], np.ndarray]) -> _ClipPlanes:
        """``plane`` (uint8 RGB -> float32 plane) of each frame resized to 2 x PLANE square."""
        n, side = len(frames), 2 * PLANE
        sample, probe = _sample_frames(n), _probe_frames(n)
        kept: dict[int, np.ndarray] = {}
        whole = np.empty((n, PLANE, PLANE), np.float32)
        total = np.zeros((side, side), np.float32)
        for t, frame in enumerate(frames):
            p = plane(cv2.resize(frame, (side, side), interpolation=cv2.INTER_AREA))
            whole[t] = cv2.resize(p, (PLANE, PLANE), interpolation=cv2.INTER_AREA)
            total += p
            if t in sample or t in probe:
                kept[t] = _search_size(p)
        return cls(
            whole=_Planes(whole),
            mean=_Planes(_search_size(total / np.float32(n))[None], keep=16 << 20),
            sample=_Planes(np.stack([kept[t] for t in sample.tolist()])),
            probe=_Planes(np.stack([kept[t] for t in probe.tolist()])),
        )


SEARCH_SIDE = 384
"""Side of the square planes the crop search resizes from (to 205-256 cells a side): 1.5x its
largest size still averages a couple of pixels into each cell, and costs about half the
resizing of the 512 it used (the uncropped reads still start from 512). On the 42 cropped
copies of the crop-search measurement: the same 25 payloads at the same scales, and about
0.2 s less CPU for an unmarked 720p clip."""


def _search_size(plane: np.ndarray) -> np.ndarray:
    """A (2 PLANE, 2 PLANE) plane resized to the crop search's SEARCH_SIDE."""
    return np.asarray(cv2.resize(plane, (SEARCH_SIDE, SEARCH_SIDE), interpolation=cv2.INTER_AREA))


def _probe_frames(n: int) -> np.ndarray:
    """Frames the crop search looks at: the first three (an I-frame and what x264 copied from
    it) and five more spread over the clip."""
    return np.unique(
        np.concatenate([np.arange(min(3, n)), np.linspace(0, n - 1, 5).round()]).astype(int)
    )


class Watermarker:
    """Embed (v5, or v4/v3/v2 on request) and detect (dither modulation, then v5's chroma mark,
    then v3, then v2/v1) the Mutoscope watermark."""

    def __init__(
        self,
        *,
        version: int = 5,
        strength: float | None = None,
        cancel: float = 1.0,
        floor: float = 0.5,
        cap: float = 3.0,
        min_psnr: float | None = None,
        flat_weight: float = FLAT_WEIGHT,
        texture_relax: float = TEXTURE_RELAX,
        busy_strength: float = BUSY_STRENGTH,
        chroma_strength: float = CHROMA_STRENGTH,
        chroma_de: float = CHROMA_DE,
        chroma_dither: bool = True,
        chroma_vector: tuple[int, int, int] = CB_VECTOR,
        chroma_steps: int = CB_MAX_STEPS,
        chroma_fallbacks: tuple[tuple[int, int, int], ...] = CB_FALLBACKS,
    ) -> None:
        if version not in (2, 3, 4, 5):
            raise ValueError(f"watermark version must be 2, 3, 4 or 5 (got {version})")
        self.version = version
        self.strength = strength if strength is not None else (2.0 if version >= 3 else 5.0)
        self.min_psnr = min_psnr if min_psnr is not None else (MIN_PSNR if version >= 3 else 38.3)
        """v3: luma PSNR floor per chunk (after rounding); v2: RGB PSNR floor (legacy)."""
        self.cancel, self.floor, self.cap = cancel, floor, cap
        self.flat_weight = flat_weight
        self.texture_relax, self.busy_strength = texture_relax, busy_strength
        self.chroma_strength, self.chroma_dither = chroma_strength, chroma_dither
        self.chroma_de = chroma_de
        r, g, b = (int(v) for v in chroma_vector)  # (a list from JSON settings too)
        self.chroma_vector, self.chroma_steps = (r, g, b), chroma_steps
        self.chroma_fallbacks = tuple((int(r), int(g), int(b)) for r, g, b in chroma_fallbacks)
        self._patterns = {s.version: _Pattern(s) for s in (*READ_ORDER, V5)}
        self._qim = _Qim(V4, QIM_STEP)

    # ---- embed -----------------------------------------------------------------------------

    def embed(
        self,
        frames: np.ndarray,
        payload: bytes,
        *,
        inplace: bool = False,
        on_marked: Callable[[np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Mark (T, H, W, 3) uint8 RGB frames with ``payload`` (6 bytes).

        Returns marked copies, or the same array marked in place with ``inplace`` (saves a
        second full-size buffer: 0.5 GB for 96 frames at 1792x1024). ``on_marked`` gets each
        run of marked frames (of the result, in order) as soon as it is final, so a caller can
        encode them while the rest are marked.
        """
        _check_frames(frames)
        signs_b = _payload_signs(payload)  # (N_BITS,) ±1
        # C order even when ``frames`` is a strided view: OpenCV writes only into C-contiguous rows.
        out = frames if inplace else np.empty(frames.shape, dtype=frames.dtype)
        for start in range(0, len(frames), CHUNK):
            chunk, dst = frames[start : start + CHUNK], out[start : start + CHUNK]
            if self.version >= 3:
                self._embed_chunk_v3(chunk, signs_b, dst)
            else:
                self._embed_chunk_v2(chunk, signs_b, dst)
            if on_marked is not None:
                on_marked(dst)
        return out

    def _embed_chunk_v3(self, chunk: np.ndarray, signs_b: np.ndarray, out: np.ndarray) -> None:
        pattern = self._patterns[3]
        bits, signs = pattern.plane_blocks
        # 1. Four sample frames on the working plane (the residual is constant per chunk)
        small = _plane_rgb(chunk[:: max(1, len(chunk) // 4)])
        sample = _luma(small)
        # 2. Perceptual weight: full where the picture has contrast or motion to hide the
        #    mark, ``flat_weight`` where it is flat
        weight = _activity_weight(sample, self.flat_weight)
        # 3. The host's own projection on each bit (as the detector sees it: high-passed,
        #    averaged over frames), and how much of each bit's pattern the weight keeps
        proj = pattern.project(_highpass(sample, V3.highpass).mean(axis=0))
        keep = pattern.gain * np.maximum(pattern.weighted_share(weight), 0.05)
        # 4. Busy footage (over half textured or moving) hides more and needs more: the
        #    margin and the PSNR floor move towards v2's as the busy share grows
        busy = float(np.mean(weight) - self.flat_weight) / max(1.0 - self.flat_weight, 1e-6)
        excess = float(np.clip(2 * busy - 1, 0.0, 1.0))
        margin = self.strength + (max(self.busy_strength, self.strength) - self.strength) * excess
        # Smaller frames put fewer pixels under each bit, so the codec's noise weighs more:
        # the margin grows as 1 / sqrt(pixels) below 1280x720 (up to 3x, at 320x180 and less)
        margin *= float(np.clip(np.sqrt(_HD_PIXELS / (chunk.shape[1] * chunk.shape[2])), 1, 3))
        # (the busy share bounds the textured share: flat chunks skip measuring it)
        textured = busy >= QIM_TEXTURED and _textured_share(chunk) >= QIM_TEXTURED
        if self.version >= 4 and textured:
            # v4: textured footage takes dither modulation, which the host's texture does not
            # disturb (a spread-spectrum mark must outweigh it, which took 39.5 dB)
            self._qim.embed(chunk, signs_b, out, self.min_psnr)
            return
        if self.version >= 5 and self._chroma_room(small) >= CHROMA_ROOM:
            # v5: flat footage takes a chroma mark (blue-yellow), luma all but unchanged; a
            # chunk whose pixels are mostly too near 0 or 255 for a luma-neutral step (pure
            # white or black title cards) keeps v3's luma mark, which saturates one way
            size = float(np.clip(np.sqrt(_HD_PIXELS / (chunk.shape[1] * chunk.shape[2])), 1, 3))
            self._embed_chunk_v5(chunk, small, signs_b, out, self.chroma_strength * size)
            return
        floor_db = self.min_psnr - self.texture_relax * excess
        # 5. Informed embedding: add only what each bit needs to reach the margin
        need = (margin - self.cancel * signs_b * proj) / keep
        amp = signs_b * np.clip(need, self.floor * margin, self.cap * margin)
        # 6. Weighted residual, scaled into the PSNR budget as it will be rounded
        residual = _expand(amp[bits] * signs) * weight
        residual *= _budget_scale(residual, 255.0 / 10 ** (floor_db / 20))
        # 7. Equal change to R, G and B: luma only, no chroma speckle for x264 to code
        _add_gray(chunk, residual, out)

    def _chroma_room(self, small: np.ndarray) -> float:
        """Share of the sample's plane pixels (k, PLANE, PLANE, 3) where a whole chroma step
        either way fits along the chroma vector or one of its fallbacks."""
        ranges = []
        for vec in (self.chroma_vector, *self.chroma_fallbacks):
            reach = tuple(abs(v) * self.chroma_steps for v in vec)
            ranges.append((reach, tuple(255 - r for r in reach)))
        fits = 0
        for frame in small:  # OpenCV: numpy's comparisons took ~15 ms a chunk
            room = np.zeros(frame.shape[:2], np.uint8)
            for low, high in ranges:
                cv2.bitwise_or(room, cv2.inRange(frame, low, high), dst=room)
            fits += cv2.countNonZero(room)
        return fits / (len(small) * small.shape[1] * small.shape[2])

    def _embed_chunk_v5(
        self,
        chunk: np.ndarray,
        sample: np.ndarray,
        signs_b: np.ndarray,
        out: np.ndarray,
        margin: float,
    ) -> None:
        """v5's chroma mark on a flat chunk; ``sample``: (k, PLANE, PLANE, 3) uint8 RGB of sample
        frames on the plane."""
        pattern = self._patterns[5]
        bits, signs = pattern.plane_blocks
        fallbacks = tuple(v for v in self.chroma_fallbacks if v != self.chroma_vector)
        # 1. The host's own Cb projection on each bit, as the detector sees it (high-passed,
        #    clipped, averaged over the sample frames)
        hp = _clip_robust(_highpass(_cb(sample), V5.highpass), V5.clip)
        proj = pattern.project(hp.mean(axis=0))
        # 2. Informed embedding: add only what each bit needs to reach the margin
        need = (margin - self.cancel * signs_b * proj) / pattern.gain
        amp = signs_b * np.clip(need, self.floor * margin, self.cap * margin)
        residual = _expand(amp[bits] * signs)
        # 3. Soft-limited per cell to what its colour hides (``chroma_de`` ΔE00 at most)
        if self.chroma_de:
            limit = self.chroma_de / _cb_visibility(sample, self.chroma_vector, fallbacks)
            residual = limit * np.tanh(residual / limit)
        # 4. Upsampled, rounded to whole chroma steps (luma-neutral), dithered
        _add_cb(
            chunk,
            residual,
            out,
            dither=self.chroma_dither,
            vector=self.chroma_vector,
            fallbacks=fallbacks,
            max_steps=self.chroma_steps,
        )

    def _embed_chunk_v2(self, chunk: np.ndarray, signs_b: np.ndarray, out: np.ndarray) -> None:
        pattern = self._patterns[2]
        bits, signs = pattern.plane_blocks
        # 1. Measure each bit's projection (working plane, high-passed). The detector
        #    averages frames, so what matters is the chunk's mean projection; four frames
        #    estimate it well enough and keep embedding cheap.
        sample = chunk[:: max(1, len(chunk) // 4)]
        proj = pattern.project(_highpass(_plane_luma(sample), V2.highpass).mean(axis=0))
        # 2. Add only what each bit needs to reach the margin (informed embedding)
        need = (self.strength - self.cancel * signs_b * proj) / pattern.gain
        amp = signs_b * np.clip(need, self.floor * self.strength, self.cap * self.strength)
        # 3. Keep inside the distortion budget (RGB PSNR >= min_psnr)
        max_rms = 255.0 / 10 ** (self.min_psnr / 20)
        rms = float(np.sqrt((amp**2 * pattern.norms).sum() / PLANE**2)) / _LUMA_GAIN
        amp = amp * min(1.0, max_rms / max(rms, 1e-6))
        # 4. Draw the residual on the plane, upsample it onto the frames
        residual = _expand(amp[bits] * signs)
        _add_residual(chunk, residual, out)

    # ---- detect ----------------------------------------------------------------------------

    def detect(
        self,
        frames: np.ndarray,
        *,
        search: bool = True,
        known: Callable[[bytes], bool] | None = None,
    ) -> Detection:
        """Read the payload from (T, H, W, 3) uint8 frames (any size, cropped, re-encoded).

        Tries dither modulation (v4, and v5 on textured footage), v5's chroma mark, then v3,
        then v2 (which also reads v1). ``search`` also tries crops (the
        input covering 78-100 % of the original per axis); an uncropped input is read first
        and the search only runs when that fails. ``known`` (payload -> registered?) lets a
        registry confirm decodes that needed up to CONFIRMED_FIXES corrections instead of
        MAX_SYMBOL_FIXES.
        """
        _check_frames(frames)
        lumas = _ClipPlanes.of(frames, _luma)
        tried: list[Detection] = []
        values, shifts = self._qim.align(lumas.whole, 1.0, 1.0, step=self._qim.step)
        for step in self._qim.steps:
            tried.append(self._qim.decode(values, shifts, step, (1.0, 1.0), known))
            if tried[-1].found:
                return tried[-1]
        chroma = self._patterns[5]
        cbs = _ClipPlanes.of(frames, _cb)
        tried.append(chroma.read(cbs.whole, 1.0, 1.0, known=known))
        if tried[-1].found:
            return tried[-1]
        for scheme in READ_ORDER:
            tried.append(self._patterns[scheme.version].read(lumas.whole, 1.0, 1.0, known=known))
            if tried[-1].found:
                return tried[-1]
        if search:
            size = (frames.shape[2], frames.shape[1])
            searches: list[Callable[[threading.Event], list[Detection]]] = [
                lambda stop: self._qim.search(lumas, known, size, stop),
                lambda stop: chroma.search(cbs, known, stop),
                *(
                    lambda stop, p=self._patterns[s.version]: p.search(lumas, known, stop)
                    for s in READ_ORDER
                ),
            ]
            tried += _first_found(searches)
            if tried[-1].found:
                return tried[-1]
        # nothing decoded: report the uncropped reading of the spread-spectrum mark this
        # marker writes on flat footage (v5's chroma, else v3) for its bits, with the
        # strongest synchronisation score seen
        flat = tried[len(self._qim.steps) + (0 if self.version >= 5 else 1)]
        return replace(flat, score=max(d.score for d in tried))


SEARCH_THREADS = 2
"""Crop searches run at once. numpy and OpenCV release the GIL, so a free second core shortens
an unmarked clip's wait, where every search runs to its end; on the shared 2 cores at load
3.4-3.8 paired cold verifies showed no difference either way (no core was free)."""


def _first_found(
    searches: list[Callable[[threading.Event], list[Detection]]],
) -> list[Detection]:
    """Run the searches SEARCH_THREADS at a time; their readings in the order given, up to the
    first search that found the mark, as if they had run one after another (the later ones
    stop at their next hypothesis)."""
    stop = threading.Event()
    tried: list[Detection] = []
    with ThreadPoolExecutor(max_workers=SEARCH_THREADS) as pool:
        futures = [pool.submit(search, stop) for search in searches]
        try:
            for future in futures:
                tried += future.result()
                if tried and tried[-1].found:
                    break
        finally:
            stop.set()
            for future in futures:
                future.cancel()
    return tried


def _combine(per_frame: np.ndarray, rounds: int = 3, *, seed: int | None = None) -> np.ndarray:
    """Maximal-ratio combining of (T, N_BITS) soft bits: each frame is weighted by its
    agreement with the tentative decision over its spread (signal / noise**2). The first
    tentative decision weighs all frames equally, or only frame ``seed``."""
    weights = np.ones(len(per_frame))
    if seed is not None:
        weights = np.zeros(len(per_frame))
        weights[seed] = 1.0
    for _ in range(rounds):
        tentative = np.sign(weights @ per_frame)
        aligned = per_frame * tentative
        signal = aligned.mean(axis=1)
        noise = aligned.std(axis=1) + 1e-9
        weights = np.maximum(signal, 0.0) / noise**2
        if not weights.any():
            weights = np.ones(len(per_frame))
    return np.asarray(weights @ per_frame)


FINE_READS = 3
"""Crop search: of the 3x3 fine grid around each of the two best coarse scales, the scales read
in full, best ranked first (the others are only ranked: sync energy of the mean frame, or v4's
fit on its probe frames, ~10x cheaper than a read). On 28 cropped copies of the embedded
model's clips (80-97 % per axis, one after a 50 % downscale) it finds the same 25 payloads as
reading all nine did, at scales nearer the true crop (80 x 80 % read at 0.800 x 0.800, before
at 0.785 x 0.785)."""
_COARSE = np.round(np.arange(0.80, 1.0001, 0.04), 3).tolist()
_FINE = (-0.015, 0.0, 0.015)


def encode_bits(payload: bytes) -> np.ndarray:
    """The N_BITS coded bits (0/1) of a 6-byte payload."""
    if len(payload) != DATA_BYTES:
        raise ValueError(f"payload must be {DATA_BYTES} bytes (got {len(payload)})")
    return np.unpackbits(np.frombuffer(bytes(_RS.encode(payload)), dtype=np.uint8))


def _payload_signs(payload: bytes) -> np.ndarray:
    return (encode_bits(payload).astype(np.float32) * 2 - 1).astype(np.float32)


def _decode(soft: np.ndarray, max_fixes: int = MAX_SYMBOL_FIXES) -> tuple[bytes | None, int]:
    """RS-decode soft bits, erasing the least reliable bytes when plain decoding fails.

    Returns the payload (or None) and the symbol fixes used (2 x errors + erasures).
    """
    if np.mean(np.abs(soft) <= 1e-9) > 0.25:
        # no evidence either way (a perfectly flat clip): reading those bits as 0s would
        # decode the all-zero codeword, which is valid
        return None, 0
    hard = np.packbits((soft > 0).astype(np.uint8)).tobytes()
    reliability = np.abs(soft).reshape(-1, 8).min(axis=1)
    order = np.argsort(reliability)
    for n_erased in range(max_fixes + 1):
        erased = sorted(order[:n_erased].tolist())
        try:
            data, _, fixed = _RS.decode(hard, erase_pos=erased or None)
        except ReedSolomonError:
            continue
        errors = len(set(fixed) - set(erased))
        if 2 * errors + n_erased <= max_fixes:
            return bytes(data), 2 * errors + n_erased
    return None, 0


def _agreement(soft: np.ndarray, payload: bytes | None) -> float:
    if payload is None:
        return 0.0
    return float(np.mean((soft > 0).astype(np.uint8) == encode_bits(payload)))


def _check_frames(frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")


def _interp_matrix(n: int) -> np.ndarray:
    """(n * BLOCK, n) map from block values to cells: each block a WINDOW bump. (Bilinear
    patterns spanning neighbouring blocks were tried and lost more to H.264 through cross-talk.)
    """
    cells = np.arange(n * BLOCK)
    m = np.zeros((n * BLOCK, n), np.float32)
    m[cells, cells // BLOCK] = WINDOW[cells % BLOCK]
    return m


def _block_sums(planes: np.ndarray) -> np.ndarray:
    """WINDOW-weighted sum of each block: (..., h, w) -> (..., h // BLOCK, w // BLOCK).

    The same as ``u.T @ plane @ u`` with ``u = _interp_matrix(...)``, without BLAS (whose
    threads cost ~15 ms per product on a busy machine): two einsum passes, one per axis of the
    separable window (10x faster than one weighted sum over both axes)."""
    *lead, h, w = planes.shape
    blocks = planes.reshape(*lead, h // BLOCK, BLOCK, w // BLOCK, BLOCK)
    rows = np.einsum("...iajb,b->...iaj", blocks, WINDOW)
    return np.asarray(np.einsum("...iaj,a->...ij", rows, WINDOW), dtype=np.float32)


def _window_sums(planes: np.ndarray) -> np.ndarray:
    """(T, h, w) -> (T, h - BLOCK + 1, w - BLOCK + 1): at each cell, the WINDOW-weighted sum of
    the block starting there (``_block_sums`` of every grid offset at once)."""
    h, w = planes.shape[1:]
    return np.stack(
        [
            cv2.sepFilter2D(
                p, cv2.CV_32F, WINDOW, WINDOW, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT
            )[: h - BLOCK + 1, : w - BLOCK + 1]
            for p in planes
        ]
    )


def _window_sums_cyclic(tile: np.ndarray) -> np.ndarray:
    """(n, m) -> (n, m): at each cell, the WINDOW-weighted sum of the block starting there,
    wrapping around the edges (a tile repeats)."""
    n, m = tile.shape
    padded = np.pad(tile, ((0, BLOCK - 1), (0, BLOCK - 1)), mode="wrap")
    rows = np.zeros((n + BLOCK - 1, m), np.float32)
    for b in range(BLOCK):
        rows += WINDOW[b] * padded[:, b : b + m]
    out = np.zeros((n, m), np.float32)
    for a in range(BLOCK):
        out += WINDOW[a] * rows[a : a + n]
    return out


def _expand(values: np.ndarray) -> np.ndarray:
    """(n, m) block values -> (n * BLOCK, m * BLOCK) cells (``u @ values @ u.T``)."""
    return np.kron(values, _WINDOW_2D).astype(np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def _cb(rgb: np.ndarray) -> np.ndarray:
    """BT.601 Cb (without its +128 offset) of uint8 RGB, float32."""
    return np.asarray(rgb.astype(np.float32) @ _CB, dtype=np.float32)


def _plane_rgb(frames: np.ndarray) -> np.ndarray:
    """(T, PLANE, PLANE, 3) uint8 frames on the working plane."""
    return np.stack([cv2.resize(f, (PLANE, PLANE), interpolation=cv2.INTER_AREA) for f in frames])


def _plane_luma(frames: np.ndarray) -> np.ndarray:
    """(T, PLANE, PLANE) float32 luma of each frame on the working plane."""
    return np.stack(
        [_luma(cv2.resize(f, (PLANE, PLANE), interpolation=cv2.INTER_AREA)) for f in frames]
    )


def _highpass(planes: np.ndarray, box: int) -> np.ndarray:
    """Remove the local mean (box ``box`` cells) from each (T, h, w) plane."""
    out = np.empty_like(planes, dtype=np.float32)
    for t, p in enumerate(planes):
        p = p.astype(np.float32)
        out[t] = p - cv2.blur(p, (box, box), borderType=cv2.BORDER_REFLECT)
    return out


def _clip_robust(planes: np.ndarray, k: float) -> np.ndarray:
    """(T, h, w) planes each clipped, in place, at ``k`` robust standard deviations (1.4826 x
    the median absolute value, over every other cell; a floor of 0.05 keeps a flat plane's
    signs); ``k`` 0: unchanged."""
    if not k:
        return planes
    for p in planes:
        limit = k * (1.4826 * float(np.median(np.abs(p[::2, ::2]))) + 0.05)
        np.clip(p, -limit, limit, out=p)
    return planes


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


_WINDOW_2D = np.outer(WINDOW, WINDOW)
_WSUM = float((_WINDOW_2D**2).sum())
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_CB = np.array([-0.168736, -0.331264, 0.5], np.float32)
_RGB_STEP = _LUMA / float((_LUMA**2).sum())
"""The smallest RGB change (least squares) that moves luma by 1: most of it in green."""
_LUMA_GAIN = float(np.sqrt(3 * (_LUMA**2).sum()))
"""RMS RGB change per unit of luma change along ``_RGB_STEP``, relative to R=G=B (=1)."""


def _add_residual(frames: np.ndarray, residual: np.ndarray, out: np.ndarray) -> None:
    """Upsample the (PLANE, PLANE) luma residual to the frame size; add it along _RGB_STEP.

    The same residual goes on every frame of the chunk, so the rounded RGB delta is made once
    and applied with saturating uint8 adds (two vectorised passes per frame; ``out`` may be
    ``frames``).
    """
    h, w = frames.shape[1:3]
    up = cv2.resize(residual, (w, h), interpolation=cv2.INTER_LINEAR)
    # rint(|part| * _RGB_STEP) saturated to uint8, built per channel with OpenCV (numpy's
    # float (H, W, 3) temporaries took 25x longer)
    pos, neg = np.maximum(up, 0.0), np.minimum(up, 0.0)
    plus = cv2.merge([cv2.convertScaleAbs(pos, alpha=float(s)) for s in _RGB_STEP])
    minus = cv2.merge([cv2.convertScaleAbs(neg, alpha=float(s)) for s in _RGB_STEP])
    for frame, dst in zip(frames, out, strict=True):
        cv2.add(frame, plus, dst=dst)
        cv2.subtract(dst, minus, dst=dst)


_HD_PIXELS = 1280 * 720
_WINDOW_PLANE = np.tile(_WINDOW_2D, (PLANE // BLOCK, PLANE // BLOCK)).astype(np.float32)
"""Every block's WINDOW bump over the whole plane (``_expand`` of ones)."""


def _activity_weight(sample: np.ndarray, flat: float) -> np.ndarray:
    """(PLANE, PLANE) perceptual weight in [flat, 1] from (k, PLANE, PLANE) sample lumas.

    Activity is local contrast (standard deviation over 3x3 cells, about 15x8 px at
    1280x720) in EVERY sample frame: a mark hides in texture and edges and shows on flat
    areas (contrast masking). The mark stays put for the whole chunk, so neither contrast in
    one frame nor motion hides it: the path of a shape moving over a flat backdrop is flat
    backdrop in most frames (weighting it as busy drew a visible trail of blocks there)."""
    low, high = ACTIVITY
    contrast = np.full(sample.shape[1:], np.inf, np.float32)
    for plane in sample:
        mean = cv2.blur(plane, (3, 3))
        var = cv2.blur(plane * plane, (3, 3)) - mean * mean
        np.minimum(contrast, np.sqrt(np.maximum(var, 0.0)), out=contrast)
    active = np.clip((contrast - low) / (high - low), 0.0, 1.0)
    # widen and soften the textured areas a little, so the weight has no edges of its own
    active = cv2.blur(cv2.dilate(active, np.ones((3, 3), np.uint8)), (5, 5))
    return (flat + (1.0 - flat) * active).astype(np.float32)


def _budget_scale(residual: np.ndarray, max_rms: float) -> float:
    """Factor that keeps the residual's RMS, as rounded to whole levels, within ``max_rms``."""
    scale = min(1.0, max_rms / max(float(np.sqrt(np.mean(residual**2))), 1e-6))
    for _ in range(3):  # rounding moves the RMS a little either way
        rounded = float(np.sqrt(np.mean(np.rint(residual * scale) ** 2)))
        if rounded <= max_rms:
            break
        scale *= max_rms / rounded
    return scale


def _add_gray(frames: np.ndarray, residual: np.ndarray, out: np.ndarray) -> None:
    """Upsample the (PLANE, PLANE) luma residual to the frame size and add it to R, G and B
    alike (a pure luma change), rounded, with saturating uint8 adds; ``out`` may be
    ``frames``."""
    h, w = frames.shape[1:3]
    up = cv2.resize(residual, (w, h), interpolation=cv2.INTER_LINEAR)
    plus = cv2.cvtColor(cv2.convertScaleAbs(np.maximum(up, 0.0)), cv2.COLOR_GRAY2RGB)
    minus = cv2.cvtColor(cv2.convertScaleAbs(np.minimum(up, 0.0)), cv2.COLOR_GRAY2RGB)
    for frame, dst in zip(frames, out, strict=True):
        cv2.add(frame, plus, dst=dst)
        cv2.subtract(dst, minus, dst=dst)


def _flat_guard(frame: np.ndarray) -> np.ndarray:
    """(h, w) float32 weight: 0 on and within a few pixels of the frame's flat areas, rising to
    1 where its luma varies by GUARD[1] levels or more (measured at about 1/4 scale, cheap)."""
    h, w = frame.shape[:2]
    return np.asarray(cv2.resize(_guard_small(frame), (w, h), interpolation=cv2.INTER_LINEAR))


def _guard_small(frame: np.ndarray) -> np.ndarray:
    """``_flat_guard`` at the scale it is measured at (the short side about 180 px)."""
    h, w = frame.shape[:2]
    k = max(1, min(h, w) // 180)
    small = cv2.resize(frame, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    y = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    win = max(3, (9 // k) | 1)
    mean = cv2.blur(y, (win, win))
    std = np.sqrt(np.maximum(cv2.blur(y * y, (win, win)) - mean * mean, 0.0))
    low, high = GUARD
    active = np.clip((std - low) / (high - low), 0.0, 1.0).astype(np.float32)
    return np.asarray(cv2.erode(active, np.ones((ERODE, ERODE), np.uint8)))


def _textured_share(chunk: np.ndarray) -> float:
    """Share of the pixels of four frames of the chunk that ``_flat_guard`` marks in full."""
    sample = chunk[:: max(1, len(chunk) // 4)][:4]
    return float(np.mean([(_guard_small(f) >= 1.0).mean() for f in sample]))


def _add_gray_guarded(frames: np.ndarray, residual: np.ndarray, out: np.ndarray) -> None:
    """``_add_gray`` with each frame's residual weighted by its ``_flat_guard``: no change on
    flat pixels (a whole-level step there is new fine texture), per frame because objects
    move. About 5 ms a frame at 1280x720; only busy footage takes this path."""
    h, w = frames.shape[1:3]
    up = cv2.resize(residual, (w, h), interpolation=cv2.INTER_LINEAR)
    mid = np.full((h, w), 128, np.uint8)
    for frame, dst in zip(frames, out, strict=True):
        # delta + 128 rounded into uint8, then split into its positive and negative parts
        shifted = cv2.convertScaleAbs(cv2.multiply(up, _flat_guard(frame)), beta=128.0)
        plus = cv2.cvtColor(cv2.subtract(shifted, mid), cv2.COLOR_GRAY2RGB)
        minus = cv2.cvtColor(cv2.subtract(mid, shifted), cv2.COLOR_GRAY2RGB)
        cv2.add(frame, plus, dst=dst)
        cv2.subtract(dst, minus, dst=dst)


_BAYER = (
    np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32) + 0.5
) / 16
"""4x4 ordered-dither thresholds in (0, 1)."""


def _add_cb(
    frames: np.ndarray,
    residual: np.ndarray,
    out: np.ndarray,
    *,
    dither: bool = True,
    vector: tuple[int, int, int] = CB_VECTOR,
    fallbacks: tuple[tuple[int, int, int], ...] = (),
    max_steps: int = CB_MAX_STEPS,
) -> None:
    """Upsample the (PLANE, PLANE) Cb residual to the frame size, turn it into whole steps along
    ``vector`` (at most ``max_steps``; pixels where it would clip take the first of
    ``fallbacks`` that does not) and add them: Cb moves, luma by at most 0.017 a step.

    With ``dither`` the steps are ordered-dithered (4x4 Bayer), so the mean over every 4x4 px
    follows the smooth residual to 1/16 of a step: the pixel-scale pattern this adds is far
    above blue-yellow acuity (~11 cycles/degree) and 4:2:0 subsampling averages it, while the
    smooth part carries the mark. Without, each pixel takes the nearest whole step (islands of
    a whole step of Cb with sharp edges). Pixels where ``max_steps`` steps along every vector
    would clip (a channel too near 0 or 255) in the chunk's first frame or any 4th frame after
    it are left unchanged, since a clipped step is no longer luma-neutral; ``out`` may be
    ``frames``."""
    h, w = frames.shape[1:3]
    up = cv2.resize(residual, (w, h), interpolation=cv2.INTER_LINEAR)
    offset = _dither_offset(h, w) if dither else np.zeros((h, w), np.float32)
    k = max_steps
    free = np.full((h, w), 255, np.uint8)  # pixels no vector has taken yet
    plus = np.zeros((h, w, 3), np.uint8)
    minus = np.zeros((h, w, 3), np.uint8)
    zero = np.zeros((h, w), np.uint8)
    for i, vec in enumerate((vector, *fallbacks)):
        # pixels of the chunk where a whole ``max_steps`` step either way along ``vec`` would
        # clip (sampled every 4th frame: the chunk's backdrop is what matters)
        reach = tuple(abs(v) * k for v in vec)
        low, high = reach, tuple(255 - r for r in reach)
        safe = cv2.inRange(frames[0], low, high)
        for frame in frames[4::4]:
            cv2.bitwise_and(safe, cv2.inRange(frame, low, high), dst=safe)
        use = cv2.bitwise_and(safe, free)
        if i and not cv2.countNonZero(use):
            continue
        cv2.bitwise_and(free, cv2.bitwise_not(safe), dst=free)
        # steps (float) = up / unit + dither offset in (-0.5, 0.5); its positive and negative
        # parts rounded to whole steps, at most ``max_steps`` (OpenCV: numpy took ~10x longer)
        steps = cv2.scaleAdd(up, 1.0 / float(np.array(vec, np.float32) @ _CB), offset)
        pos = cv2.bitwise_and(np.minimum(cv2.convertScaleAbs(np.maximum(steps, 0.0)), k), use)
        neg = cv2.bitwise_and(np.minimum(cv2.convertScaleAbs(np.minimum(steps, 0.0)), k), use)
        # a positive step adds the vector's positive parts and subtracts its negative parts
        cv2.add(
            plus,
            cv2.merge(
                [pos * np.uint8(v) if v > 0 else neg * np.uint8(-v) if v else zero for v in vec]
            ),
            dst=plus,
        )
        cv2.add(
            minus,
            cv2.merge(
                [pos * np.uint8(-v) if v < 0 else neg * np.uint8(v) if v else zero for v in vec]
            ),
            dst=minus,
        )
    for frame, dst in zip(frames, out, strict=True):
        cv2.add(frame, plus, dst=dst)
        cv2.subtract(dst, minus, dst=dst)


def _cb_visibility(
    sample: np.ndarray,
    vector: tuple[int, int, int],
    fallbacks: tuple[tuple[int, int, int], ...],
) -> np.ndarray:
    """(PLANE, PLANE) float32 CIEDE2000 per Cb level of the chroma step ``_add_cb`` takes at
    each cell of the plane, the most over (k, PLANE, PLANE, 3) uint8 sample frames, measured at
    1/4 scale and widened by a cell there (objects move, edges blur)."""
    vectors = (vector, *fallbacks)
    lut = _cb_visibility_lut(vectors)
    quarter = PLANE // 4
    worst = np.zeros((quarter, quarter), np.float32)
    for frame in sample:
        small = cv2.resize(frame, (quarter, quarter), interpolation=cv2.INTER_AREA)
        which = np.zeros((quarter, quarter), np.intp)
        taken = np.zeros((quarter, quarter), bool)
        for i, vec in enumerate(vectors):  # the first vector with room, as in ``_add_cb``
            reach = tuple(abs(v) * CB_MAX_STEPS for v in vec)
            fits = cv2.inRange(small, reach, tuple(255 - r for r in reach)) > 0
            which[fits & ~taken] = i
            taken |= fits
        idx = small >> 4
        np.maximum(worst, lut[which, idx[..., 0], idx[..., 1], idx[..., 2]], out=worst)
    wide = cv2.dilate(worst, np.ones((3, 3), np.uint8))
    return np.asarray(cv2.resize(wide, (PLANE, PLANE), interpolation=cv2.INTER_LINEAR))


@lru_cache(maxsize=4)
def _cb_visibility_lut(vectors: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """(len(vectors), 16, 16, 16) float32 CIEDE2000 per Cb level of a step along each vector on
    each colour bin (RGB >> 4; the larger of a step up and down at the bin's centre): about 1.0
    on greys, 0.25 on a saturated blue. About 10 ms, once."""
    from mutoscope.provenance.colour import ciede2000, lab

    centre = np.arange(16) * 16 + 7.5
    rgb = np.stack(np.meshgrid(centre, centre, centre, indexing="ij"), -1).reshape(-1, 3)
    base = lab(rgb)
    out = []
    for vec in vectors:
        step = np.array(vec, np.float64) / float(np.array(vec, np.float64) @ _CB)
        up, down = ciede2000(base, lab(rgb + step)), ciede2000(base, lab(rgb - step))
        out.append(np.maximum(np.maximum(up, down), 0.05).reshape(16, 16, 16))
    return np.stack(out).astype(np.float32)


@lru_cache(maxsize=4)
def _dither_offset(h: int, w: int) -> np.ndarray:
    """(h, w) float32 ordered-dither offsets in (-0.5, 0.5): the 4x4 Bayer thresholds tiled."""
    return np.ascontiguousarray(np.tile(_BAYER - 0.5, (-(-h // 4), -(-w // 4)))[:h, :w])
