"""``CharacterService``: the consent model for characters, in one place.

A character belongs to the account that uploaded its video. Its owner picks who may use it
(a tier), answers access requests, sets text rules, and may revoke it at any time: queued
videos that use it then fail with ``character_revoked`` and published ones leave the feed.
The owner of a character co-owns every video that uses it (the Cameos page). A person
character is also a rights entity (policy ``consent``), so prompts that name or describe the
person are screened by the rights layer for everyone the owner has not allowed.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mutoscope.characters import look, rules, social
from mutoscope.characters.records import (
    APPROVED,
    DENIED,
    KINDS,
    PENDING,
    TIER_LABELS,
    TIERS,
    CharacterAccessRecord,
    CharacterRecord,
    VideoCharacterRecord,
)
from mutoscope.errors import (
    CharacterRevoked,
    Forbidden,
    InvalidRequest,
    NotFound,
    PromptRejected,
    VideoNotFound,
)
from mutoscope.storage.records import UserRecord, VideoRecord, new_id, now

if TYPE_CHECKING:
    from mutoscope.services import Services

log = logging.getLogger(__name__)
MAX_NAME = 80
MAX_RULES = 10
MAX_RULE = 200
MAX_DESCRIPTION = 1000
HANDLE = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.]{1,29})")


class CharacterNotFound(NotFound):
    def __init__(self, character_id: str, *, param: str = "character_id"):
        super().__init__(f"No character found with id '{character_id[:80]}'.", param=param)


@dataclass(frozen=True)
class Use:
    """A character a new video uses, and how its prompt names it."""

    character: CharacterRecord
    mention: str


@dataclass(frozen=True)
class Cameo:
    """A video that uses one of the viewer's characters (the viewer co-owns it)."""

    video: VideoRecord
    character: CharacterRecord
    creator: str
    removed: bool


@dataclass(frozen=True)
class CharacterPage:
    data: list[CharacterRecord]
    has_more: bool


