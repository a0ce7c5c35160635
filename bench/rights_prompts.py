"""Prompt screening benchmark: recall, false-block rate and latency, then at 10,000 entities.

    python bench/rights_prompts.py [--prompts bench/data/rights_prompts.jsonl]
        [--registry bench/data/rights_registry.yaml] [--scale 10000] [--passes 1]
    python bench/rights_prompts.py --split dev|test|dev2|dev3|dev3b|dev4|dev5|dev6|dev6n|...
        [--scale 10000] [--no-old]

``--split`` screens one half of the generalisation set (``rights_starter_{dev,test}.jsonl``)
against the shipped starter registry and prints recall, false blocks and recall per kind and
per language with 95 % Wilson intervals; the original labelled set (``rights_prompts.jsonl``
over ``rights_registry.yaml``) is printed after it, so a regression there shows too.

A prompt labelled ``block`` counts as caught when it is blocked for the right entity; an
``allow`` prompt that is blocked is a false block. Latency is per prompt, end to end through
``RightsService.check_prompt`` (audit write excluded), single-threaded, after warm-up
(which encodes every description with the full model, as a server's start-up does). The
load average is printed with every figure: on a shared machine the tail moves with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from mutoscope.config import Settings
from mutoscope.rights.lexical import is_everyday, known_words
from mutoscope.rights.registry import EntitySpec, load_registry
from mutoscope.rights.service import Decision, RightsService
from mutoscope.storage.db import make_engine, session_factory, upgrade

HERE = Path(__file__).parent
STARTER = Path(__file__).parents[1] / "src" / "mutoscope" / "rights" / "data" / "starter.yaml"
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
    # Only the registry under test: the packaged starter registry (on by default) would
    # add its entities to the original set's 20 and answer with its own ids.
    settings = Settings(home=home, rights_starter=False)
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    svc = RightsService(settings, session_factory(engine), encoder_threads=1)
    svc.import_specs(specs)
    # As servers do: the registry version is followed by a background thread, not read
    # by requests.
    svc.watch()
    return svc


def run(svc: RightsService, rows: list[dict], label: str, passes: int = 1) -> None:
    t0 = time.perf_counter()
    svc.warm_up()
    svc.check_prompt("warm up", record=False)
    for r in rows[:5]:
        svc.check_prompt(r["prompt"], record=False)
    build = time.perf_counter() - t0
    lat, caught, missed, false_blocks = [], Counter(), [], []
    caught_rows: list[dict] = []
    per_class = Counter()
    screener = svc.screener()
    full_lat, fast_lat, cpu, full_cpu, fast_cpu = [], [], [], [], []
    decisions: list[str] = []
    for r in rows:
        calls = screener.full_calls
        t, c = time.perf_counter(), time.thread_time()
        d = svc.check_prompt(r["prompt"], user_id=r.get("user", "bench-user"), record=False)
        decisions.append(_decision_line(d))
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        (full_lat if screener.full_calls > calls else fast_lat).append(lat[-1])
        (full_cpu if screener.full_calls > calls else fast_cpu).append(cpu[-1])
        blocked = d.decision == "block"
        if r["label"] == "block":
            per_class[_kind(r)] += 1
            if blocked and _right_entity(r, d.entity):
                caught[_kind(r)] += 1
                caught_rows.append(r)
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
    print(f"recall: {_ci(sum(caught.values()), pos)}")
    print(f"false blocks: {_ci(len(false_blocks), neg)}")
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
    print("recall by kind:")
    for c, n in sorted(per_class.items()):
        print(f"  {c:<12} {_ci(caught[c], n)}")
    innocent = Counter(_kind(r) for r in rows if r["label"] != "block")
    if len(innocent) > 1:
        blocked = Counter(_kind(r) for r, _ in false_blocks)
        print("false blocks by kind:")
        for c, n in sorted(innocent.items()):
            print(f"  {c:<17} {_ci(blocked[c], n)}")
    if any("lang" in r for r in rows):
        _by_language(rows, caught_rows, false_blocks)
    if HIDE_MISSES:  # a held-out set is reported, never read for misses (tuning would follow)
        print(f"({len(missed)} misses and {len(false_blocks)} false blocks not listed)")
        missed, false_blocks = [], []
    for r in missed:
        print(f"  missed [{_kind(r)}] {r['prompt'][:90]}")
    for r, reason in false_blocks:
        print(f"  false block [{_kind(r)}]: {r['prompt'][:70]} -> {reason[:90]}")
    if DECISIONS is not None and not HIDE_MISSES:
        DECISIONS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^a-z0-9]+", "-", f"{label} {len(svc.list_entities())}".lower())
        (DECISIONS / f"{name.strip('-')}.jsonl").write_text("".join(decisions), encoding="utf-8")
    if passes > 1:
        best_of(svc, rows, lat, cpu, passes)


def _decision_line(d: Decision) -> str:
    """Everything a decision says but the registry version: two screeners that give the same
    lines for a set decided it the same way, evidence and scores included."""
    fields = {k: v for k, v in d.to_dict().items() if k != "registry_version"}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False) + "\n"


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


def _kind(r: dict) -> str:
    return r.get("kind") or r["class"]


def _right_entity(r: dict, entity: dict | None) -> bool:
    """Blocked for one of the entities the row names (any, when it names none)."""
    want = r["entity"]
    if want is None:
        return True
    got = (entity or {}).get("id")
    return got in want if isinstance(want, list) else got == want


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _ci(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k / max(n, 1):.1%} ({k}/{n}; 95 % CI {lo:.1%}-{hi:.1%})"


def _by_language(rows: list[dict], caught: list[dict], false_blocks: list) -> None:
    pos, neg = Counter(), Counter()
    for r in rows:
        (pos if r["label"] == "block" else neg)[r.get("lang", "?")] += 1
    hit = Counter(r.get("lang", "?") for r in caught)
    fb = Counter(r.get("lang", "?") for r, _ in false_blocks)
    print("by language (recall | false blocks):")
    for lang in sorted(set(pos) | set(neg)):
        print(f"  {lang:<8} {_ci(hit[lang], pos[lang])} | {_ci(fb[lang], neg[lang])}")


HIDE_MISSES = False
DECISIONS: Path | None = None
"""``--decisions DIR``: every decision of each run, one JSON line per prompt."""


SEPARATE_SETS = (
    "test2",
    "dev2",
    "dev3",
    "dev3b",
    "dev4",
    "test4",
    "dev5",
    "test5",
    "dev6",
    "test6",
    "dev6n",
    "test6n",
)
"""Sets written on their own (not halves of the first set split by hash); dev3 and dev3b
were written independently of the screener's tuning, before anyone tuned on them; dev4 and
test4 are the two halves of a fourth set, and dev5 and test5 of a fifth (written by someone
who had not read the screener or the earlier sets), each split by entity
(docs/benchmarks/rights.md). dev6 and test6 are a sixth set, and dev6n and test6n pools of
innocent prompts only, one for each half's entities (``--split test6+test6n``)."""

