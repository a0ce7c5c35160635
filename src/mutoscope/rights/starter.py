"""The starter registry: widely known protected entities, packaged with Mutoscope, on by default.

At start-up (``RightsService`` construction) the packaged YAML is loaded into the registry as
its own source (``EntityRecord.source == "starter"``). It is loaded again only when the file
changed (its SHA-256 differs from the one recorded in ``rights_starter_state``); a load
upserts the entries by id, removes entries the new file dropped and never touches:

- the operator's switches: ``enabled`` on each entry and the starter's own on/off state;
- entities the operator registered under the same id (the operator's entry wins).

``MUTOSCOPE_RIGHTS_STARTER=false`` keeps a process from loading or screening it;
``mutoscope rights starter disable --all`` turns it off in the database (every process).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.config import Settings
from mutoscope.errors import InvalidRequest, NotFound
from mutoscope.rights import live
from mutoscope.rights.records import (
    ConsentRecord,
    EntityRecord,
    FrameHashRecord,
    StarterStateRecord,
)
from mutoscope.rights.registry import EntitySpec, facts_files, parse_with_facts
from mutoscope.storage.records import now

log = logging.getLogger(__name__)
PACKAGED = Path(__file__).parent / "data" / "starter.yaml"
STARTER = "starter"
OPERATOR = "operator"


@dataclass(frozen=True)
class StarterFile:
    path: Path
    text: str
    version: str
    """The file's ``version:`` key, else a ``starter.version`` file beside it, else its digest."""
    digest: str
    """Of the file and its knowledge files (``registry.facts_files``)."""
    facts: tuple[tuple[str, str], ...] = ()
    """(name, text) of each knowledge file beside it."""

    def specs(self) -> list[EntitySpec]:
        return parse_with_facts(self.text, self.facts)


@dataclass(frozen=True)
class StarterStatus:
    setting: bool
    """``MUTOSCOPE_RIGHTS_STARTER`` in this process."""
    enabled: bool
    """The operator's switch in the database (``starter enable/disable --all``)."""
    path: Path
    packaged_version: str | None
    """``None`` when there is no file at ``path``."""
    loaded_version: str | None
    entries: int
    disabled: int

    @property
    def screened(self) -> bool:
        return self.setting and self.enabled and self.entries > self.disabled


def read_file(path: Path) -> StarterFile | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    facts = tuple((p.name, p.read_text(encoding="utf-8")) for p in facts_files(path))
    version = _version_of(path, text)
    sha = hashlib.sha256(f"{version}\n{text}".encode())
    for name, extra in facts:
        sha.update(f"\n{name}\n{extra}".encode())
    digest = sha.hexdigest()
    return StarterFile(path, text, version or f"sha256:{digest[:12]}", digest, facts)


def _version_of(path: Path, text: str) -> str:
    # Only the head of the file is read for the key, so a large file is not parsed twice.
    for line in text.splitlines()[:50]:
        if line.startswith("version:"):
            value = yaml.safe_load(line.partition(":")[2]) if line.partition(":")[2] else None
            return "" if value is None else str(value)
    side = path.with_name("starter.version")
    return side.read_text(encoding="utf-8").strip() if side.is_file() else ""


