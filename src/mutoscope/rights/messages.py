"""How a rights decision reads to the person who asked: its reason and where it came from."""

from __future__ import annotations

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
