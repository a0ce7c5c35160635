"""One registry version as a process screens it: a base index plus a small overlay.

Indexing a registry costs about 3 ms per entity (≈1 s for the 363-entry starter on a busy
machine, much more at 10,000), too slow to redo in line for every change. So a change is
applied as an overlay: the entities that changed since the base was built get an index of
their own (milliseconds), and the base ignores them (``hidden``). ``find`` asks the overlay
first and then the base. The service folds the overlay into a new base in a background
thread, while requests keep screening against base + overlay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mutoscope.rights.records import EntityRecord
from mutoscope.rights.screening import Match, Screener, Target
from mutoscope.rights.semantic import MiniLMEncoder, StaticEmbedder

Fingerprint = tuple[str, str, str, tuple[str, ...], str, tuple[str, ...]]


def fingerprint(row: EntityRecord) -> Fingerprint:
    """What the index reads from an entity (a policy or licence change needs no re-index)."""
    return (
        row.name,
        row.kind,
        row.owner,
        tuple(row.aliases or ()),
        row.description or "",
        tuple(row.facts or ()),
    )


def build_screener(
    rows: Iterable[EntityRecord], embedder: StaticEmbedder, encoder: MiniLMEncoder
) -> Screener:
    targets = [
        Target(
            r.id,
            r.name,
            r.kind,
            r.owner,
            tuple(r.aliases or ()),
            r.description or "",
            tuple(r.facts or ()),
        )
        for r in rows
    ]
    return Screener(targets, embedder, encoder)


@dataclass(frozen=True)
class RegistrySnapshot:
    version: int
    base: Screener
    entities: dict[str, EntityRecord]
    """Every screened entity at ``version`` (policies, licences, sources)."""
    fingerprints: dict[str, Fingerprint]
    """Of the entities the base was built from."""
    build_s: float
    """How long the base took to build."""
    overlay: Screener | None = None
    hidden: frozenset[str] = field(default_factory=frozenset)
    """Base entities changed or removed since the base was built."""

    @property
    def layered(self) -> bool:
        return self.overlay is not None or bool(self.hidden)

    def find(self, prompt: str, *, enough: Callable[[Match], bool] | None = None) -> list[Match]:
        """``Screener.find`` over base + overlay (same contract)."""
        if not self.layered:
            return self.base.find(prompt, enough=enough)
        found: list[Match] = []
        if self.overlay is not None:
            found = self.overlay.find(prompt, enough=enough)
            if enough is not None and any(enough(m) for m in found):
                return [next(m for m in found if enough(m))]
        hidden = self.hidden

        def base_enough(m: Match) -> bool:
            return m.entity_id not in hidden and enough is not None and enough(m)

        more = self.base.find(prompt, enough=base_enough if enough is not None else None)
        found += [m for m in more if m.entity_id not in hidden]
        return sorted(found, key=lambda m: -m.score)

    def updated(
        self,
        version: int,
        rows: list[EntityRecord],
        embedder: StaticEmbedder,
        encoder: MiniLMEncoder,
    ) -> RegistrySnapshot:
        """This snapshot with ``rows`` (the whole screened registry now) applied as an overlay
        over the same base."""
        current = {r.id: r for r in rows}
        changed = [r for r in rows if self.fingerprints.get(r.id) != fingerprint(r)]
        removed = self.fingerprints.keys() - current.keys()
        hidden = frozenset(removed | {r.id for r in changed if r.id in self.fingerprints})
        overlay = build_screener(changed, embedder, encoder) if changed else None
        return RegistrySnapshot(
            version, self.base, current, self.fingerprints, self.build_s, overlay, hidden
        )

    def changes(self, rows: list[EntityRecord]) -> int:
        """How many entities an overlay for ``rows`` would hold or hide."""
        ids = {r.id for r in rows}
        changed = sum(1 for r in rows if self.fingerprints.get(r.id) != fingerprint(r))
        return changed + len(self.fingerprints.keys() - ids)
