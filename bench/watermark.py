"""Watermark robustness, invisibility and cost: prints the tables in docs/benchmarks/provenance.md.

    nice python bench/watermark.py                      # 6 clips per footage kind, 96 frames
    nice python bench/watermark.py --clips 2 --frames 48 --job-runs 0  # quick look

Invisibility, per footage kind, for the mark written now (v5) and v4 before it (``--compare``),
against the same clip unmarked: **luma PSNR** (BT.601 luma of the RGB frames) and the **flat-area
fine-texture ratio**: the energy of the luma's fine texture (luma minus its Gaussian blur,
sigma 2 px) summed over the pixels that are flat in the unmarked clip (standard deviation of
the unmarked luma over 9x9 px below 1 level), marked over unmarked (1.0 = nothing added where
the picture is flat). Every 8th frame is measured. v5 writes flat footage's mark in blue-yellow
chroma, which a luma measure does not see, so the same two measures are also printed for
**Cb** (BT.601, 8-bit levels): Cb PSNR, Cr PSNR, and the flat-area fine-texture ratio of Cb on
the same flat pixels (the unmarked clip's Cb is smooth there too, so any added Cb edge counts).
**CIEDE2000 on flat pixels** is the visibility figure for a colour mark: both clips are blurred
in linear light with sigma 2 px (the eye at phone viewing, 720p at ~40-60 px/degree: the
dither goes, the ~40-px blocks stay), converted to CIELAB (D65), and the per-pixel ΔE00 is
summarised as mean and 99th percentile over the flat pixels of every 8th frame; about 1 is a
just-noticeable difference between adjacent patches. ``--kinds backdrops`` adds four still
backdrops (grey 20, 60, 240 and a blue, each with a red disc), one clip each, where a chroma
mark is at its plainest.

Cost: ``--job-runs N`` runs N paired rounds of whole default jobs through the real worker
(``bench/worker.py``: mutoscope-tiny, 4 s at 1280x720, watermark off and on, same seed, rotating
order) and prints the watermark's paired share of the job.

Each clip gets a random 48-bit payload, is watermarked, and is stored the way Mutoscope
stores it (H.264 CRF 20); every attack then starts from that file and ends in a fresh H.264
encode, because a file that travels is always re-encoded. Bit accuracy is the share of the
128 coded bits the detector reads right at the alignment it chose; payload recovery is the
share of clips whose payload decodes exactly (RS(16, 6); up to 6 symbol fixes on their own,
8 when the registry confirms the payload, as verify does). Footage:
``natural`` (1/f colour texture panned like a camera, moving objects), ``shapes`` (flat
backdrops and soft shapes, the look of the embedded model), and the embedded tiny model's own
clips when its weights are installed.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.provenance.colour import ciede2000, lab_of_linear
from mutoscope.provenance.colour import linear as _linear
from mutoscope.provenance.footage import natural_clip, shapes_clip
from mutoscope.provenance.watermark import Watermarker, encode_bits

Attack = Callable[[np.ndarray, Path], np.ndarray]


def reencode(frames: np.ndarray, tmp: Path, crf: int) -> np.ndarray:
    path = tmp / f"attack-{crf}.mp4"
    encode_mp4(frames, path, crf=crf, preset="medium")
    return decode_mp4(path)


def resize(frames: np.ndarray, factor: float) -> np.ndarray:
    h, w = frames.shape[1:3]
    size = (round(w * factor) // 2 * 2, round(h * factor) // 2 * 2)
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def crop(frames: np.ndarray, keep: float, rng: np.random.Generator) -> np.ndarray:
    h, w = frames.shape[1:3]
    ch, cw = round(h * keep), round(w * keep)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return np.ascontiguousarray(frames[:, y : y + ch, x : x + cw])


def brightness(frames: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(frames.astype(np.float32) * factor + 0.5, 0, 255).astype(np.uint8)


def excerpt(frames: np.ndarray, seconds: float = 1.0, fps: float = 24.0) -> np.ndarray:
    n = min(len(frames), round(seconds * fps))
    start = (len(frames) - n) // 2
    return frames[start : start + n]


def attacks(rng: np.random.Generator) -> dict[str, Attack]:
    return {
        "H.264 CRF 23": lambda f, t: reencode(f, t, 23),
        "H.264 CRF 28": lambda f, t: reencode(f, t, 28),
        "H.264 CRF 35": lambda f, t: reencode(f, t, 35),
        "50 % downscale, CRF 23": lambda f, t: reencode(resize(f, 0.5), t, 23),
        "50 % downscale, CRF 28 (target)": lambda f, t: reencode(resize(f, 0.5), t, 28),
        "10 % crop, CRF 23": lambda f, t: reencode(crop(f, 0.9, rng), t, 23),
        "brightness +20 %, CRF 23": lambda f, t: reencode(brightness(f, 1.2), t, 23),
        "brightness -20 %, CRF 23": lambda f, t: reencode(brightness(f, 0.8), t, 23),
        "1-s excerpt, CRF 23": lambda f, t: reencode(excerpt(f), t, 23),
    }


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255**2 / mse) if mse else float("inf")


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
FLAT_STD = 1.0
"""A pixel is flat when the unmarked luma's standard deviation over 9x9 px is below this."""
FINE_SIGMA = 2.0
"""Fine texture: luma minus its Gaussian blur with this sigma (px)."""


