"""``RightsService``: the rights layer behind the ``RightsGate`` seam, the CLI and the API.

It owns the registry (entities, consents), prompt screening, reference/remix/output
matching with PDQ hashes, the index of our own outputs (reverse search) and the
hash-chained audit log that records every decision.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.config import Settings
from mutoscope.errors import InvalidRequest, NotFound, OutputBlocked, PromptRejected
from mutoscope.rights import live
from mutoscope.rights.audit import AuditLog, prompt_hash
from mutoscope.rights.audit_keys import AuditKeys
from mutoscope.rights.hashing import (
    MIN_QUALITY,
    ClipMatch,
    FrameHashes,
    HashIndex,
    hash_file,
    hash_frames,
    hash_frames_and_mirror,
    hash_image,
)
from mutoscope.rights.index_cache import cached_screener
from mutoscope.rights.normalize import words
from mutoscope.rights.records import ConsentRecord, EntityRecord, FrameHashRecord
from mutoscope.rights.registry import EntitySpec, load_registry
from mutoscope.rights.screening import Match, Screener
from mutoscope.rights.semantic import MiniLMEncoder, StaticEmbedder
from mutoscope.rights.snapshot import RegistrySnapshot, build_screener, fingerprint
from mutoscope.rights.starter import OPERATOR, STARTER, StarterRegistry
from mutoscope.storage.records import UserRecord, now
from mutoscope.trust.orgs import verified_org_ids
from mutoscope.worker.hooks import Screening, ScreenRequest

if TYPE_CHECKING:
    from mutoscope.storage.files import FileStore, LocalFileStore

log = logging.getLogger(__name__)
LOW_QUALITY_FRACTION = 0.3
POLICY_REASON = {
    "block": "which may not be generated here",
    "license": "which only its licensees may generate",
    "consent": "a real person who has not given you consent to use their likeness",
}
INLINE_REBUILD_S = 0.1
"""A registry that indexed in less than this is rebuilt in line after a change; a larger one
is refreshed in a background thread (an overlay of the changed entities, then a new base)."""
OVERLAY_MAX = 64
"""More changed entities than this (a bulk import, a new starter version) skip the overlay:
requests keep the previous index until the new base is built."""
_CONSENTS = ConsentRecord.__table__.c
_CONSENTED = (
    select(_CONSENTS.id)
    .where(_CONSENTS.entity_id == bindparam("entity"))
    .where(_CONSENTS.grantee_user_id == bindparam("user"))
    .limit(1)
)
"""Has this person consented to this user? A Core statement: the same read through the ORM
cost five times as much (≈0.6 ms of a prompt's CPU against ≈0.1 ms), on every prompt that
names a person."""
EMPTY_NOTE = (
    "The rights registry is empty, so nothing is protected: this prompt was not screened "
    "against anything. Turn the starter registry back on (`mutoscope rights starter enable "
    "--all`, and MUTOSCOPE_RIGHTS_STARTER=true) or import one (`mutoscope rights import FILE`)."
)


@dataclass
class Decision:
    """The outcome of one check, as the CLI and API show it."""

    decision: str
    """``allow`` | ``block``."""
    reason: str = ""
    entity: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    attributions: list[dict[str, str]] = field(default_factory=list)
    prompt: str | None = None
    registry: str | None = None
    """Where the deciding entity came from: ``starter`` (the packaged registry) or
    ``operator`` (registered here); ``None`` when nothing matched."""
    registry_version: int | None = None
    """The registry version the prompt was screened against."""
    screened_entities: int | None = None
    """How many entities the prompt was screened against (0: the registry is empty)."""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutputMatch:
    """One of our own earlier outputs that a clip matches (reverse search)."""

    video_id: str
    distance: float
    matched_fraction: float


class RightsService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker,
        *,
        files: FileStore | None = None,
        encoder_threads: int | None = None,
    ):
        self.settings = settings
        self.sessions = sessions
        self.files = files if files is not None else _file_store(settings)
        self.audit = AuditLog(sessions, keys=AuditKeys.from_settings(settings))
        self.encoder = MiniLMEncoder(threads=encoder_threads)
        self._embedder: StaticEmbedder | None = None
        self._snapshot: RegistrySnapshot | None = None
        self._checked_at = 0.0
        self._rebuilding: threading.Thread | None = None
        self._overlaying: threading.Thread | None = None
        self._watching = threading.Event()
        self._following: threading.Thread | None = None
        self._references: tuple[int, HashIndex] | None = None
        self._version_read: tuple[float, int] | None = None  # (monotonic time, version)
        self._outputs: HashIndex | None = None
        self._lock = threading.RLock()
        self._users: dict[str, tuple[float, UserRecord]] = {}
        self.starter = StarterRegistry(settings, sessions)
        if settings.rights_starter:
            self.starter.sync()
        if settings.rights_file is not None:
            self.import_file(settings.rights_file)

    # ------------------------------------------------------------------ registry
    def import_file(self, path: Path, *, owner_user_id: str | None = None) -> list[EntityRecord]:
        return self.import_specs(load_registry(Path(path)), owner_user_id=owner_user_id)

    def import_specs(
        self, specs: list[EntitySpec], *, owner_user_id: str | None = None
    ) -> list[EntityRecord]:
        """Create or replace entities (by id); references are hashed now."""
        hashed = {s.id: [(ref, _hash_reference(ref)) for ref in s.references] for s in specs}
        with self.sessions() as s:
            rows = []
            for spec in specs:
                row = s.get(EntityRecord, spec.id) or EntityRecord(id=spec.id, created_at=now())
                row.name, row.kind, row.owner = spec.name, spec.kind, spec.owner
                row.aliases, row.description, row.policy = (
                    spec.aliases,
                    spec.description,
                    spec.policy,
                )
                row.facts = spec.facts
                row.license = spec.license.model_dump() if spec.license else None
                row.references, row.updated_at = spec.references, now()
                # Registered here: an operator's entry replaces a starter entry of the same id.
                row.source, row.enabled = OPERATOR, True
                if owner_user_id is not None and row.owner_user_id is None:
                    row.owner_user_id = owner_user_id
                row.org_id, row.subject_user_id = spec.org_id, spec.subject_user_id
                s.merge(row)
                s.execute(delete(FrameHashRecord).where(FrameHashRecord.entity_id == spec.id))
                for ref, fh in hashed[spec.id]:
                    s.add_all(
                        FrameHashRecord(
                            source="reference",
                            entity_id=spec.id,
                            path=ref,
                            frame_index=int(i),
                            hash=h.tobytes(),
                            quality=int(q),
                        )
                        for h, q, i in zip(fh.hashes, fh.quality, fh.frame_index, strict=True)
                    )
                rows.append(row)
            live.bump(s)
            s.commit()
        self._invalidate()
        return rows

    def list_entities(self) -> list[EntityRecord]:
        with self.sessions() as s:
            return list(s.scalars(select(EntityRecord).order_by(EntityRecord.id)))

    def get_entity(self, entity_id: str) -> EntityRecord:
        with self.sessions() as s:
            row = s.get(EntityRecord, entity_id)
        if row is None:
            raise NotFound(
                f"No rights entity with id '{entity_id}'. List them with `mutoscope rights list`.",
                param="entity_id",
            )
        return row

    def remove_entity(self, entity_id: str) -> None:
        self.get_entity(entity_id)
        with self.sessions() as s:
            s.execute(delete(FrameHashRecord).where(FrameHashRecord.entity_id == entity_id))
            s.execute(delete(ConsentRecord).where(ConsentRecord.entity_id == entity_id))
            s.execute(delete(EntityRecord).where(EntityRecord.id == entity_id))
            live.bump(s)
            s.commit()
        self.encoder.forget(entity_id)
        self._invalidate()

    def grant_consent(self, entity_id: str, user_id: str) -> None:
        entity = self.get_entity(entity_id)
        if entity.policy != "consent":
            raise InvalidRequest(
                f"'{entity_id}' has policy '{entity.policy}'; consent applies only to "
                "entities with policy: consent (real people).",
                param="entity_id",
            )
        with self.sessions() as s:
            exists = s.scalar(
                select(ConsentRecord).where(
                    ConsentRecord.entity_id == entity_id, ConsentRecord.grantee_user_id == user_id
                )
            )
            if exists is None:
                s.add(ConsentRecord(entity_id=entity_id, grantee_user_id=user_id, created_at=now()))
                live.bump(s)
                s.commit()

    def revoke_consent(self, entity_id: str, user_id: str) -> None:
        with self.sessions() as s:
            s.execute(
                delete(ConsentRecord).where(
                    ConsentRecord.entity_id == entity_id, ConsentRecord.grantee_user_id == user_id
                )
            )
            live.bump(s)
            s.commit()

    def entities_owned_by(self, user: Any) -> list[str]:
        """Ids of entities a user manages: those of their verified organisations and their
        own likeness (never by name: anyone can sign up with any name)."""
        with self.sessions() as s:
            orgs = verified_org_ids(s, user.id)
            q = select(EntityRecord.id).where(
                EntityRecord.org_id.in_(orgs) | (EntityRecord.subject_user_id == user.id)
            )
            return list(s.scalars(q))

    def _invalidate(self) -> None:
        """This process changed the registry: its own next screen sees the change (the
        index is updated here, on the write path; other processes poll the version)."""
        with self._lock:
            snap = self._snapshot
            if snap is None:
                return  # nothing indexed yet: the first screen builds from the database
            with self.sessions() as s:
                version = live.current(s)
            if snap.build_s < INLINE_REBUILD_S:
                self._snapshot = self._build(version)
            else:
                overlay = self._overlay(snap)
                self._snapshot = overlay if overlay is not None else self._build(version)
                if self._snapshot.layered:
                    self._refresh_in_background(self._snapshot)
            self._checked_at = time.monotonic()

    # ------------------------------------------------------------------ live registry
    def snapshot(self) -> RegistrySnapshot:
        """The registry as screened now, updated when another process (or this one) changed it.

        The registry version is read at most every ``live.POLL_S`` seconds, never on the
        screening path: by a thread started beside the request that finds it stale, or by
        the ``watch`` thread in servers. When it moved, a registry that indexes in under
        ``INLINE_REBUILD_S`` is rebuilt by that thread; a larger one is refreshed in the
        background (requests keep the previous index meanwhile): first the changed entities
        as an overlay (≈0.1 s), then a new base.
        """
        snap = self._snapshot
        if snap is None:
            with self._lock:  # the first index: built once, in line
                return self._snapshot or self._follow()
        if not self._watching.is_set() and time.monotonic() - self._checked_at >= live.POLL_S:
            # Read the version beside this request, not in it: no database read on the
            # screening path (this prompt gets the index as it is; the next ones the update).
            self._checked_at = time.monotonic()
            if self._following is None or not self._following.is_alive():
                self._following = _thread("follow", self._follow)
        return snap

    def _follow(self) -> RegistrySnapshot:
        """Read the registry version and bring the index up to it (see ``snapshot``)."""
        with self._lock:
            snap = self._snapshot
            with self.sessions() as s:
                version = live.current(s)
            self._checked_at = time.monotonic()
            if snap is None or (version != snap.version and snap.build_s < INLINE_REBUILD_S):
                snap = self._snapshot = self._build(version)
            elif version != snap.version:
                self._refresh_in_background(snap)
            return snap

    def watch(self) -> Callable[[], None]:
        """Follow the registry version from a background thread (every ``live.POLL_S``
        seconds), so that requests never read it themselves. Servers start this at start-up;
        returns the function that stops it."""
        stop = threading.Event()

        def follow() -> None:
            failing = False
            while True:
                try:
                    self._follow()
                    self._watching.set()
                    failing = False
                except Exception:
                    # Requests read the version themselves while this fails; say so once.
                    self._watching.clear()
                    if not failing:
                        log.exception("could not read the rights registry version")
                    failing = True
                if stop.wait(live.POLL_S):
                    break
            self._watching.clear()

        threading.Thread(target=follow, name="mutoscope-rights-watch", daemon=True).start()
        return stop.set

    def _overlay(self, snap: RegistrySnapshot) -> RegistrySnapshot | None:
        """``snap``'s base with the entities changed since then as an overlay, or ``None``
        when too many changed (``OVERLAY_MAX``: a new base is quicker to get right)."""
        with self.sessions() as s:
            version = live.current(s)
        rows = self.screened_entities()
        if snap.changes(rows) > OVERLAY_MAX:
            return None
        assert self._embedder is not None
        return snap.updated(version, rows, self._embedder, self.encoder)

    def _refresh_in_background(self, snap: RegistrySnapshot) -> None:
        """An overlay over the current base now (≈0.1 s), and a new base when none is being
        built (the registry's full index time; changes that land meanwhile get overlays)."""
        if self._overlaying is None or not self._overlaying.is_alive():
            self._overlaying = _thread("overlay", self._refresh_overlay)
        if self._rebuilding is None or not self._rebuilding.is_alive():
            self._rebuilding = _thread("rebuild", self._refresh_base)

    def _refresh_overlay(self) -> None:
        current = self._snapshot
        overlay = self._overlay(current) if current is not None else None
        if overlay is not None:
            self._swap(overlay)

    def _refresh_base(self) -> None:
        with self.sessions() as s:
            version = live.current(s)
        built = self._build(version)
        with self.sessions() as s:
            moved = live.current(s) != version
        # Changes that landed while the base was built ride on it as an overlay.
        self._swap((self._overlay(built) if moved else None) or built)

    def _swap(self, snap: RegistrySnapshot) -> None:
        with self._lock:
            current = self._snapshot
            if current is None or current.version <= snap.version:
                self._snapshot = snap
            # Read the version again soon: it may have moved while we were building.
            self._checked_at = 0.0

    @property
    def _entities(self) -> dict[str, EntityRecord]:
        return self.snapshot().entities

    def screener(self) -> Screener:
        """The base index (``check_prompt`` also consults the overlay of recent changes)."""
        return self.snapshot().base

    def _build(self, version: int) -> RegistrySnapshot:
        if self._embedder is None:
            _single_threaded_blas()
            self._embedder = StaticEmbedder()
        rows = self.screened_entities()
        embedder = self._embedder
        screener, build_s = cached_screener(
            self.settings.home / "cache" / "rights",
            rows,
            embedder,
            self.encoder,
            lambda: build_screener(rows, embedder, self.encoder),
        )
        return RegistrySnapshot(
            version,
            screener,
            {r.id: r for r in rows},
            {r.id: fingerprint(r) for r in rows},
            build_s,
        )

    def screened_entities(self) -> list[EntityRecord]:
        """The entities prompts are screened against: every enabled entity, the starter's
        only while it is on (the setting and the operator's switch)."""
        with self.sessions() as s:
            q = select(EntityRecord).where(EntityRecord.enabled.is_(True))
            if not self.starter.switched_on(s):
                q = q.where(EntityRecord.source != STARTER)
            return list(s.scalars(q.order_by(EntityRecord.id)))

    # ------------------------------------------------------------------ prompts

    def warm_up(self, descriptions_budget_s: float | None = None) -> None:
        """Build the indexes and load the full model now (otherwise the first prompt that
        needs them waits ≈3-5 s), then encode every entity description with it (≈2.5 ms
        each: ≈25 s of one core at 10,000 entities), or for at most
        ``descriptions_budget_s``. The API runs this in a background thread at start-up;
        until it is done, the first uncertain prompt about an entity also encodes that
        entity's description. Encodings outlive registry changes (keyed by description)."""
        screener = self.screener()
        self.encoder.load()
        screener.encode_descriptions(budget_s=descriptions_budget_s)
        # Collect start-up garbage now rather than in the middle of a request (a full
        # collection after building a 10,000-entity registry costs tens of milliseconds),
        # and move what survives (indexes, model, caches) out of the collector's view: a
        # full collection during a request then scans only what requests allocated
        # (otherwise 20-30 ms pauses land on single prompts).
        gc.collect()
        gc.freeze()

    def check_prompt(
        self,
        prompt: str,
        *,
        user_id: str | None = None,
        subject_id: str | None = None,
        record: bool = True,
        audit_into: list[dict[str, Any]] | None = None,
        character_names: Collection[str] = (),
    ) -> Decision:
        """Screen one prompt and apply each matched entity's policy for this user.

        ``character_names``: names of the characters attached to the request (their use
        already allowed): in this prompt such a name stands for that character, not for
        someone else's person character of the same name (which still blocks when the
        prompt *describes* them).

        With ``audit_into``, an allow decision's audit row is added to that list for the
        caller to write in its own transaction (``AuditLog.append(session, ...)``)."""
        snap = self.snapshot()
        entities = snap.entities
        user = self._user(user_id)
        attached = {_plain(n) for n in character_names}
        named_away: set[str] = set()

        problems: dict[str, str | None] = {}

        def problem(entity_id: str) -> str | None:
            # Once per entity and prompt: a consent check is a database query.
            if entity_id not in problems:
                entity = entities[entity_id]
                if _is_character(entity) and _plain(entity.name) in attached:
                    named_away.add(entity_id)
                    problems[entity_id] = None
                else:
                    problems[entity_id] = self._policy_problem(entity, user, prompt)
            return problems[entity_id]

        matches = snap.find(prompt, enough=lambda m: problem(m.entity_id) is not None)
        for m in matches:
            if m.entity_id in named_away and m.method.startswith("description"):
                problems[m.entity_id] = self._policy_problem(entities[m.entity_id], user, prompt)
        hidden = self._hidden(user, {m.entity_id for m in matches} | _namesakes(matches, entities))
        decision = self._decide(prompt, matches, problem, entities, hidden)
        if decision.decision == "block":
            self._name_namesakes(decision, entities, problem, prompt, hidden)
        decision.registry_version, decision.screened_entities = snap.version, len(entities)
        if not entities:
            decision.note = EMPTY_NOTE
        if record:
            self._record("prompt", decision, user_id, subject_id, prompt_hash(prompt), audit_into)
        _hide(decision, hidden)  # after the audit row, which keeps the ids for their owners
        return decision

    def _hidden(self, user: UserRecord | None, ids: set[str]) -> set[str]:
        """Characters among ``ids`` that ``user`` may not see (none for the operator's CLI,
        which screens without a user)."""
        if user is None or not any(i.startswith("char_") for i in ids):
            return set()
        from mutoscope.characters.service import hidden_characters

        with self.sessions() as s:
            return hidden_characters(s, user, ids)

    def _decide(
        self,
        prompt: str,
        matches: list[Match],
        problem_of: Callable[[str], str | None],
        entities: dict[str, EntityRecord],
        hidden: Collection[str] = (),
    ) -> Decision:
        attributions = []
        for m in matches:
            entity = entities[m.entity_id]
            problem = problem_of(m.entity_id)
            if problem is not None:
                return Decision(
                    "block",
                    _reason(m, entity, problem, prompt, private=entity.id in hidden),
                    _entity_dict(entity),
                    _evidence(m),
                    [_evidence(x) for x in matches],
                    [],
                    prompt,
                    registry=entity.source,
                )
            if entity.policy == "license":
                attributions.append(
                    {
                        "entity_id": entity.id,
                        "name": entity.name,
                        "owner": entity.owner,
                        "attribution": (entity.license or {}).get("attribution", ""),
                    }
                )
        return Decision(
            "allow",
            "",
            None,
            None,
            [_evidence(x) for x in matches],
            attributions,
            prompt,
            registry=entities[matches[0].entity_id].source if matches else None,
        )

    def _name_namesakes(
        self,
        decision: Decision,
        entities: dict[str, EntityRecord],
        problem_of: Callable[[str], str | None],
        prompt: str,
        hidden: set[str],
    ) -> None:
        """A block on a character's name that other people's characters share asks which
        one the prompt means, naming them all (never only the one the index found first)."""
        blocked = entities.get((decision.entity or {}).get("id", ""))
        evidence = decision.evidence or {}
        if blocked is None or not _is_character(blocked):
            return
        if str(evidence.get("method", "")).startswith("description"):
            return
        key = _plain(blocked.name)
        namesakes = [e for e in entities.values() if _is_character(e) and _plain(e.name) == key]
        if len(namesakes) < 2:
            return
        from mutoscope.rights.messages import original_words

        said = original_words(prompt, str(evidence.get("text") or blocked.name))
        parts = []
        for e in namesakes:
            if e.id in hidden:
                continue  # never named: that it exists, and whose it is, is private
            # Only a character the caller may use is named by id.
            why = problem_of(e.id)
            if why is None:
                parts.append(f"{e.name} ({e.kind}, {e.owner}, {e.id}): you may use this one")
            else:
                parts.append(f"{e.name} ({e.kind}, {e.owner}): {why}")
        private = sum(e.id in hidden for e in namesakes)
        if private:
            some = f"{private} private character{'s' if private > 1 else ''}"
            parts.append(
                f"{'and ' if parts else ''}{some} whose owner{'s' if private > 1 else ''} "
                "did not give you permission"
            )
        decision.reason = (
            f"'{said}' names {len(namesakes)} characters of different people: "
            + "; ".join(parts)
            + ". Say which one you mean by attaching it to the video "
            '(characters: [{"id": "char_..."}]); one you may not use needs its owner\'s '
            "permission first."
        )

    def _policy_problem(
        self, entity: EntityRecord, user: UserRecord | None, prompt: str
    ) -> str | None:
        if user is not None and entity.subject_user_id == user.id:
            return None  # people may always use their own likeness
        if entity.policy == "block":
            return POLICY_REASON["block"]
        who = self._holders(user)
        if entity.policy == "license":
            lic = entity.license or {}
            if not who & set(lic.get("licensees", [])):
                return POLICY_REASON["license"]
            theme = _forbidden_theme(prompt, lic.get("forbidden_themes", []))
            if theme:
                return f"and its license forbids the theme '{theme}'"
            return None
        with self.sessions() as s:
            ok = user is not None and (
                s.connection().execute(_CONSENTED, {"entity": entity.id, "user": user.id}).first()
                is not None
            )
            if not ok and user is not None and entity.id.startswith("char_"):
                # A person character: its owner's permission tiers and approvals are the consent.
                from mutoscope.characters.service import may_use_id

                ok = bool(may_use_id(s, entity.id, user.id))
        return None if ok else POLICY_REASON["consent"]

    def _holders(self, user: UserRecord | None) -> set[str]:
        """The ids a licence may name for this user: theirs and their verified organisations'."""
        if user is None:
            return set()
        with self.sessions() as s:
            return {user.id, *verified_org_ids(s, user.id)}

    def _user(self, user_id: str | None) -> UserRecord | None:
        """The requesting user (by id; the CLI's ``--user`` may name them), cached for a second."""
        if user_id is None:
            return None
        hit = self._users.get(user_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.sessions() as s:
            row = s.get(UserRecord, user_id) or s.scalar(
                select(UserRecord).where(UserRecord.name == user_id)
            )
        # Unknown ids (CLI --user, tests) still count as that id.
        user = row or UserRecord(id=user_id, name=user_id)
        self._users[user_id] = (time.monotonic() + 1.0, user)
        return user

    # ------------------------------------------------------------------ seam
    def screen_request(self, request: ScreenRequest) -> Screening:
        pending: list[dict[str, Any]] | None = [] if request.defer_audit else None
        decision = self.check_prompt(
            request.prompt,
            user_id=request.user_id,
            subject_id=request.video_id,
            audit_into=pending,
            character_names=request.character_names,
        )
        if decision.decision == "block":
            from mutoscope.rights.messages import blocked_message

            raise PromptRejected(blocked_message(decision), param="prompt", decision=decision)
        attributions = list(decision.attributions)
        if request.image is not None:
            ref = self._check_media(
                hash_image(request.image), None, request, "input_reference", pending
            )
            attributions += ref.attributions
        if request.source_video_id is not None:
            path = self.files.path(request.source_video_id, "video")
            if path.is_file():
                from mutoscope.media.video import decode_sampled
                from mutoscope.rights.hashing import MAX_SAMPLES

                # Only the frames hash_frames samples are kept while decoding (bounded memory).
                frames = decode_sampled(path, MAX_SAMPLES)
                ref = self._check_media(
                    hash_frames(frames),
                    hash_frames(frames, flip=True),
                    request,
                    "video_id",
                    pending,
                )
                attributions += ref.attributions
        screening = Screening(attributions=_unique(attributions))
        if pending is not None:
            screening.record = lambda session: self._write_audit(session, pending)
        return screening

    def _write_audit(self, session: Session, pending: list[dict[str, Any]]) -> None:
        for values in pending:
            self.audit.append(session, **values)

    def _check_media(
        self,
        fh: FrameHashes,
        flipped: FrameHashes | None,
        request: ScreenRequest,
        param: str,
        pending: list[dict[str, Any]] | None = None,
    ) -> Decision:
        decision = self._media_decision(fh, flipped, request.user_id, "reference")
        self._record(
            "reference",
            decision,
            request.user_id,
            request.video_id,
            prompt_hash(request.prompt),
            pending,
        )
        if decision.decision == "block":
            raise PromptRejected(decision.reason, param=param, decision=decision)
        return decision

    def check_output(self, *, video_id: str, user_id: str, frames: np.ndarray) -> None:
        decision = self._media_decision(*hash_frames_and_mirror(frames), user_id, "output")
        self._record("output", decision, user_id, video_id, None)
        if decision.decision == "block":
            raise OutputBlocked(decision.reason, evidence=decision.evidence)

    def _media_decision(
        self, fh: FrameHashes, flipped: FrameHashes | None, user_id: str | None, what: str
    ) -> Decision:
        usable = int((fh.quality >= MIN_QUALITY).sum())
        # Flat graphics (logos, test patterns) have low PDQ quality; with no better frame
        # they are still compared, since unrelated flat clips sit far apart (≈125 bits).
        matches = self.references().match(
            fh, flipped=flipped, min_quality=MIN_QUALITY if usable else 0
        )
        if not matches:
            return Decision("allow", evidence={"usable_frames": usable})
        user = self._user(user_id)
        attributions = []
        for cm in matches:
            entity_id, path = cm.key.split("|", 1)
            entity = self._entities.get(entity_id) or self.get_entity(entity_id)
            evidence = {
                "reference": path,
                "method": "pdq",
                "distance": round(cm.distance, 2),
                "matched_fraction": round(cm.matched_fraction, 3),
                "matched_frames": cm.matched_frames,
                "query_frames": cm.query_frames,
                "entity_id": entity_id,
            }
            problem = self._policy_problem(entity, user, "")
            if problem is not None:
                noun = "This video" if what == "output" else "The reference"
                reason = (
                    f"{noun} matches a registered reference of {entity.name} ({entity.kind}, "
                    f"{entity.owner}), {problem}: {cm.matched_frames} of {cm.query_frames} frames "
                    f"within PDQ distance {cm.distance:.0f}."
                )
                return Decision("block", reason, _entity_dict(entity), evidence, [evidence])
            if entity.policy == "license":
                attributions.append(
                    {
                        "entity_id": entity.id,
                        "name": entity.name,
                        "owner": entity.owner,
                        "attribution": (entity.license or {}).get("attribution", ""),
                    }
                )
        return Decision(
            "allow", matches=[{"key": m.key} for m in matches], attributions=attributions
        )

    def references(self) -> HashIndex:
        """The registered references' frame hashes, reloaded when the registry changes.

        A process that screens prompts takes the registry version from its screener; one that
        only checks outputs (a worker) reads the version itself, at most every ``live.POLL_S``
        seconds, and so never builds prompt indexes it has no use for (≈0.7 s of CPU and
        their memory per worker with the starter registry; more with a large one)."""
        version = self.snapshot().version if self._snapshot is not None else self._version()
        with self._lock:
            if self._references is None or self._references[0] != version:
                self._references = (version, self._load_index("reference"))
            return self._references[1]

    def _version(self) -> int:
        read = self._version_read
        if read is None or time.monotonic() - read[0] >= live.POLL_S:
            with self.sessions() as s:
                read = self._version_read = (time.monotonic(), live.current(s))
        return read[1]

    def _load_index(self, source: str) -> HashIndex:
        index = HashIndex()
        with self.sessions() as s:
            rows = s.execute(
                select(
                    FrameHashRecord.entity_id,
                    FrameHashRecord.path,
                    FrameHashRecord.video_id,
                    FrameHashRecord.hash,
                ).where(FrameHashRecord.source == source)
            ).all()
        groups: dict[str, list[bytes]] = {}
        for entity_id, path, video_id, h in rows:
            key = f"{entity_id}|{path}" if source == "reference" else str(video_id)
            groups.setdefault(key, []).append(h)
        for key, hs in groups.items():
            index.add(key, np.frombuffer(b"".join(hs), dtype=np.uint8).reshape(-1, 32))
        return index

    # ------------------------------------------------------------------ our outputs
    def outputs(self) -> HashIndex:
        with self._lock:
            if self._outputs is None:
                self._outputs = self._load_index("output")
            return self._outputs

    def index_output(self, *, video_id: str, frames: np.ndarray) -> None:
        # These are the published (watermarked) frames, hashed anew: the watermark moves
        # PDQ hashes of smooth footage by tens of bits, so the output check's hashes of the
        # unmarked frames would not stand in for them.
        fh = hash_frames(frames)
        with self.sessions() as s:
            s.execute(
                delete(FrameHashRecord).where(
                    FrameHashRecord.source == "output", FrameHashRecord.video_id == video_id
                )
            )
            s.execute(  # one multi-row INSERT, not one ORM object per frame
                insert(FrameHashRecord),
                [
                    {
                        "source": "output",
                        "video_id": video_id,
                        "frame_index": int(i),
                        "hash": h.tobytes(),
                        "quality": int(q),
                    }
                    for h, q, i in zip(fh.hashes, fh.quality, fh.frame_index, strict=True)
                ],
            )
            s.commit()
        with self._lock:
            index = self._outputs
        if index is None:
            # Not loaded in this process (a CLI command): the rows above are what the first
            # ``outputs()`` reads, so there is nothing to update, and loading every earlier
            # output's hashes (and FAISS) only to add these would grow with the library.
            return
        index.remove(video_id)
        index.add(video_id, fh.hashes)

    def match_outputs(self, frames: np.ndarray) -> list[OutputMatch]:
        """Our own earlier outputs this clip copies (for verify when credentials are gone)."""
        fh, flipped = hash_frames_and_mirror(frames)
        index = self.outputs()
        if (fh.quality >= MIN_QUALITY).any():
            found: list[ClipMatch] = index.match(fh, flipped=flipped)
        else:
            # Flat, synthetic-looking clips (PDQ quality below 50): their hashes move more
            # under re-encoding (≈30 bits for a flat test pattern) but still sit ≈125 bits
            # from unrelated clips, so they are searched with a lower matched share.
            found = index.match(fh, flipped=flipped, min_quality=0, fraction=LOW_QUALITY_FRACTION)
        return [OutputMatch(m.key, m.distance, m.matched_fraction) for m in found]

    # ------------------------------------------------------------------ audit
    def _record(
        self,
        check: str,
        decision: Decision,
        user_id: str | None,
        subject_id: str | None,
        phash: str | None,
        pending: list[dict[str, Any]] | None = None,
    ) -> None:
        """Append the decision to the audit log, or (an allow, with ``pending``) leave its
        row to the caller's transaction. A block is written now, after the allows before
        it, since no transaction of the caller's will commit it."""
        ev = decision.evidence or {}
        # An allowed prompt that matched an entity (a licensee's, a consenting person's) is
        # recorded against that entity too, so its owner sees every use of it.
        top = next((m for m in decision.matches if m.get("entity_id")), None)
        entity_id = (decision.entity or {}).get("id") or (top or {}).get("entity_id")
        values: dict[str, Any] = {
            "user_id": user_id,
            "subject_id": subject_id,
            "check": check,
            "prompt_hash": phash,
            "decision": decision.decision,
            "entity_id": entity_id,
            "method": ev.get("method", (top or {}).get("method")),
            "score": ev.get("score", ev.get("distance", (top or {}).get("score"))),
            "evidence": {
                "evidence": ev,
                "matches": decision.matches[:5],
                "reason": decision.reason,
                "registry": decision.registry,
            },
        }
        if pending is not None and decision.decision != "block":
            pending.append(values)
            return
        for earlier in pending or []:
            self.audit.append(**earlier)
        if pending:
            pending.clear()
        self.audit.append(**values)


def _file_store(settings: Settings) -> LocalFileStore:
    from mutoscope.storage.files import LocalFileStore

    return LocalFileStore(settings.media_dir)


def _thread(name: str, work: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except Exception:
            log.exception("refreshing the rights index (%s) failed; keeping the previous", name)

    thread = threading.Thread(target=run, name=f"mutoscope-rights-{name}", daemon=True)
    thread.start()
    return thread


def _single_threaded_blas() -> None:
    """Screening's matrix products are small: OpenBLAS's thread pool makes them 20x slower
    on a busy machine (threads spin waiting for cores), so numpy BLAS runs on one thread."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _hash_reference(ref: str) -> FrameHashes:
    path = Path(ref)
    if not path.is_file():
        raise InvalidRequest(
            f"reference file not found: {ref} (paths are relative to the registry file)",
            param="references",
        )
    try:
        return hash_file(path)
    except Exception as exc:
        raise InvalidRequest(
            f"reference {ref} could not be read as an image or video: {exc}", param="references"
        ) from exc


def _entity_dict(e: EntityRecord) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "kind": e.kind,
        "owner": e.owner,
        "policy": e.policy,
        "source": e.source,
    }


def _namesakes(matches: list[Match], entities: dict[str, EntityRecord]) -> set[str]:
    """Ids of the characters that share a name with a matched character."""
    keys = {
        _plain(entities[m.entity_id].name) for m in matches if _is_character(entities[m.entity_id])
    }
    if not keys:
        return set()
    return {e.id for e in entities.values() if _is_character(e) and _plain(e.name) in keys}


def _hide(decision: Decision, hidden: set[str]) -> None:
    """Drop the ids and owners of characters the caller may not see from what they are
    shown: the block (and its reason) stands, the private character stays unnamed."""
    if not hidden:
        return
    entity = decision.entity
    if entity is not None and entity.get("id") in hidden:
        decision.entity = {**entity, "id": None, "owner": None, "private": True}
    for item in [decision.evidence, *decision.matches]:
        if item is not None and item.get("entity_id") in hidden:
            item["entity_id"] = None
            item["private"] = True


def _evidence(m: Match) -> dict[str, Any]:
    return {
        "entity_id": m.entity_id,
        "span": list(m.span),
        "text": m.text,
        "method": m.method,
        "score": m.score,
        **m.details,
    }


def _reason(
    m: Match, e: EntityRecord, problem: str, prompt: str = "", *, private: bool = False
) -> str:
    from mutoscope.rights.messages import original_words

    who = f"a private {e.kind} character" if private else f"{e.name} ({e.kind}, {e.owner})"
    said = original_words(prompt, m.text) if prompt else m.text  # the user's own words
    if m.method.startswith("description"):
        return f"'{said}' describes {who}, {problem}. Describe an original subject instead."
    if m.method == "exact" and _plain(m.text) == _plain(m.details.get("alias") or ""):
        return f"'{said}' names {who}, {problem}."
    return f"'{said}' looks like {who}, {problem}."


def _is_character(entity: EntityRecord) -> bool:
    """A person character registered by its owner (``characters`` keeps these entities)."""
    return entity.id.startswith("char_")


def _plain(text: str) -> str:
    return re.sub(r"\W", "", text.lower())


def _forbidden_theme(prompt: str, themes: list[str]) -> str | None:
    ws = [w.text for w in words(prompt)]
    for theme in themes:
        stem = re.sub(r"[^a-z]", "", theme.lower())[:5]
        if stem and any(w.startswith(stem) for w in ws):
            return theme
    return None


def _unique(items: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for item in items:
        if item["entity_id"] not in seen:
            seen.add(item["entity_id"])
            out.append(item)
    return out