HELD_OUT = ("test2", "test4", "test5", "test6", "test6n")
"""Held-out sets: reported, never read for misses (the benchmark does not list them)."""

SHA256 = {
    "dev4": "e312b38f032184210ba123129305454214125628b2419d2f8759d96dea0a3639",
    "test4": "6b4056ece03da9cd913c6397da9dd78533fcef42d1c00de7a4fb5cecbb1eb347",
    "dev5": "5d6627ca9accd5dcf3cdf67c8c53b371eeae04afe7509f22aa603084c2a69a56",
    "test5": "1331f560ac28f34b7d2e6d91777bc2ef5ddb987af9e23d7aaa13c44094781322",
    "test6n": "ec4cd158f2f7fba10050cb47088039bc3e7bebbfd6f8a3377c9ec09c54dd19f2",
    "test6": "41c13352a6a34376dc35ecd6a82ad51470ab503401c7236ca62b9d48326c7924",
    "dev6": "1a8459b41497ea92f77373a09f41b6fe338297b609b5932b77e15625f3f8ac58",
    "dev6n": "df734082b463109fd96d523d733ed0555a127c4c0ed52710f97cd492f2873a55",
}
"""SHA-256 of the files as committed before anyone ran the screener on them: an edited set
would no longer measure what its recorded figures say."""


def load_split(split: str) -> list[dict]:
    """One half of the generalisation set, checked against the hash rule that made it."""
    path = HERE / "data" / f"rights_starter_{split}.jsonl"
    if split in SHA256 and hashlib.sha256(path.read_bytes()).hexdigest() != SHA256[split]:
        raise SystemExit(
            f"{path.name} differs from the committed set (SHA-256 {SHA256[split]}); "
            "restore it with `git checkout` or write a new set instead of editing this one"
        )
    rows = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if split in SEPARATE_SETS:  # separate sets, not hash halves (docs/benchmarks/rights.md)
        return rows
    for r in rows:
        even = hashlib.sha256(r["prompt"].encode()).digest()[0] % 2 == 0
        if even != (split == "test"):
            raise SystemExit(f"{path.name}: {r['prompt']!r} belongs to the other half")
    return rows


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
    ap.add_argument(
        "--split",
        help="screen this half of the generalisation set against the starter registry: "
        f"one of {', '.join(['dev', 'test', *SEPARATE_SETS])}, or several joined by '+' "
        "(test6+test6n); held-out sets (test2, test4, test5, test6, test6n) are reported "
        "without their misses",
    )
    ap.add_argument(
        "--no-old", action="store_true", help="with --split: skip the original labelled set"
    )
    ap.add_argument(
        "--decisions",
        type=Path,
        help="write every decision to DIR/<run>.jsonl (compare two versions of the screener)",
    )
    args = ap.parse_args()
    global DECISIONS
    DECISIONS = args.decisions
    if args.split:
        global HIDE_MISSES
        parts = args.split.split("+")
        unknown = [x for x in parts if x not in ("dev", "test", *SEPARATE_SETS)]
        if unknown:
            ap.error(f"--split: unknown set(s) {', '.join(unknown)}")
        HIDE_MISSES = any(x in HELD_OUT for x in parts)
        rows = [r for x in parts for r in load_split(x)]
        specs = load_registry(STARTER)
        with tempfile.TemporaryDirectory() as tmp:
            run(service(Path(tmp) / "a", specs), rows, f"starter registry, {args.split} half")
            if not args.no_old:
                old = _rows(args.prompts)
                run(service(Path(tmp) / "o", load_registry(args.registry)), old, "original set")
            if args.scale:
                extra = synthetic(args.scale - len(specs))
                run(
                    service(Path(tmp) / "b", specs + extra),
                    rows,
                    f"{args.split} half, scale run (+{len(extra)} synthetic)",
                    args.passes,
                )
        return
    rows = _rows(args.prompts)
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


def _rows(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


if __name__ == "__main__":
    main()
