"""Prompt screening benchmark: recall, false-block rate and latency, then at 10,000 entities.

    python bench/rights_prompts.py [--prompts bench/data/rights_prompts.jsonl]
        [--registry bench/data/rights_registry.yaml] [--scale 10000] [--passes 1]

A prompt labelled ``block`` counts as caught when it is blocked for the right entity; an
``allow`` prompt that is blocked is a false block. Latency is per prompt, end to end through
``RightsService.check_prompt`` (audit write excluded), single-threaded, after warm-up
(which encodes every description with the full model, as a server's start-up does). The
load average is printed with every figure: on a shared machine the tail moves with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from mutoscope.config import Settings
from mutoscope.rights.lexical import is_everyday, known_words
from mutoscope.rights.registry import EntitySpec, load_registry
from mutoscope.rights.service import RightsService
from mutoscope.storage.db import make_engine, session_factory, upgrade

HERE = Path(__file__).parent
KINDS = ("comic", "film", "game", "show", "novel", "anime")
WORDS = [
    "red",
    "blue",
    "green",
    "tiny",
    "giant",
    "robot",
    "dragon",
    "wizard",
    "knight",
    "pirate",
    "cat",
    "dog",
    "fox",
    "owl",
    "bear",
    "ninja",
    "queen",
    "king",
    "space",
    "ocean",
    "forest",
    "desert",
    "ice",
    "fire",
    "metal",
    "crystal",
    "shadow",
    "golden",
    "silver",
    "ancient",
    "cyber",
    "magic",
    "dancing",
    "flying",
    "singing",
    "brave",
    "sleepy",
    "clumsy",
]


def _pseudo(rnd: random.Random, syllables: tuple[int, int] = (2, 4)) -> str:
    n = rnd.randint(*syllables)
    return "".join(rnd.choice("bcdfghklmnprstvz") + rnd.choice("aeiou") for _ in range(n))


def synthetic(n: int, seed: int = 0) -> list[EntitySpec]:
    """Made-up entities: pronounceable names, descriptions of invented things.

    Descriptions mix invented words with a few everyday ones, like real descriptions of
    distinct characters; a description made only of everyday words would "describe" any
    innocent prompt and measure the synthetic data, not the screener.
    """
    rnd = random.Random(seed)
    known = known_words()
    out = []
    for i in range(n):
        name = " ".join(_pseudo(rnd).title() for _ in range(rnd.randint(1, 2)))
        while any(is_everyday(w.lower(), known) for w in name.split()):
            # Real registries name things distinctively; "Like" or "Ripe" would not be
            # registered as a character name, and would only measure the generator.
            name = " ".join(_pseudo(rnd).title() for _ in range(rnd.randint(1, 2)))
        desc = (
            f"A {rnd.choice(WORDS)} {_pseudo(rnd)} {_pseudo(rnd)} with {_pseudo(rnd)} "
            f"{rnd.choice(WORDS)} {_pseudo(rnd)} from the {_pseudo(rnd)} {rnd.choice(KINDS)}"
        )
        out.append(
            EntitySpec(
                id=f"synthetic-{i}",
                name=name,
                kind="character",
                owner="Synthetic Co",
                aliases=[name.replace(" ", "")],
                description=desc,
                policy="block",
            )
        )
    return out


def service(home: Path, specs: list[EntitySpec]) -> RightsService:
    settings = Settings(home=home)
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    svc = RightsService(settings, session_factory(engine), encoder_threads=1)
    svc.import_specs(specs)
    return svc


def run(svc: RightsService, rows: list[dict], label: str, passes: int = 1) -> None:
    t0 = time.perf_counter()
    svc.warm_up()
    svc.check_prompt("warm up", record=False)
    for r in rows[:5]:
        svc.check_prompt(r["prompt"], record=False)
    build = time.perf_counter() - t0
    lat, caught, missed, false_blocks = [], Counter(), [], []
    per_class = Counter()
    screener = svc.screener()
    full_lat, fast_lat, cpu, full_cpu, fast_cpu = [], [], [], [], []
    for r in rows:
        calls = screener.full_calls
        t, c = time.perf_counter(), time.thread_time()
        d = svc.check_prompt(r["prompt"], user_id=r.get("user", "bench-user"), record=False)
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        (full_lat if screener.full_calls > calls else fast_lat).append(lat[-1])
        (full_cpu if screener.full_calls > calls else fast_cpu).append(cpu[-1])
        blocked = d.decision == "block"
        if r["label"] == "block":
            per_class[r["class"]] += 1
            if blocked and (r["entity"] is None or (d.entity or {}).get("id") == r["entity"]):
                caught[r["class"]] += 1
            else:
                missed.append(r)
        elif blocked:
            false_blocks.append((r, d.reason))
    pos = sum(per_class.values())
    neg = len(rows) - pos
    print(
        f"\n== {label}: {len(svc.list_entities())} entities, {len(rows)} prompts "
        f"({pos} to block, {neg} innocent)"
    )
    print(f"load average (1/5/15 min) at the end: {_load()}")
    print(f"index build + MiniLM load (start-up): {build:.1f} s")
    print(f"recall: {sum(caught.values()) / pos:.1%} ({sum(caught.values())}/{pos})")
    print(f"false blocks: {len(false_blocks) / neg:.1%} ({len(false_blocks)}/{neg})")
    print(f"latency per prompt: {_stats(lat)}")
    # CPU time of the screening thread: wall time minus the time other processes held the
    # cores, i.e. what a prompt costs on an idle core (cache misses from sharing remain).
    print(f"CPU time per prompt (idle-core estimate): {_stats(cpu)}")
    print(f"  static stages only ({len(fast_lat)} prompts): {_stats(fast_lat)}")
    print(f"    CPU time: {_stats(fast_cpu)}")
    print(
        f"  with the full MiniLM model ({len(full_lat)} prompts, "
        f"{len(full_lat) / len(rows):.1%}): {_stats(full_lat)}"
    )
    print(f"    CPU time: {_stats(full_cpu)}")
    classes = ", ".join(f"{c} {caught[c]}/{n}" for c, n in sorted(per_class.items()))
    print(f"recall by class: {classes}")
    for r in missed:
        print(f"  missed [{r['class']}] {r['prompt'][:90]}")
    for r, reason in false_blocks:
        print(f"  false block: {r['prompt'][:70]} -> {reason[:90]}")
    if passes > 1:
        best_of(svc, rows, lat, cpu, passes)


def best_of(
    svc: RightsService, rows: list[dict], lat: list[float], cpu: list[float], passes: int
) -> None:
    """Run the set ``passes - 1`` more times (recent-text cache emptied) and keep each
    prompt's fastest run: on a shared machine, the closest estimate of an idle one. The
    figures above (one pass) are the primary ones."""
    best_lat, best_cpu = np.asarray(lat), np.asarray(cpu)
    for _ in range(passes - 1):
        svc.encoder._recent.clear()
        for i, r in enumerate(rows):
            t, c = time.perf_counter(), time.thread_time()
            svc.check_prompt(r["prompt"], user_id=r.get("user", "bench-user"), record=False)
            best_lat[i] = min(best_lat[i], (time.perf_counter() - t) * 1000)
            best_cpu[i] = min(best_cpu[i], (time.thread_time() - c) * 1000)
    print(f"each prompt's fastest of {passes} passes (idle-machine estimate; load {_load()}):")
    print(f"  latency: {_stats(list(best_lat))}")
    print(f"  CPU time: {_stats(list(best_cpu))}")


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def full_model_call(svc: RightsService, rows: list[dict], repeats: int = 5) -> None:
    """One full MiniLM call on a 12-word window, alone: the fastest of ``repeats`` tries
    per text approximates an idle core; the median shows this machine's contention."""
    encoder = svc.encoder
    texts = [" ".join(r["prompt"].split()[:12]) for r in rows[:40]]
    best, all_ms = [], []
    for text in texts:
        tries = []
        for _ in range(repeats):
            t = time.perf_counter()
            encoder._encode(text)  # bypass the cache of recent texts
            tries.append((time.perf_counter() - t) * 1000)
        best.append(min(tries))
        all_ms.extend(tries)
    print(
        f"\nfull MiniLM call, one 12-word window ({len(texts)} texts x {repeats}): "
        f"best-of-{repeats} median {np.median(best):.2f} ms (idle-core estimate), "
        f"all calls p50 {np.median(all_ms):.2f} ms; load average {_load()}"
    )


def _stats(ms: list[float]) -> str:
    if not ms:
        return "-"
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return f"p50 {p50:.2f} ms, p90 {p90:.2f} ms, p99 {p99:.2f} ms, max {max(ms):.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=Path, default=HERE / "data" / "rights_prompts.jsonl")
    ap.add_argument("--registry", type=Path, default=HERE / "data" / "rights_registry.yaml")
    ap.add_argument("--scale", type=int, default=10_000)
    ap.add_argument(
        "--passes", type=int, default=1, help="also report each prompt's fastest of N passes"
    )
    args = ap.parse_args()
    rows = [
        json.loads(line)
        for line in args.prompts.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    specs = load_registry(args.registry)
    with tempfile.TemporaryDirectory() as tmp:
        svc = service(Path(tmp) / "a", specs)
        run(svc, rows, "registry", args.passes)
        full_model_call(svc, rows)
        if args.scale:
            extra = synthetic(args.scale - len(specs))
            run(
                service(Path(tmp) / "b", specs + extra),
                rows,
                f"scale run (+{len(extra)} synthetic)",
                args.passes,
            )


if __name__ == "__main__":
    main()