def luma(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ _LUMA


def luma_psnr(marked: np.ndarray, clean: np.ndarray) -> float:
    mse = float(np.mean((luma(marked) - luma(clean)) ** 2))
    return 10 * np.log10(255**2 / mse) if mse else float("inf")


def flat_texture(marked: np.ndarray, clean: np.ndarray, every: int = 8) -> tuple[float, float]:
    """(fine-texture energy ratio marked / unmarked over flat pixels, share of flat pixels)."""
    num = den = 0.0
    flat_px = total = 0
    for t in range(0, len(clean), every):
        yc, ym = luma(clean[t]), luma(marked[t])
        mean = cv2.blur(yc, (9, 9))
        std = np.sqrt(np.maximum(cv2.blur(yc * yc, (9, 9)) - mean * mean, 0.0))
        flat = std < FLAT_STD
        fine_c = yc - cv2.GaussianBlur(yc, (0, 0), FINE_SIGMA)
        fine_m = ym - cv2.GaussianBlur(ym, (0, 0), FINE_SIGMA)
        num += float((fine_m[flat] ** 2).sum())
        den += float((fine_c[flat] ** 2).sum())
        flat_px, total = flat_px + int(flat.sum()), total + flat.size
    return (num / den if den else float("nan")), flat_px / total


_CB = np.array([-0.168736, -0.331264, 0.5], np.float32)
_CR = np.array([0.5, -0.418688, -0.081312], np.float32)


_Y709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
"""Rec. 709 / sRGB luminance weights: what a display's primaries make of an RGB change (BT.601
luma, the targets' measure, weighs blue and red more; v5's chroma step is neutral in BT.601 luma
but not quite in these)."""


def chroma_looks(marked: np.ndarray, clean: np.ndarray, every: int = 8) -> tuple[float, ...]:
    """(Cb PSNR, Cr PSNR, Cb flat-area fine-texture ratio, added Cb RMS on flat pixels, mean
    |luma change| on flat pixels, Rec. 709-weighted luma PSNR) of every ``every``-th frame;
    flat as in ``flat_texture``."""
    m, c = marked[::every].astype(np.float32), clean[::every].astype(np.float32)
    out = []
    for axis in (_CB, _CR):
        mse = float(np.mean(((m - c) @ axis) ** 2))
        out.append(10 * np.log10(255**2 / mse) if mse else float("inf"))
    num = den = added = dluma = 0.0
    count = 0
    for fm, fc in zip(m, c, strict=True):
        yc = fc @ _LUMA
        mean = cv2.blur(yc, (9, 9))
        flat = np.sqrt(np.maximum(cv2.blur(yc * yc, (9, 9)) - mean * mean, 0.0)) < FLAT_STD
        bc, bm = fc @ _CB, fm @ _CB
        fine_c = bc - cv2.GaussianBlur(bc, (0, 0), FINE_SIGMA)
        fine_m = bm - cv2.GaussianBlur(bm, (0, 0), FINE_SIGMA)
        num += float((fine_m[flat] ** 2).sum())
        den += float((fine_c[flat] ** 2).sum())
        added += float(((bm - bc)[flat] ** 2).sum())
        dluma += float(np.abs(fm @ _LUMA - yc)[flat].sum())
        count += int(flat.sum())
    ratio = num / den if den else float("nan")
    mse709 = float(np.mean(((m - c) @ _Y709) ** 2))
    psnr709 = 10 * np.log10(255**2 / mse709) if mse709 else float("inf")
    return (*out, ratio, (added / max(count, 1)) ** 0.5, dluma / max(count, 1), psnr709)


_SRGB_TO_LMS = np.array(
    [[0.3139, 0.6395, 0.0466], [0.1554, 0.7579, 0.0867], [0.0178, 0.1094, 0.8728]], np.float64
)
"""Linear sRGB to L, M, S cone excitation (a common Smith-Pokorny-based matrix)."""


def cone_contrast(marked: np.ndarray, clean: np.ndarray, sigma: float = 4.0) -> tuple[float, float]:
    """(display luminance contrast, S-cone contrast), 99th percentile over the first frame, in %.

    Both images go to linear light (sRGB), are blurred with ``sigma`` px (what remains is the
    part of the change below ~5 cycles/degree at 40-100 px/degree, where blue-yellow and
    luminance vision are most sensitive; the pixel-scale dither is gone), and the change is
    divided by the unmarked value: Rec. 709 luminance, and S-cone excitation."""
    lin_m, lin_c = (
        np.stack([cv2.GaussianBlur(_linear(f[..., k]), (0, 0), sigma) for k in range(3)], -1)
        for f in (marked[0], clean[0])
    )
    y709 = np.array([0.2126, 0.7152, 0.0722])
    lum = np.abs((lin_m - lin_c) @ y709) / np.maximum(lin_c @ y709, 1e-4)
    s_m, s_c = lin_m @ _SRGB_TO_LMS[2], lin_c @ _SRGB_TO_LMS[2]
    s_cone = np.abs(s_m - s_c) / np.maximum(s_c, 1e-4)
    return float(np.percentile(lum, 99) * 100), float(np.percentile(s_cone, 99) * 100)


EYE_SIGMA = 2.0
"""Blur (px) standing in for the eye before the colour difference: at 720p on a phone held at
30-40 cm (~40-60 px/degree) it removes detail above ~5-8 cycles/degree (the dither) and keeps
the mark's ~40-px blocks."""


def _lab(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """CIELAB (D65) of an (H, W, 3) uint8 sRGB image blurred with ``sigma`` px in linear light."""
    lin = _linear(rgb)
    return lab_of_linear(
        np.stack([cv2.GaussianBlur(lin[..., k], (0, 0), sigma) for k in range(3)], -1)
    )


def delta_e(
    marked: np.ndarray, clean: np.ndarray, every: int = 8, sigma: float = EYE_SIGMA
) -> tuple[float, float]:
    """(mean, 99th percentile) CIEDE2000 between unmarked and marked every ``every``-th frame,
    both blurred with ``sigma`` px in linear light (the eye at phone viewing), over the pixels
    flat in the unmarked clip (as in ``flat_texture``). About 1 is a just-noticeable difference
    between adjacent patches."""
    values = []
    for t in range(0, len(clean), every):
        yc = luma(clean[t])
        mean = cv2.blur(yc, (9, 9))
        flat = np.sqrt(np.maximum(cv2.blur(yc * yc, (9, 9)) - mean * mean, 0.0)) < FLAT_STD
        de = ciede2000(_lab(clean[t], sigma), _lab(marked[t], sigma))
        values.append(de[flat])
    flat_de = np.concatenate(values)
    if not flat_de.size:
        return float("nan"), float("nan")
    return float(flat_de.mean()), float(np.percentile(flat_de, 99))


BACKDROPS = {
    "backdrop grey 20": (20, 20, 20),
    "backdrop grey 60": (60, 60, 60),
    "backdrop grey 240": (240, 240, 240),
    "backdrop blue": (30, 60, 160),
}
"""Flat backdrops with a still red disc: the embedded model's look at its plainest."""


def backdrop_clip(frames: int, height: int, width: int, colour: tuple[int, int, int]) -> np.ndarray:
    clip = np.empty((frames, height, width, 3), np.uint8)
    clip[:] = colour
    cx, cy, r = round(width * 0.23), height // 2, round(height / 9)
    cv2.circle(clip[0], (cx, cy), r, (200, 30, 30), -1)
    clip[1:] = clip[0]
    return clip


def tiny_clips(n: int, frames: int, size: str) -> tuple[list[np.ndarray], list[float]] | None:
    """Clips from the embedded model with their generation times, or None without weights."""
    try:
        from mutoscope.backends.base import GenerationRequest
        from mutoscope.backends.tiny import TinyBackend
        from mutoscope.models.tiny.pipeline import WEIGHTS
    except ImportError:
        return None
    if not WEIGHTS.exists():
        return None
    backend = TinyBackend()
    prompts = [
        "a red ball bounces across a blue room",
        "two green squares drift at sunset",
        "a yellow triangle spins over a dark gradient",
        "a purple circle rolls left",
    ]
    clips, times = [], []
    for i in range(n):
        request = GenerationRequest(
            prompt=prompts[i % len(prompts)],
            size=size,
            seconds=str(max(4, round(frames / 24))),
            seed=i,
        )
        start = time.perf_counter()
        out = backend.generate(request, lambda *a, **k: None)
        times.append(time.perf_counter() - start)
        clips.append(out.frames[:frames])
    return clips, times


def tiny_cost(frames: int, size: str, marker: Watermarker) -> tuple[float, float, str]:
    """(generation s, embed s, how) for one clip of the embedded model at ``size``.

    Uses the shipped weights when installed; otherwise the same architecture with random
    weights, which costs the same compute (the output is noise, only the time is used).
    """
    from mutoscope.models.tiny.modeling import DenoiserConfig, FrameAutoencoder, TinyDenoiser
    from mutoscope.models.tiny.pipeline import WEIGHTS, TinyPipeline
    from mutoscope.models.tiny.text import MiniLMTextEncoder

    if WEIGHTS.exists():
        pipeline, how = TinyPipeline.from_file(WEIGHTS), "shipped weights"
    else:
        how = "random weights, default DenoiserConfig: timing only"
        pipeline = TinyPipeline(
            FrameAutoencoder(), TinyDenoiser(DenoiserConfig()), MiniLMTextEncoder()
        )
    width, height = (int(v) for v in size.split("x"))
    pipeline("warm up", num_frames=4, width=64, height=64)
    gen, emb = [], []
    for seed in range(2):
        start = time.perf_counter()
        out = pipeline("a red ball", seed=seed, num_frames=frames, width=width, height=height)
        gen.append(time.perf_counter() - start)
        start = time.perf_counter()
        marker.embed(out.frames, secrets.token_bytes(6))
        emb.append(time.perf_counter() - start)
    return float(np.median(gen)), float(np.median(emb)), how


def run(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    width, height = (int(v) for v in args.size.split("x"))
    marker = Watermarker(**json.loads(args.marker))
    wanted = set(args.kinds.split(","))
    footage: dict[str, list[np.ndarray]] = {}
    if "natural" in wanted:
        footage["natural"] = [
            natural_clip(args.frames, height, width, seed=100 + i, pan=args.pan)
            for i in range(args.clips)
        ]
    if "shapes" in wanted:
        footage["shapes"] = [
            shapes_clip(args.frames, height, width, seed=200 + i) for i in range(args.clips)
        ]
    if "backdrops" in wanted:
        for name, colour in BACKDROPS.items():
            footage[name] = [backdrop_clip(args.frames, height, width, colour)]
    tiny = tiny_clips(args.clips, args.frames, args.size) if "tiny" in wanted else None
    if tiny is None and "tiny" in wanted:
        print(
            "tiny model weights not installed (src/mutoscope/models/tiny/weights/): "
            "no model clips, no generation-time ratio"
        )
    elif tiny is not None:
        footage["tiny model"] = tiny[0]
    table: dict[str, dict[str, list[tuple[float, bool]]]] = {}
    looks: dict[tuple[int, str, str], list[tuple[float, ...]]] = {}
    # the mark under test is labelled apart from a --compare of its own version (defaults)
    tried = " (--marker)" if json.loads(args.marker) else ""
    old = {v: Watermarker(version=v) for v in args.compare}
    embed_s: list[float] = []
    detect_s: list[float] = []
    false_decodes = 0
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for kind, clips in footage.items():
            for clip in clips:
                payload = secrets.token_bytes(6)
                truth = encode_bits(payload)
                start = time.perf_counter()
                marked = marker.embed(clip, payload)
                embed_s.append(time.perf_counter() - start)
                for version, other in [(marker.version, marker), *old.items()]:
                    seen = marked if other is marker else other.embed(clip, payload)
                    label = tried if other is marker else ""
                    looks.setdefault((version, label, kind), []).append(
                        (
                            luma_psnr(seen, clip),
                            psnr(seen, clip),
                            *flat_texture(seen, clip),
                            *chroma_looks(seen, clip),
                            *cone_contrast(seen, clip),
                            *delta_e(seen, clip),
                        )
                    )
                stored = reencode(marked, tmp, 20)  # how Mutoscope stores it
                clean_found = marker.detect(reencode(clip, tmp, 23)).found
                false_decodes += int(clean_found)
                for name, attack in attacks(rng).items():
                    if args.attacks and not any(a in name for a in args.attacks.split(",")):
                        continue
                    attacked = attack(stored, tmp)
                    start = time.perf_counter()
                    # as verify does: the registry (here: this clip's payload) may confirm
                    found = marker.detect(attacked, known=payload.__eq__)
                    detect_s.append(time.perf_counter() - start)
                    acc = float(np.mean(found.bits == truth)) if found.bits is not None else 0.0
                    ok = found.payload == payload
                    table.setdefault(name, {}).setdefault(kind, []).append((acc, ok))
                print(f"  {kind} clip done ({len(table)} attacks)", flush=True)

    kinds = list(footage)
    n = args.clips
    print(
        f"\nWatermark robustness: {args.frames} frames at {args.size}, {n} clips per kind, "
        "each stored at CRF 20 first\n"
    )
    head = " | ".join(f"{k}: bits / payload" for k in kinds)
    print(f"| attack | {head} |")
    print("|---|" + "---|" * len(kinds))
    for name, per_kind in table.items():
        cells = []
        for k in kinds:
            rows = per_kind.get(k, [])
            bits = 100 * np.mean([a for a, _ in rows])
            rec = 100 * np.mean([o for _, o in rows])
            cells.append(f"{bits:.1f} % / {rec:.0f} %")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(
        "\nInvisibility against the same clip unmarked (mean over clips; min / max where a "
        "target applies)\n"
    )
    print(
        "| mark | footage | luma PSNR mean / min | RGB PSNR | flat-area fine texture (luma) "
        "| flat px | Cb PSNR mean / min | Cr PSNR | flat-area fine texture (Cb) "
        "| Cb RMS added, flat px | mean abs luma change, flat px | Rec. 709 luma PSNR "
        "| luminance / S-cone contrast p99, sigma 4 px, max over clips "
        f"| flat-px CIEDE2000 mean / p99, sigma {EYE_SIGMA:g} px (max p99) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = sorted(looks.items(), key=lambda r: (-r[0][0], r[0][1] == "", kinds.index(r[0][2])))
    for (version, label, k), rows in order:
        lp, rp, ratio, share, cb, cr, cb_ratio, cb_rms, dl, y709, lum_c, s_c, de_m, de_p = (
            np.array(col) for col in zip(*rows, strict=True)
        )
        print(
            f"| v{version}{label} | {k} | {lp.mean():.2f} / {lp.min():.2f} dB | {rp.mean():.2f} dB "
            f"| {np.nanmean(ratio):.2f}x (max {np.nanmax(ratio):.2f}x) "
            f"| {100 * share.mean():.0f} % | {cb.mean():.2f} / {cb.min():.2f} dB "
            f"| {cr.mean():.2f} dB | {np.nanmean(cb_ratio):.1f}x (max {np.nanmax(cb_ratio):.1f}x) "
            f"| {cb_rms.mean():.2f} | {dl.mean():.3f} | {y709.mean():.2f} dB "
            f"| {lum_c.max():.1f} % / {s_c.max():.1f} % "
            f"| {np.nanmean(de_m):.2f} / {np.nanmean(de_p):.2f} (max {np.nanmax(de_p):.2f}) |"
        )
    print()
    total = sum(len(c) for c in footage.values())
    print(f"false payloads on unmarked clips (CRF 23): {false_decodes} of {total}")
    per_frame_ms = 1000 * np.mean(embed_s) / args.frames
    print(
        f"embed: {np.mean(embed_s):.2f} s per {args.frames}-frame clip at {args.size} "
        f"({per_frame_ms:.1f} ms/frame); detect: median {np.median(detect_s):.2f} s"
    )
    if args.job_runs:
        from worker import measure  # bench/worker.py: whole jobs through the real worker

        shares = measure(
            argparse.Namespace(runs=args.job_runs, size="1280x720", seconds="4", against=None)
        )
        print(
            f"watermark share of a default job (paired, {args.job_runs} rounds): wall "
            f"{shares['wall']:+.1f} %, CPU {shares['cpu']:+.1f} %, step + encode change "
            f"{shares['steps']:+.1f} % (target <= 10 %)"
        )
    for size in filter(None, args.cost.split(",")):
        gen, emb, how = tiny_cost(args.frames, size, marker)
        print(
            f"tiny model at {size}, {args.frames} frames ({how}): generation {gen:.2f} s, "
            f"watermark {emb:.2f} s = +{100 * emb / gen:.1f} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6, help="clips per footage kind")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--pan", type=int, default=400, help="camera pan (px) over the clip")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cost", default="1280x720,1792x1024", help="sizes to time the tiny model at ('' = skip)"
    )
    parser.add_argument("--kinds", default="natural,shapes,tiny", help="footage kinds to run")
    parser.add_argument(
        "--compare",
        type=lambda v: [int(x) for x in v.split(",") if x],
        default=[4],
        help="older mark versions to measure invisibility for, beside v5 ('' = none)",
    )
    parser.add_argument(
        "--attacks", default="", help="run only attacks whose name contains one of these (a,b)"
    )
    parser.add_argument(
        "--job-runs", type=int, default=7, help="paired default-job rounds for the cost (0 = skip)"
    )
    parser.add_argument(
        "--marker",
        default="{}",
        help="Watermarker settings to try, as JSON (e.g. '{\"texture_relax\": 0}')",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