class StarterRegistry:
    """Loads the starter file into the database and holds the operator's switches."""

    def __init__(self, settings: Settings, sessions: sessionmaker):
        self.settings = settings
        self.sessions = sessions
        self.path = settings.rights_starter_file or PACKAGED

    # ------------------------------------------------------------------ loading
    def sync(self) -> bool:
        """Load the file if this database has not loaded this exact file yet; True if loaded."""
        starter = read_file(self.path)
        if starter is None:
            return False
        for attempt in range(3):
            try:
                return self._sync(starter)
            except IntegrityError:
                # Another process loaded the same file at the same moment: read its result.
                if attempt == 2:
                    raise
        return False

    def _sync(self, starter: StarterFile) -> bool:
        with self.sessions() as s:
            state = s.get(StarterStateRecord, 1)
            if state is not None and state.digest == starter.digest:
                return False
            specs = starter.specs()
            ids = {spec.id for spec in specs}
            rows = {
                r.id: r
                for r in s.scalars(
                    select(EntityRecord).where(
                        EntityRecord.id.in_(ids) | (EntityRecord.source == STARTER)
                    )
                )
            }
            stamp = now()
            for spec in specs:
                row = rows.get(spec.id)
                if row is not None and row.source != STARTER:
                    continue  # the operator registered this id: theirs wins
                if row is None:
                    row = EntityRecord(id=spec.id, created_at=stamp, source=STARTER, enabled=True)
                    s.add(row)
                row.name, row.kind, row.owner = spec.name, spec.kind, spec.owner
                row.aliases, row.description, row.policy = (
                    spec.aliases,
                    spec.description,
                    spec.policy,
                )
                row.facts = spec.facts
                row.license = spec.license.model_dump() if spec.license else None
                # Reference media are an operator's: the starter screens prompts only.
                row.references, row.updated_at = [], stamp
            dropped = [i for i, r in rows.items() if r.source == STARTER and i not in ids]
            if dropped:
                _delete_entities(s, dropped)
            if state is None:
                state = StarterStateRecord(id=1, enabled=True)
                s.add(state)
            state.version, state.digest, state.loaded_at = (
                starter.version,
                starter.digest,
                time.time(),
            )
            live.bump(s)
            s.commit()
        log.info("loaded starter registry %s (%d entries)", starter.version, len(specs))
        return True

    # ------------------------------------------------------------------ operator
    def switched_on(self, session: Session) -> bool:
        """Screened at all: the setting in this process and the operator's switch."""
        if not self.settings.rights_starter:
            return False
        state = session.get(StarterStateRecord, 1)
        return state is None or state.enabled

    def status(self) -> StarterStatus:
        starter = read_file(self.path)
        with self.sessions() as s:
            state = s.get(StarterStateRecord, 1)
            rows = list(
                s.execute(
                    select(EntityRecord.enabled).where(EntityRecord.source == STARTER)
                ).scalars()
            )
        return StarterStatus(
            setting=self.settings.rights_starter,
            enabled=state.enabled if state is not None else True,
            path=self.path,
            packaged_version=starter.version if starter else None,
            loaded_version=state.version if state is not None and state.version else None,
            entries=len(rows),
            disabled=sum(1 for on in rows if not on),
        )

    def entries(self) -> list[EntityRecord]:
        with self.sessions() as s:
            q = select(EntityRecord).where(EntityRecord.source == STARTER)
            return list(s.scalars(q.order_by(EntityRecord.id)))

    def set_enabled(self, ids: list[str] | None, enabled: bool) -> list[str]:
        """Switch single entries (``ids``) or the whole starter registry (``None``).

        Turning it all on also turns every entry back on; turning it all off keeps the single
        switches (and entries a later version adds stay off too). Returns the ids switched.
        """
        with self.sessions() as s:
            starter_ids = set(
                s.scalars(select(EntityRecord.id).where(EntityRecord.source == STARTER))
            )
            if ids is None:
                state = s.get(StarterStateRecord, 1)
                if state is None:
                    state = StarterStateRecord(id=1, version="", digest="", loaded_at=0.0)
                    s.add(state)
                state.enabled = enabled
                chosen = sorted(starter_ids)
            else:
                unknown = [i for i in ids if i not in starter_ids]
                if unknown:
                    raise NotFound(
                        f"not in the starter registry: {', '.join(unknown)}. List its entries "
                        "with `mutoscope rights starter list`.",
                        param="entity_id",
                    )
                if not ids:
                    raise InvalidRequest("name entries to switch, or use --all", param="entity_id")
                chosen = list(dict.fromkeys(ids))
            if ids is not None or enabled:
                for row in s.scalars(select(EntityRecord).where(EntityRecord.id.in_(chosen))):
                    row.enabled = enabled
            live.bump(s)
            s.commit()
        return chosen


def _delete_entities(s: Session, ids: list[str]) -> None:
    s.execute(delete(FrameHashRecord).where(FrameHashRecord.entity_id.in_(ids)))
    s.execute(delete(ConsentRecord).where(ConsentRecord.entity_id.in_(ids)))
    s.execute(delete(EntityRecord).where(EntityRecord.id.in_(ids)))
