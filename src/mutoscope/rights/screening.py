"""Prompt screening: which registered entities does a prompt name, spell around or describe?

``Screener.find`` returns every entity a prompt refers to, with evidence; the service
applies each entity's policy (block / license / consent) to the matches.

1. Names: exact, sounds-alike and misspelled aliases after normalisation (``lexical``).
   An alias that is also an everyday word (``Sonic``, ``Square``) counts only where it is
   used as a name; used as a common noun ("a sonic boom", "a bouncing square", "the
   goddess Nike") only if the rest of the prompt also repeats the entity's description.
2. Descriptions, decided by two static MiniLM signals before the full model is asked:
   the distilled description score (``DescriptionIndex.search``) and the rare description
   attributes the prompt repeats (``DescriptionIndex.attributes``):

   - score ≥ ``DESC_SURE``: a description (no full model);
   - attributes < ``ATTR_FEW`` and score < ``DESC_CLOSE``: not a description (the
     resemblance rests on common words: "a white kitten with a red ribbon");
   - score ≥ ``DESC_LIKELY`` and attributes ≥ ``ATTR_MANY``: a description;
   - otherwise the full MiniLM model settles it (``DESC_MATCH``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mutoscope.rights.lexical import NameHit, NameIndex
from mutoscope.rights.normalize import words
from mutoscope.rights.semantic import (
    WINDOW,
    DescriptionIndex,
    MiniLMEncoder,
    PromptWords,
    StaticEmbedder,
)

DESC_SURE = 0.80
"""Static description score that matches without asking the full model."""
DESC_MAYBE = 0.55
"""Lower edge of the uncertain band: the full MiniLM model decides."""
DESC_CLOSE = 0.75
"""Static score from which few shared attributes do not clear a prompt: the full model decides
(a close paraphrase may share only one or two rare words: "a mouthless white cat")."""
DESC_LIKELY = 0.62
"""Static score from which many rare shared attributes settle a match without the full model."""
DESC_MATCH = 0.625
"""Mean of static and full-model cosine (prompt window vs. description) that matches."""
ATTR_FEW = 1.7
"""Attribute mass below which a prompt does not describe the entity (about two rare words)."""
ATTR_MANY = 3.4
"""Attribute mass (four or more rare description words) that describes the entity."""
CONTEXT = 0.40
"""Full-model score (whole prompt vs. description) an everyday-word alias used as a common
noun ("a minion ...") needs to count as the entity."""
CONTEXT_FEW = 0.8
"""Attribute mass, besides the alias itself, below which such a common noun is just a word."""
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class Target:
    """What the screener needs to know about one entity."""

    id: str
    name: str
    kind: str
    owner: str
    aliases: tuple[str, ...]
    description: str


@dataclass
class Match:
    entity_id: str
    name: str
    kind: str
    owner: str
    method: str
    """``exact`` | ``phonetic`` | ``fuzzy`` | ``description`` | ``description+minilm`` | ..."""
    score: float
    span: tuple[int, int]
    text: str
    """The matched part of the prompt."""
    details: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return asdict(self)


class Screener:
    """Indexes built once per registry version; ``find`` is thread-safe."""

    def __init__(self, targets: list[Target], embedder: StaticEmbedder, encoder: MiniLMEncoder):
        self.targets = targets
        self.encoder = encoder
        self.full_calls = 0
        """How many prompt texts went through the full model (for benchmarks)."""
        self.names = NameIndex(
            (i, alias) for i, t in enumerate(targets) for alias in (t.name, *t.aliases)
        )
        self.descriptions = DescriptionIndex(embedder, [t.description for t in targets])

    def find(self, prompt: str, *, enough: Callable[[Match], bool] | None = None) -> list[Match]:
        """Every entity the prompt refers to, strongest evidence first.

        ``enough`` (e.g. "this match blocks the request") stops the search at the first
        match it accepts, so the full model is not run once the outcome is known.
        """
        found: dict[int, Match] = {}
        encoded: dict[str, np.ndarray] = {}
        # 1. Names, read both with look-alike letters mapped and transliterated.
        hits = self.names.search(prompt)
        if _NON_ASCII.search(prompt):
            hits += self.names.search(prompt, transliterate=True)
        for hit in hits:
            if hit.entity in found and found[hit.entity].score >= hit.score:
                continue
            context = None
            if hit.ambiguous and not hit.as_name:
                # "a minion eating a banana" is the character, "a minion-sized toy" is not.
                context = self._context(hit, prompt, encoded)
                if context is None:
                    continue
            found[hit.entity] = self._name_match(prompt, hit, context)
            if enough is not None and enough(found[hit.entity]):
                return [found[hit.entity]]
        # 2. Descriptions (best static score first: sure matches need no full model).
        prompt_words: dict[str, PromptWords] = {}
        for entity, score, window in self.descriptions.search(prompt, k=16, floor=DESC_MAYBE):
            if entity in found:
                continue
            if window.text not in prompt_words:
                prompt_words[window.text] = self.descriptions.prompt_words(window.text)
            mass, attrs = self.descriptions.attributes(entity, prompt_words[window.text])
            method, final = "description", score
            if score < DESC_SURE:
                if mass < ATTR_FEW and score < DESC_CLOSE:
                    continue
                if score < DESC_LIKELY or mass < ATTR_MANY:
                    final = (score + self._full_score(entity, window.text, encoded)) / 2
                    if final < DESC_MATCH:
                        continue
                    method = "description+minilm"
            t = self.targets[entity]
            found[entity] = Match(
                t.id,
                t.name,
                t.kind,
                t.owner,
                method,
                round(float(final), 3),
                (window.start, window.end),
                prompt[window.start : window.end],
                {"static_score": round(score, 3), "attributes": attrs},
            )
            if enough is not None and enough(found[entity]):
                return [found[entity]]
        return sorted(found.values(), key=lambda m: -m.score)

    def _context(
        self, hit: NameHit, prompt: str, encoded: dict[str, np.ndarray]
    ) -> dict[str, Any] | None:
        """Does a prompt that uses an everyday-word alias as a common noun mean the entity?

        Its description attributes besides the alias decide when clear; the full model
        otherwise. Returns the evidence, or None when the word is just a word.
        """
        alias_words = frozenset(w.text for w in words(prompt[hit.start : hit.end]))
        pw = self.descriptions.prompt_words(prompt)
        mass, attrs = self.descriptions.attributes(hit.entity, pw, ignore=alias_words)
        if mass < CONTEXT_FEW:
            return None
        evidence: dict[str, Any] = {"context_attributes": attrs}
        if mass < ATTR_MANY:
            score = self._full_score(hit.entity, _around(prompt, hit), encoded)
            if score < CONTEXT:
                return None
            evidence["context_score"] = round(score, 3)
        return evidence

    def encode_descriptions(self, budget_s: float | None = None) -> int:
        """Encode descriptions with the full model ahead of need (all of them, or for at most
        ``budget_s``).

        Otherwise the first uncertain prompt about an entity also pays for its description
        (one more full-model call, 2-4 ms). Returns how many were encoded.
        """
        deadline = time.perf_counter() + (budget_s if budget_s is not None else float("inf"))
        done = 0
        for t in self.targets:
            if time.perf_counter() > deadline:
                break
            if t.description.strip():
                self.encoder.encode_cached(t.id, t.description)
                done += 1
        return done

    def _full_score(self, entity: int, text: str, encoded: dict[str, np.ndarray]) -> float:
        """Full-model cosine of ``text`` (encoded once per prompt) and the description."""
        t = self.targets[entity]
        desc = self.encoder.encode_cached(t.id, t.description)
        if text not in encoded:
            encoded[text] = self.encoder.encode(text)
            self.full_calls += 1
        return float(np.dot(encoded[text], desc))

    def _name_match(self, prompt: str, hit: NameHit, context: dict[str, Any] | None) -> Match:
        t = self.targets[hit.entity]
        details: dict[str, Any] = {"alias": hit.alias, **(context or {})}
        return Match(
            t.id,
            t.name,
            t.kind,
            t.owner,
            hit.method,
            round(hit.score, 3),
            (hit.start, hit.end),
            prompt[hit.start : hit.end],
            details,
        )


def _around(prompt: str, hit: NameHit) -> str:
    """The prompt, or in a long prompt the ``WINDOW`` words centred on the name: the part
    that says what the word means here, at a bounded full-model cost (a 60-word prompt
    would cost 4-8 ms to encode whole)."""
    ws = words(prompt)
    if len(ws) <= WINDOW:
        return prompt
    inside = [k for k, w in enumerate(ws) if w.start < hit.end and w.end > hit.start]
    first, last = (inside[0], inside[-1]) if inside else (0, 0)
    a = max(0, min(first - (WINDOW - (last - first + 1)) // 2, len(ws) - WINDOW))
    return prompt[ws[a].start : ws[min(len(ws), a + WINDOW) - 1].end]
