"""Screening indexes kept on disk between processes.

Indexing the 363-entity starter registry takes about half a second of pure Python (tokenising,
normalising and embedding every alias and description), which every short-lived process (a
``mutoscope generate``, a ``rights check``) paid again for the same registry. The built
:class:`Screener` is stored under ``HOME/cache/rights`` keyed by what it was built from: the
indexed fields of every entity (``snapshot.fingerprint``), the static embedding table, and the
source of the modules that build it, so a registry change or a code change builds afresh.

The file is a pickle in the installation's own home folder, next to its database: whoever can
write there can already change the registry itself. A file that cannot be read is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mutoscope.rights.lexical import seed_word_lists, word_lists
from mutoscope.rights.records import EntityRecord
from mutoscope.rights.screening import Screener
from mutoscope.rights.semantic import MiniLMEncoder, StaticEmbedder
from mutoscope.rights.snapshot import fingerprint

log = logging.getLogger(__name__)

# The modules whose code decides what an index holds.
_SOURCES = (
    "screening",
    "facts",
    "lexical",
    "semantic",
    "normalize",
    "gloss",
    "snapshot",
    "index_cache",
)
_WORD_LISTS = ("english-words", "pyspellchecker")
_code_tag: str | None = None


def _code() -> str:
    global _code_tag
    if _code_tag is None:
        h = hashlib.sha256()
        here = Path(__file__).parent
        for name in _SOURCES:
            h.update((here / f"{name}.py").read_bytes())
        for dist in _WORD_LISTS:  # the word lists stored with the index come from these
            try:
                h.update(f"{dist} {importlib.metadata.version(dist)}".encode())
            except importlib.metadata.PackageNotFoundError:
                h.update(dist.encode())
        _code_tag = h.hexdigest()
    return _code_tag


def cache_key(rows: Sequence[EntityRecord], embedder: StaticEmbedder) -> str:
    """What an index built from ``rows`` with ``embedder`` depends on, as a hex digest."""
    h = hashlib.sha256(_code().encode())
    h.update(embedder.table.shape.__repr__().encode())
    h.update(np.ascontiguousarray(embedder.table[:64]).tobytes())
    for r in rows:
        h.update(repr((r.id, fingerprint(r))).encode())
    return h.hexdigest()[:32]


def cached_screener(
    folder: Path,
    rows: Sequence[EntityRecord],
    embedder: StaticEmbedder,
    encoder: MiniLMEncoder,
    build: Callable[[], Screener],
) -> tuple[Screener, float]:
    """The screener for ``rows`` and the seconds building it took (or once took, when it is
    read from ``folder``: callers size their refresh strategy by it)."""
    path = folder / f"screener-{cache_key(rows, embedder)}.pickle"
    try:
        with path.open("rb") as f:
            build_s, screener, *rest = pickle.load(f)
        if rest and isinstance(rest[0], dict):
            seed_word_lists(rest[0])  # ~1 s of reading JSON word lists saved
        if isinstance(screener, Screener):
            screener.attach(embedder, encoder)
            return screener, float(build_s)
    except FileNotFoundError:
        pass
    except Exception:  # a torn or foreign file: rebuild and overwrite it
        log.warning("ignoring unreadable screening index cache %s", path, exc_info=True)
    started = time.perf_counter()
    screener = build()
    build_s = time.perf_counter() - started
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("screener-*.pickle"):
            old.unlink(missing_ok=True)  # one registry per home: keep only the newest
        tmp = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}"
        with tmp.open("wb") as f:
            lists = word_lists()
            pickle.dump((build_s, screener, lists), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        log.warning("could not store the screening index in %s", folder, exc_info=True)
    return screener, build_s
