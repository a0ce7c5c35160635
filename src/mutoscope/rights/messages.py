"""How a rights decision reads to the person who asked: its reason and where it came from."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

LABELS = {"starter": "starter registry", "operator": "operator registry"}


def registry_label(source: str | None) -> str:
    """``starter registry`` (packaged with Mutoscope) or ``operator registry`` (registered
    on this install)."""
    return LABELS.get(source or "", f"{source} registry")


def blocked_message(decision: Any) -> str:
    """The block's reason followed by the registry its entity came from, as ``rights check``
    prints it: ``'Mickey Mouse' names Mickey Mouse (…) [starter registry]``."""
    source = getattr(decision, "registry", None)
    return f"{decision.reason} [{registry_label(source)}]" if source else str(decision.reason)


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _fold(word: str) -> str:
    """Lower case without accents: "Pokémon" and "pokemon" are the same word here."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def original_words(prompt: str, text: str) -> str:
    """The part of ``prompt`` the user typed that screening matched as ``text``.

    Screening reads a normalised prompt (spelling folded, other languages' common words
    translated: "el erizo azul" is screened as "el hedgehog blue"), so its matched text can
    be words nobody typed. Messages quote the user's own words instead: the same text when
    it is in the prompt, else the run of the prompt's words that shares the most words with
    it (about as many words long); ``text`` itself when nothing is shared."""
    if not text:
        return text
    at = prompt.lower().find(text.lower())
    if at >= 0:
        return prompt[at : at + len(text)]
    words = list(_WORD.finditer(prompt))
    matched = [_fold(w) for w in _WORD.findall(text)]
    k = len(matched)
    best: tuple[float, int, int] | None = None
    for size in (k, k - 1, k + 1):
        for start in range(max(0, len(words) - size + 1) if size >= 1 else 0):
            window = [_fold(w.group()) for w in words[start : start + size]]
            # Words kept in place by a word-for-word translation count most.
            in_place = sum(1 for a, b in zip(window, matched, strict=False) if a == b)
            shared = sum(1 for w in window if w in matched)
            score = in_place + 0.1 * shared - 0.5 * abs(size - k)
            if best is None or score > best[0]:
                best = (score, start, start + size)
    if best is None or best[0] <= 0:
        return text
    return prompt[words[best[1]].start() : words[best[2] - 1].end()]