class CharacterService:
    def __init__(self, services: Services):
        self.services = services
        self.sessions = services.sessions

    # -- create ---------------------------------------------------------------------------
    def create(
        self,
        user: UserRecord,
        name: str,
        video: bytes,
        *,
        kind: str = "person",
        tier: str = "only_me",
        description: str = "",
        rules_text: str | list[str] = "",
    ) -> CharacterRecord:
        """Check the fields, read the video (2-10 s), store its reference frames."""
        # 1. Validate the fields before decoding anything
        name = check_name(name)
        kind, tier = check_kind(kind), check_tier(tier)
        description = check_description(description)
        rule_list = check_rules(rules_text)
        self._refuse_protected_name(user, name)
        # 2. Decode the clip, keep reference frames, read its look
        clip = look.read_character_video(video)
        character_id = new_id("char")
        # 3. Store the frames and the row
        files = self.services.files
        files.put_bytes(character_id, "frames", look.strip(clip.frames))
        files.put_bytes(character_id, "reference", _png(clip.frames[0]))
        record = CharacterRecord(
            id=character_id,
            owner_id=user.id,
            name=name,
            kind=kind,
            tier=tier,
            description=description,
            rules=rule_list,
            look=clip.look,
            frame_count=len(clip.frames),
            duration=round(clip.duration, 3),
            created_at=now(),
        )
        with self.sessions.begin() as s:
            s.add(record)
        self._sync_entity(record, user)
        return record

    # -- read -----------------------------------------------------------------------------
    def get(self, user: UserRecord, character_id: str) -> CharacterRecord:
        """A character the user may see: their own, or another's that is not ``only_me``."""
        with self.sessions() as s:
            row = s.get(CharacterRecord, character_id)
        if row is None or row.deleted_at is not None:
            raise CharacterNotFound(character_id)
        if row.owner_id != user.id and row.tier == "only_me":
            raise CharacterNotFound(character_id)
        return row

    def owned(self, user: UserRecord, character_id: str) -> CharacterRecord:
        """The user's own character (``Forbidden`` for another's they can see)."""
        row = self.get(user, character_id)
        if row.owner_id != user.id:
            raise Forbidden(
                f"character '{character_id}' belongs to another account; only its owner may "
                "change, revoke or delete it",
                param="character_id",
            )
        return row

    def page(
        self,
        user: UserRecord,
        *,
        scope: Literal["mine", "available", "all"] = "mine",
        after: str | None = None,
        limit: int = 20,
    ) -> CharacterPage:
        """``mine``: the user's own; ``available``: every character they may use now;
        ``all``: theirs and every other one they can see (to request access)."""
        q = select(CharacterRecord).where(CharacterRecord.deleted_at.is_(None))
        if scope == "mine":
            q = q.where(CharacterRecord.owner_id == user.id)
        else:
            q = q.where((CharacterRecord.owner_id == user.id) | (CharacterRecord.tier != "only_me"))
        if after:
            q = q.where(CharacterRecord.id < after)
        q = q.order_by(CharacterRecord.id.desc())
        with self.sessions() as s:
            if scope != "available":
                rows = list(s.scalars(q.limit(limit + 1)))
                return CharacterPage(rows[:limit], len(rows) > limit)
            rows = [c for c in s.scalars(q) if may_use(s, c, user.id)]
        return CharacterPage(rows[:limit], len(rows) > limit)

    def offered_by(self, owner_id: str) -> list[CharacterRecord]:
        """Characters ``owner_id`` offers to others (for their profile page)."""
        return offered_by(self.sessions, owner_id)

    def access_status(self, user: UserRecord | None, character: CharacterRecord) -> str:
        """``owner`` | ``allowed`` | ``pending`` | ``denied`` | ``revoked`` | ``none``."""
        if user is None:
            return "none"
        if character.owner_id == user.id:
            return "owner"
        if character.revoked_at is not None:
            return "revoked"
        with self.sessions() as s:
            if may_use(s, character, user.id):
                return "allowed"
            row = _access(s, character.id, user.id)
        return row.status if row is not None else "none"

    # -- change ---------------------------------------------------------------------------
    def update(
        self,
        user: UserRecord,
        character_id: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        tier: str | None = None,
        description: str | None = None,
        rules_text: str | list[str] | None = None,
    ) -> CharacterRecord:
        before = self.owned(user, character_id)
        if name is not None:
            name = check_name(name)
            if _plain_name(name) != _plain_name(before.name):
                self._refuse_protected_name(user, name)
        with self.sessions.begin() as s:
            row = s.get(CharacterRecord, character_id)
            assert row is not None
            if name is not None:
                row.name = name
            if kind is not None:
                row.kind = check_kind(kind)
            if tier is not None:
                row.tier = check_tier(tier)
            if description is not None:
                row.description = check_description(description)
            if rules_text is not None:
                row.rules = check_rules(rules_text)
            s.flush()
            s.expunge(row)
        self._sync_entity(row, user)
        return row

    def revoke(self, user: UserRecord, character_id: str) -> CharacterRecord:
        """Withdraw the character: nobody may use it; queued videos that use it fail with
        ``character_revoked`` when a worker reaches them, published ones leave the feed."""
        self.owned(user, character_id)
        with self.sessions.begin() as s:
            row = s.get(CharacterRecord, character_id)
            assert row is not None
            row.revoked_at = row.revoked_at or now()
            _unpublish_users_of(s, character_id)
            s.flush()
            s.expunge(row)
        self._sync_entity(row, user)
        return row

    def restore(self, user: UserRecord, character_id: str) -> CharacterRecord:
        """Allow use again (videos that left the feed stay unpublished until their creators
        publish them again)."""
        self.owned(user, character_id)
        with self.sessions.begin() as s:
            row = s.get(CharacterRecord, character_id)
            assert row is not None
            row.revoked_at = None
            s.flush()
            s.expunge(row)
        self._sync_entity(row, user)
        return row

    def delete(self, user: UserRecord, character_id: str) -> None:
        """Revoke for good and remove the frames (the videos that used it keep existing)."""
        self.owned(user, character_id)
        with self.sessions.begin() as s:
            row = s.get(CharacterRecord, character_id)
            assert row is not None
            row.revoked_at = row.revoked_at or now()
            row.deleted_at = now()
            _unpublish_users_of(s, character_id)
        self.services.files.delete(character_id)
        self._drop_entity(character_id)

    # -- access requests ------------------------------------------------------------------
    def request_access(self, user: UserRecord, character_id: str, note: str = "") -> str:
        """Ask the owner for permission; returns the access status afterwards."""
        character = self.get(user, character_id)
        status = self.access_status(user, character)
        if status in ("owner", "allowed"):
            return status
        if status == "revoked":
            raise CharacterRevoked(
                f"character '{character.name}' was withdrawn by its owner; it cannot be "
                "requested now",
                param="character_id",
            )
        with self.sessions.begin() as s:
            row = _access(s, character_id, user.id)
            if row is None:
                row = CharacterAccessRecord(
                    id=new_id("charreq"),
                    character_id=character_id,
                    user_id=user.id,
                    status=PENDING,
                    note=note[:500],
                    created_at=now(),
                )
                s.add(row)
            elif row.status == DENIED:
                row.status, row.note, row.decided_at = PENDING, note[:500], None
            social.notify(
                s,
                character.owner_id,
                "character_requested",
                character_id=character.id,
                character_name=character.name,
                actor_id=user.id,
            )
        return PENDING

    def pending_requests(self, owner: UserRecord) -> list[tuple[CharacterAccessRecord, str, str]]:
        """(request, requester name, character name) for the owner's pending requests."""
        with self.sessions() as s:
            rows = s.execute(
                select(CharacterAccessRecord, UserRecord.name, CharacterRecord.name)
                .join(CharacterRecord, CharacterRecord.id == CharacterAccessRecord.character_id)
                .join(UserRecord, UserRecord.id == CharacterAccessRecord.user_id)
                .where(
                    CharacterRecord.owner_id == owner.id,
                    CharacterRecord.deleted_at.is_(None),
                    CharacterAccessRecord.status == PENDING,
                )
                .order_by(CharacterAccessRecord.created_at)
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def approved_users(self, character: CharacterRecord) -> list[str]:
        with self.sessions() as s:
            q = (
                select(UserRecord.name)
                .join(CharacterAccessRecord, CharacterAccessRecord.user_id == UserRecord.id)
                .where(
                    CharacterAccessRecord.character_id == character.id,
                    CharacterAccessRecord.status == APPROVED,
                )
            )
            return list(s.scalars(q))

    def decide(self, owner: UserRecord, character_id: str, user_id: str, approve: bool) -> None:
        """Approve or deny a request (approving also works without one: an invitation);
        denying an approved user withdraws their permission."""
        character = self.owned(owner, character_id)
        with self.sessions.begin() as s:
            row = _access(s, character_id, user_id)
            if row is None:
                if s.get(UserRecord, user_id) is None:
                    raise NotFound(f"No user with id '{user_id[:80]}'.", param="user_id")
                row = CharacterAccessRecord(
                    id=new_id("charreq"),
                    character_id=character_id,
                    user_id=user_id,
                    note="",
                    created_at=now(),
                )
                s.add(row)
            row.status, row.decided_at = (APPROVED if approve else DENIED), now()
            social.notify(
                s,
                user_id,
                "character_request_decided",
                actor_id=owner.id,
                character_id=character.id,
                character_name=character.name,
                approved=approve,
                text=(
                    "approved your request to use their character"
                    if approve
                    else "turned down your request to use their character"
                ),
            )

    # -- use in videos --------------------------------------------------------------------
    def resolve(self, user: UserRecord, refs: list[str], prompt: str) -> list[Use]:
        """The characters a new video uses: ``refs`` (ids) plus ``@handle`` mentions.

        Each must exist, be usable by ``user`` (403 otherwise), be named in the prompt, and
        the prompt must keep to its owner's rules; at most ``max_characters_per_video``.
        """
        limit = self.services.settings.max_characters_per_video
        uses: list[Use] = []
        handles = dict.fromkeys(HANDLE.findall(prompt))
        mentioned: list[tuple[str, CharacterRecord]] = []
        if handles:
            # Looking a handle up may create the profile it belongs to: its own transaction.
            with self.sessions.begin() as s:
                for handle in handles:
                    found = _handle_character(s, handle)
                    if found is not None:
                        mentioned.append((handle, found))
                s.expunge_all()
        with self.sessions() as s:
            for ref in dict.fromkeys(refs):
                row = s.get(CharacterRecord, ref)
                if row is None or row.deleted_at is not None:
                    raise CharacterNotFound(ref, param="characters")
                if row.owner_id != user.id and row.tier == "only_me":
                    raise CharacterNotFound(ref, param="characters")
                uses.append(Use(row, _mention(row.name, prompt)))
            for handle, found in mentioned:
                if all(u.character.id != found.id for u in uses):
                    uses.append(Use(found, f"@{handle}"))
            if len(uses) > limit:
                raise InvalidRequest(
                    f"a video may use at most {limit} characters (got {len(uses)}); "
                    "MUTOSCOPE_MAX_CHARACTERS_PER_VIDEO sets the limit",
                    param="characters",
                )
            for use in uses:
                self._check_use(s, user, use, prompt)
        return uses

    def _check_use(self, s: Session, user: UserRecord, use: Use, prompt: str) -> None:
        c = use.character
        if not use.mention:
            raise InvalidRequest(
                f"mention the character by name in the prompt: '{c.name}' does not appear in it "
                f'(for example "{c.name} waves at the camera")',
                param="prompt",
            )
        if c.revoked_at is not None:
            raise CharacterRevoked(
                f"character '{c.name}' ({c.id}) was withdrawn by its owner and cannot be used",
                param="characters",
            )
        if not may_use(s, c, user.id):
            raise Forbidden(
                f"you may not use character '{c.name}' ({c.id}): its owner allows "
                f"{_who(c.tier)}. Ask for access (POST /v1/videos/characters/{c.id}/requests "
                "or the Characters page in the studio) and use it once they approve",
                param="characters",
                code="character_permission_denied",
            )
        broken = rules.check(prompt, list(c.rules or []), self._encoder(), mention=use.mention)
        if broken is not None:
            raise PromptRejected(
                f"character '{c.name}' may not be used this way: its owner's rule "
                f"'{broken.rule}' forbids it ({broken.why}). Change the prompt",
                param="prompt",
            )

    def _encoder(self) -> Any:
        return getattr(self.services.rights, "encoder", None)

    def attach(self, s: Session, video_id: str, uses: list[Use], creator: UserRecord) -> None:
        """Record the uses in the video's transaction (owners hear of a use when the video
        is made: ``notify_uses``)."""
        for use in uses:
            c = use.character
            s.add(
                VideoCharacterRecord(
                    video_id=video_id,
                    character_id=c.id,
                    character_owner_id=c.owner_id,
                    mention=use.mention[:120],
                )
            )

    def references(self, video_id: str) -> tuple[tuple[Image.Image, ...], tuple[str, ...]]:
        """Reference frames for a video's characters (first frame of each first, then the
        rest) and how its prompt names each of them, in the same order."""
        with self.sessions() as s:
            rows = s.execute(
                select(VideoCharacterRecord, CharacterRecord)
                .join(CharacterRecord, CharacterRecord.id == VideoCharacterRecord.character_id)
                .where(VideoCharacterRecord.video_id == video_id)
                .order_by(VideoCharacterRecord.mention)
            ).all()
        images: list[Image.Image] = []
        names: list[str] = []
        for use, character in rows:
            data = b"".join(self.services.files.iter_bytes(character.id, "frames"))
            frames = look.unstrip(data, character.frame_count)
            images.extend(frames)
            names.extend([use.mention] * len(frames))
        return tuple(images), tuple(names)

    def used_by(self, video_id: str) -> list[dict[str, str]]:
        """``[{"id", "name", "kind", "owner"}]`` for a video's characters (C2PA, the API)."""
        return used_by(self.sessions, video_id)

    # -- cameos: co-ownership -------------------------------------------------------------
    def cameos(self, owner: UserRecord) -> list[Cameo]:
        """Every video (drafts included) that uses one of ``owner``'s characters, made by
        anyone; newest first."""
        with self.sessions() as s:
            rows = s.execute(
                select(VideoRecord, CharacterRecord, UserRecord.name, VideoCharacterRecord)
                .join(VideoCharacterRecord, VideoCharacterRecord.video_id == VideoRecord.id)
                .join(CharacterRecord, CharacterRecord.id == VideoCharacterRecord.character_id)
                .join(UserRecord, UserRecord.id == VideoRecord.owner_id)
                .where(VideoCharacterRecord.character_owner_id == owner.id)
                .order_by(VideoRecord.id.desc())
                .limit(500)
            ).all()
        return [Cameo(v, c, name, use.removed_at is not None) for v, c, name, use in rows]

    def _co_owned(self, owner: UserRecord, video_id: str) -> VideoRecord:
        with self.sessions() as s:
            video = s.get(VideoRecord, video_id)
            uses = s.scalar(
                select(VideoCharacterRecord.video_id).where(
                    VideoCharacterRecord.video_id == video_id,
                    VideoCharacterRecord.character_owner_id == owner.id,
                )
            )
        if video is None or uses is None:
            raise VideoNotFound(video_id)
        return video

    def remove_from_feed(self, owner: UserRecord, video_id: str) -> None:
        """Unpublish a video that uses the owner's character; it cannot be published again."""
        video = self._co_owned(owner, video_id)
        with self.sessions.begin() as s:
            s.execute(
                update(VideoCharacterRecord)
                .where(
                    VideoCharacterRecord.video_id == video_id,
                    VideoCharacterRecord.character_owner_id == owner.id,
                )
                .values(removed_at=now())
            )
            s.execute(
                update(VideoRecord).where(VideoRecord.id == video_id).values(published_at=None)
            )
            if video.owner_id != owner.id:
                social.notify(
                    s, video.owner_id, "video_removed", video_id=video_id, actor_id=owner.id
                )

    def delete_video(self, owner: UserRecord, video_id: str) -> None:
        """Delete a video that uses the owner's character (as its creator could)."""
        video = self._co_owned(owner, video_id)
        creator = UserRecord(id=video.owner_id, name="")
        with self.sessions.begin() as s:
            if video.owner_id != owner.id:
                social.notify(
                    s, video.owner_id, "video_removed", video_id=video_id, actor_id=owner.id
                )
        from mutoscope.videos import VideoService

        VideoService(self.services).delete(creator, video_id)

    # -- rights ---------------------------------------------------------------------------
    def _sync_entity(self, character: CharacterRecord, owner: UserRecord) -> None:
        """A person character is a rights entity (policy ``consent``, the owner's likeness):
        prompts that name or describe the person are screened for everyone else."""
        importer = getattr(self.services.rights, "import_specs", None)
        if importer is None:
            return
        if character.kind != "person" or character.deleted_at is not None:
            self._drop_entity(character.id)
            return
        from mutoscope.rights.registry import EntitySpec

        spec = EntitySpec(
            id=character.id,
            name=character.name,
            kind="person",
            owner=self._owner_label(owner),
            subject_user_id=owner.id,
            description=character.description,
            policy="consent",
        )
        importer([spec], owner_user_id=owner.id)

    def _owner_label(self, owner: UserRecord) -> str:
        with self.sessions.begin() as s:  # may create the owner's profile (their handle)
            return owner_label(s, owner)

    def _refuse_protected_name(self, user: UserRecord, name: str) -> None:
        """A character named after a protected entity (``Mickey Mouse``, a real person in the
        registry) could never be used: every prompt naming it would be refused. Refuse it
        now, unless ``user`` holds that entity's licence or consent. Other people's
        characters of the same name do not count (names are told apart by owner)."""
        check = getattr(self.services.rights, "check_prompt", None)
        if check is None:
            return
        decision = check(name, user_id=user.id, record=False, character_names=(name,))
        if decision.decision != "block":
            return
        evidence = decision.evidence or {}
        if str(evidence.get("method", "")).startswith("description"):
            return  # a name that merely evokes a description is not that entity's name
        raise InvalidRequest(
            f"name '{name}' cannot be a character's name: {decision.reason} Every video "
            "that used it would be refused. Choose an original name (or, if you hold the "
            "licence or the person's consent, ask the operator to record it)",
            param="name",
            code="protected_name",
        )

    def _drop_entity(self, character_id: str) -> None:
        remove = getattr(self.services.rights, "remove_entity", None)
        if remove is None:
            return
        with contextlib.suppress(NotFound):
            remove(character_id)


# -- permission, shared with the rights layer and the worker ---------------------------------


def may_use(s: Session, character: CharacterRecord, user_id: str) -> bool:
    """Whether ``user_id`` may use ``character`` now (its tier and their access)."""
    if character.deleted_at is not None or character.revoked_at is not None:
        return False
    if character.owner_id == user_id:
        return True
    row = _access(s, character.id, user_id)
    if row is not None and row.status == DENIED:
        return False  # a denied (or withdrawn) user stays out, whatever the tier
    if character.tier == "everyone":
        return True
    if character.tier == "mutual" and social.is_mutual_follow(s, character.owner_id, user_id):
        return True
    return character.tier != "only_me" and row is not None and row.status == APPROVED


def hidden_characters(
    s: Session, viewer: UserRecord | None, entity_ids: Collection[str]
) -> set[str]:
    """Those of ``entity_ids`` that are characters ``viewer`` may not see: another
    person's ``only_me`` (or deleted) character. The registry neither lists these for
    ``viewer`` nor names them, their ids or their owners (their likeness still blocks).
    Admins see them all (they manage the registry)."""
    ids = [i for i in entity_ids if i.startswith("char_")]
    if not ids or (viewer is not None and viewer.is_admin):
        return set()
    viewer_id = viewer.id if viewer is not None else None
    c = CharacterRecord.__table__.c
    rows = s.execute(select(c.id, c.owner_id, c.tier, c.deleted_at).where(c.id.in_(ids))).all()
    return {
        cid
        for cid, owner_id, tier, deleted_at in rows
        if owner_id != viewer_id and (tier == "only_me" or deleted_at is not None)
    }


def usable_names(sessions: Any, user_id: str, character_ids: list[str]) -> tuple[str, ...]:
    """Names of those of ``character_ids`` that ``user_id`` may use now: what a prompt's
    names stand for when they are attached (the studio's rights preview)."""
    if not character_ids:
        return ()
    with sessions() as s:
        rows = s.scalars(select(CharacterRecord).where(CharacterRecord.id.in_(character_ids)))
        return tuple(c.name for c in rows if may_use(s, c, user_id))


def may_use_id(s: Session, character_id: str, user_id: str) -> bool | None:
    """``may_use`` by id; ``None`` when ``character_id`` is not a character."""
    character = s.get(CharacterRecord, character_id)
    return None if character is None else may_use(s, character, user_id)


def check_video_characters(s: Session, video: VideoRecord) -> None:
    """Raise ``CharacterRevoked`` when a character the video uses was revoked or deleted, or
    its creator may no longer use it (the worker calls this before generating)."""
    rows = s.execute(
        select(CharacterRecord)
        .join(VideoCharacterRecord, VideoCharacterRecord.character_id == CharacterRecord.id)
        .where(VideoCharacterRecord.video_id == video.id)
    ).scalars()
    for c in rows:
        if not may_use(s, c, video.owner_id):
            why = (
                "withdrew it" if c.revoked_at or c.deleted_at else "no longer allows you to use it"
            )
            raise CharacterRevoked(
                f"character '{c.name}' ({c.id}) can no longer be used: its owner {why}, so "
                "this video was not made",
                param="characters",
            )


def notify_uses(s: Session, video: VideoRecord) -> None:
    """Tell each character's owner that someone else made a video with it. The worker calls
    this in the transaction that completes the video: a job that failed (a character
    revoked meanwhile, a blocked output) used nobody's likeness, so nobody is told."""
    rows = s.execute(
        select(CharacterRecord.id, CharacterRecord.name, CharacterRecord.owner_id)
        .join(VideoCharacterRecord, VideoCharacterRecord.character_id == CharacterRecord.id)
        .where(VideoCharacterRecord.video_id == video.id)
    ).all()
    for character_id, name, owner_id in rows:
        if owner_id != video.owner_id:
            social.notify(
                s,
                owner_id,
                "character_used",
                character_id=character_id,
                character_name=name,
                video_id=video.id,
                actor_id=video.owner_id,
            )


def used_by(sessions: Any, video_id: str) -> list[dict[str, str]]:
    with sessions() as s:
        rows = s.execute(
            select(CharacterRecord, UserRecord.name)
            .join(VideoCharacterRecord, VideoCharacterRecord.character_id == CharacterRecord.id)
            .join(UserRecord, UserRecord.id == CharacterRecord.owner_id)
            .where(VideoCharacterRecord.video_id == video_id)
            .order_by(CharacterRecord.id)
        ).all()
    return [{"id": c.id, "name": c.name, "kind": c.kind, "owner": owner} for c, owner in rows]


def offered_by(sessions: Any, owner_id: str) -> list[CharacterRecord]:
    """Characters ``owner_id`` offers to others (not ``only_me``, not revoked): the profile
    page's "characters offered" section."""
    with sessions() as s:
        return list(
            s.scalars(
                select(CharacterRecord)
                .where(
                    CharacterRecord.owner_id == owner_id,
                    CharacterRecord.tier != "only_me",
                    CharacterRecord.revoked_at.is_(None),
                    CharacterRecord.deleted_at.is_(None),
                )
                .order_by(CharacterRecord.id.desc())
            )
        )


def adopt_characters(s: Session, from_user_id: str, to_user: UserRecord) -> int:
    """Move ``from_user_id``'s characters to ``to_user``, in the caller's transaction: the
    characters (their frames are keyed by character, so they stay where they are), the
    co-ownership of the videos that use them, and each person character's rights entity
    (with the consents and requests others hold for it), so the new owner can revoke,
    delete and use them and the registry names them. Permissions other people gave
    ``from_user_id`` (approved access to their characters, consents to their likeness)
    stay with it: they were given to that account, not to ``to_user``, who asks again.
    Returns how many characters moved."""
    moved = list(
        s.scalars(select(CharacterRecord.id).where(CharacterRecord.owner_id == from_user_id))
    )
    # Requests the adopting user made of the other's characters would become requests of
    # their own: drop those before the move (the unique (character, user) pair).
    s.execute(
        delete(CharacterAccessRecord).where(
            CharacterAccessRecord.character_id.in_(moved),
            CharacterAccessRecord.user_id == to_user.id,
        )
    )
    s.execute(
        update(CharacterRecord)
        .where(CharacterRecord.owner_id == from_user_id)
        .values(owner_id=to_user.id)
    )
    s.execute(
        update(VideoCharacterRecord)
        .where(VideoCharacterRecord.character_owner_id == from_user_id)
        .values(character_owner_id=to_user.id)
    )
    _adopt_entities(s, from_user_id, to_user)
    return len(moved)


def _adopt_entities(s: Session, from_user_id: str, to_user: UserRecord) -> None:
    try:
        from mutoscope.rights import live
        from mutoscope.rights.records import EntityRecord
    except ImportError:
        return  # a build without the rights layer has no entities to move
    label = owner_label(s, to_user)
    entities = EntityRecord.__table__.c
    changed: Any = s.execute(
        update(EntityRecord)
        .where(entities.subject_user_id == from_user_id, entities.id.like("char\\_%", "\\"))
        .values(subject_user_id=to_user.id, owner_user_id=to_user.id, owner=label)
    )
    if changed.rowcount:
        live.bump(s)  # every process re-reads the registry: the names and consents moved


def owner_label(s: Session, owner: UserRecord) -> str:
    """How the registry names a character's owner: with their ``@handle``, which tells
    apart people's characters that share a name (``Zorp (person, @bob)``). The registry
    keeps it, so the owner's profile is made first (their handle is then theirs alone)."""
    display = owner.display_name or owner.name
    handle = social.own_handle(s, owner.id)
    if not handle:
        return display
    return f"@{handle}" if handle.lower() == display.lower() else f"{display} @{handle}"


def removed_from_feed(s: Session, video_id: str) -> bool:
    """Whether a co-owner removed the video from the feed, or one of its characters was
    withdrawn (it may not be published then)."""
    rows = s.execute(
        select(VideoCharacterRecord.removed_at, CharacterRecord.revoked_at)
        .join(CharacterRecord, CharacterRecord.id == VideoCharacterRecord.character_id)
        .where(VideoCharacterRecord.video_id == video_id)
    ).all()
    return any(removed is not None or revoked is not None for removed, revoked in rows)


# -- checks ----------------------------------------------------------------------------------


def check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidRequest(
            f"name must be 1 to {MAX_NAME} characters (got {len(name)}); it is how prompts "
            "mention the character",
            param="name",
        )
    if "@" in name:
        raise InvalidRequest("name must not contain '@' (that marks a handle)", param="name")
    return name


def check_kind(kind: str | None) -> str:
    kind = (kind or "person").strip().lower()
    if kind not in KINDS:
        raise InvalidRequest(
            f"kind must be one of {', '.join(KINDS)} (got '{kind[:40]}')", param="kind"
        )
    return kind


def check_tier(tier: str | None) -> str:
    tier = (tier or "only_me").strip().lower()
    if tier not in TIERS:
        raise InvalidRequest(
            f"permission must be one of {', '.join(TIERS)} (got '{tier[:40]}')",
            param="permission",
        )
    return tier


def check_description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidRequest(
            f"description must be at most {MAX_DESCRIPTION} characters", param="description"
        )
    return text


def check_rules(text: str | list[str]) -> list[str]:
    """One rule a line (or a list): at most ``MAX_RULES`` of ``MAX_RULE`` characters."""
    items = text.splitlines() if isinstance(text, str) else list(text)
    found = [r.strip() for r in items if isinstance(r, str) and r.strip()]
    if len(found) > MAX_RULES or any(len(r) > MAX_RULE for r in found):
        raise InvalidRequest(
            f"rules: at most {MAX_RULES} rules of at most {MAX_RULE} characters each",
            param="rules",
        )
    return found


def _who(tier: str) -> str:
    return {
        "only_me": "only themselves",
        "approved": "only people they approve",
        "mutual": "mutual follows and people they approve",
        "everyone": "everyone except people they turned down",
    }.get(tier, TIER_LABELS.get(tier, tier))


def _access(s: Session, character_id: str, user_id: str) -> CharacterAccessRecord | None:
    return s.scalar(
        select(CharacterAccessRecord).where(
            CharacterAccessRecord.character_id == character_id,
            CharacterAccessRecord.user_id == user_id,
        )
    )


def _mention(name: str, prompt: str) -> str:
    """The character's name as the prompt writes it (any case, whole words), or ``""``."""
    found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", prompt, re.IGNORECASE)
    return found.group(0) if found else ""


def _handle_character(s: Session, handle: str) -> CharacterRecord | None:
    """The character an ``@handle`` mention stands for: that user's newest person character
    (else their newest character)."""
    user = social.user_by_handle(s, handle)
    if user is None:
        return None
    rows = list(
        s.scalars(
            select(CharacterRecord)
            .where(CharacterRecord.owner_id == user.id, CharacterRecord.deleted_at.is_(None))
            .order_by(CharacterRecord.id.desc())
        )
    )
    return next((c for c in rows if c.kind == "person"), rows[0] if rows else None)


def _unpublish_users_of(s: Session, character_id: str) -> None:
    """Take every published video that uses the character off the feed."""
    used = select(VideoCharacterRecord.video_id).where(
        VideoCharacterRecord.character_id == character_id
    )
    s.execute(
        update(VideoRecord)
        .where(VideoRecord.id.in_(used), VideoRecord.published_at.is_not(None))
        .values(published_at=None)
    )


def _plain_name(name: str) -> str:
    return re.sub(r"\W", "", name.lower())


def _png(img: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
