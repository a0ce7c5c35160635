"""The registry file format rights holders write (YAML), validated into ``EntitySpec``."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from mutoscope.errors import InvalidRequest
from mutoscope.rights.normalize import HONORIFICS

Kind = Literal["character", "brand", "work", "person"]
Policy = Literal["block", "license", "consent"]
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")


class License(BaseModel):
    licensees: list[str] = Field(default_factory=list)
    """User ids (``user_…``) or organisation ids (``org_…``) allowed to generate the entity.
    Names are resolved to ids when the entity is written, never matched later."""
    forbidden_themes: list[str] = Field(default_factory=list)
    attribution: str = ""


class EntitySpec(BaseModel):
    """One entry under ``entities:`` in a registry file (and the API's create/replace body)."""

    id: str
    name: str = Field(min_length=1, max_length=300)
    kind: Kind
    owner: str = Field(default="", max_length=300)
    """Display name of the rights holder (filled from the organisation when ``org_id`` is set)."""
    org_id: str | None = Field(default=None, max_length=64)
    """The verified organisation that holds the rights and manages the entity."""
    subject_user_id: str | None = Field(default=None, max_length=64)
    """For a person's likeness: the account of that person (they manage it)."""
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    facts: list[str] = Field(default_factory=list)
    """What the entity is known for, one short phrase each ("played God in Bruce Almighty",
    "headquartered in Mountain View"): the works, roles, places, relatives and marks a
    prompt may name instead of the entity (``facts.KeyNames``)."""
    policy: Policy = "block"
    license: License | None = None
    references: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(
                f"id must be a lowercase slug like 'example-mouse' (letters, digits, '-', '_', "
                f"'.'), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _license_only_with_license_policy(self) -> EntitySpec:
        if self.license is not None and self.policy != "license":
            raise ValueError(f"'license' is only allowed with policy: license (got {self.policy})")
        if self.policy == "license" and self.license is None:
            self.license = License()
        return self

    def all_names(self) -> list[str]:
        """The name and every alias, without duplicates."""
        seen: dict[str, None] = {}
        for name in [self.name, *self.aliases]:
            if name.strip():
                seen.setdefault(name.strip(), None)
        return list(seen)


def parse_registry(text: str, *, base: Path | None = None) -> list[EntitySpec]:
    """Parse a registry YAML document; relative reference paths resolve against ``base``."""
    try:
        # libyaml's C loader when present: a large file parses several times faster.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"registry file is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entities"), list):
        raise InvalidRequest("registry file must be a mapping with a list under 'entities:'")
    specs = []
    for n, item in enumerate(data["entities"]):
        try:
            spec = EntitySpec.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            raise InvalidRequest(
                f"entities[{n}] ({item.get('id', '?') if isinstance(item, dict) else '?'}): "
                f"{where}: {first['msg']}"
            ) from exc
        if base is not None:
            spec.references = [
                str((base / r) if not Path(r).is_absolute() else r) for r in spec.references
            ]
        specs.append(spec)
    dupes = sorted(i for i, n in Counter(s.id for s in specs).items() if n > 1)
    if dupes:
        raise InvalidRequest(f"registry file repeats entity ids: {', '.join(dupes)}")
    return specs


def facts_files(path: Path) -> list[Path]:
    """Knowledge files beside a registry file: ``NAME_facts_*.yaml`` for ``NAME.yaml``."""
    return sorted(path.parent.glob(f"{path.stem}_facts_*.yaml"))


def merge_facts(specs: list[EntitySpec], text: str, *, where: str = "facts file") -> None:
    """Add a knowledge file's aliases and facts to the entities it names by id.

    The file maps ids to ``aliases:`` and ``facts:`` lists (``{id: {aliases: [...], facts:
    [...]}}``); what an entity already holds is not repeated. An id the registry does not
    hold is an error (a typo would otherwise drop its knowledge silently)."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"{where} must map entity ids to 'aliases:' and 'facts:' lists")
    by_id = {s.id: s for s in specs}
    owners: dict[str, set[str]] = {}
    """A name as written (casefolded) -> the entities of the registry that hold it."""
    for s in specs:
        for n in (s.name, *s.aliases):
            owners.setdefault(n.casefold(), set()).add(s.id)
    for entity_id, extra in data.items():
        spec = by_id.get(str(entity_id))
        if spec is None:
            raise InvalidRequest(f"{where}: {entity_id!r} is not an entity of the registry")
        if not isinstance(extra, dict) or set(extra) - {"aliases", "facts"}:
            raise InvalidRequest(f"{where}: {entity_id}: give 'aliases:' and/or 'facts:' lists")
        for key in ("aliases", "facts"):
            items = extra.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise InvalidRequest(f"{where}: {entity_id}.{key} must be a list of strings")
            held: list[str] = getattr(spec, key)
            seen = {i.casefold() for i in held}
            for item in (i.strip() for i in items):
                if key == "aliases" and not _own_alias(item, spec.id, owners):
                    continue
                if item and item.casefold() not in seen:
                    held.append(item)
                    seen.add(item.casefold())


def _own_alias(alias: str, entity_id: str, owners: dict[str, set[str]]) -> bool:
    """May a knowledge file give ``alias`` to ``entity_id``? Not another entity's name
    ("Monsters Inc" for Sulley: the film is an entity of its own), nor a name with an
    honorific for someone addressed ("ミクさん"), which ordinary people share."""
    held = owners.get(alias.casefold(), set())
    if held - {entity_id}:
        return False
    return not alias.endswith(HONORIFICS)


def load_registry(path: Path) -> list[EntitySpec]:
    """A registry file, with the knowledge files beside it merged in (``facts_files``)."""
    if not path.is_file():
        raise InvalidRequest(f"registry file not found: {path}")
    knowledge = [(p.name, p.read_text(encoding="utf-8")) for p in facts_files(path)]
    return parse_with_facts(path.read_text(encoding="utf-8"), knowledge, base=path.parent)


def parse_with_facts(
    text: str, knowledge: Iterable[tuple[str, str]], *, base: Path | None = None
) -> list[EntitySpec]:
    """A registry's text with knowledge files' ``(name, text)`` merged in (``merge_facts``)."""
    specs = parse_registry(text, base=base)
    for name, extra in knowledge:
        merge_facts(specs, extra, where=name)
    return specs
