"""An owner's text rules ("no political content") screened against the prompts that use
their character, with the rights layer's encoder (as entity descriptions are screened).

A rule is a topic to keep away from. A prompt breaks it when it repeats one of the topic's
words (by stem, as licence themes are checked) or when the full MiniLM model puts the prompt
close to the topic. ``RULE_MATCH`` was set on a handful of hand-written prompts (political,
violent and drinking prompts at 0.28-0.39, everyday ones at 0.17 or below); it is not a
measured quality figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mutoscope.rights.normalize import words

RULE_MATCH = 0.27
_NEGATIONS = re.compile(
    r"^\s*(?:no|not|never|don'?t(?: use (?:it|me|them) (?:for|in))?|do not(?: use (?:it|me|them)"
    r" (?:for|in))?|avoid|without|nothing)\b\s*",
    re.IGNORECASE,
)
_GENERIC = frozenset(
    {
        *("content", "contents", "stuff", "thing", "things", "video", "videos", "scene"),
        *("scenes", "clip", "clips", "use", "uses", "any", "kind", "kinds", "sort", "type"),
    }
)


@dataclass(frozen=True)
class Broken:
    rule: str
    why: str


def topic(rule: str) -> str:
    """The topic a rule keeps away from: ``no political content`` -> ``political content``."""
    return _NEGATIONS.sub("", rule).strip(" .!") or rule.strip()


def check(
    prompt: str, rules: list[str], encoder: Any = None, *, mention: str = ""
) -> Broken | None:
    """The first rule ``prompt`` breaks, or ``None``. ``mention`` (the character's name in
    the prompt) is left out, so the name itself never counts for or against a rule."""
    text = prompt.replace(mention, " ") if mention else prompt
    said = [w.text for w in words(text)]
    for rule in rules:
        subject = topic(rule)
        for word in words(subject):
            stem = re.sub(r"[^a-z]", "", word.text.lower())[:5]
            if (
                len(stem) >= 4
                and word.text not in _GENERIC
                and any(w.startswith(stem) for w in said)
            ):
                return Broken(rule, f"it mentions '{word.text}'")
        if encoder is not None:
            score = float(encoder.encode(text) @ encoder.encode(subject))
            if score >= RULE_MATCH:
                return Broken(rule, f"it is about {subject} (similarity {score:.2f})")
    return None
