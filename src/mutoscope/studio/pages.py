"""What each studio page shows, gathered from the services (routes stay thin)."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from mutoscope.characters.service import used_by
from mutoscope.errors import PromptRejected
from mutoscope.rights.messages import blocked_message
from mutoscope.services import Services
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord
from mutoscope.studio import social
from mutoscope.users import UserService
from mutoscope.worker.hooks import ScreenRequest

if TYPE_CHECKING:
    from mutoscope.studio.web import Studio, Visit

log = logging.getLogger(__name__)
SPRITE_TILES = 16  # media.video.spritesheet's default count


def create_context(services: Services, selected: str | None = None) -> dict[str, Any]:
    """Model choices with their sizes and durations (the form narrows them per model)."""
    registry = services.backends
    models = [
        {
            "name": b.name,
            "description": b.description,
            "sizes": list(b.sizes),
            "seconds": list(b.seconds),
            "accepts_image": b.accepts_image,
            "example_prompt": b.example_prompt,
            "options": sorted(b.request_options),
            "presets": list(b.preset_names()),
            "loras": list(b.lora_names()),
        }
        for b in registry
    ]
    wanted = registry.resolve_name(selected or None)
    current = next((m for m in models if m["name"] == wanted), models[0] if models else None)
    placeholder = current["example_prompt"] if current else ""
    return {"models": models, "current": current, "placeholder": placeholder}


def prompt_fit(services: Services, prompt: str, model: str | None) -> dict[str, Any] | None:
    """What the model can draw of ``prompt`` (``None`` for models that can try anything)."""
    fit = services.backends.get(model).fit_prompt(prompt)
    if fit is None:
        return None
    return {"drawable": fit.drawable, "will_draw": fit.will_draw, "warning": fit.warning}


def preview_screening(
    services: Services,
    user: UserRecord,
    prompt: str,
    model: str,
    character_names: tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """The rights decision for a prompt being typed: attributions, or ``PromptRejected``.

    Uses the rights layer's unrecorded check when it has one, so previews do not fill the
    audit log with decisions about prompts nobody submitted (submitting screens and records
    again); otherwise the ``RightsGate`` seam's ``screen_request``.
    """
    check = getattr(services.rights, "check_prompt", None)
    if check is None:
        request = ScreenRequest(
            prompt=prompt, user_id=user.id, model=model, character_names=character_names
        )
        return list(services.rights.screen_request(request).attributions)
    names = {"character_names": character_names} if character_names else {}
    decision = check(prompt, user_id=user.id, record=False, **names)
    if decision.decision == "block":
        raise PromptRejected(blocked_message(decision), param="prompt", decision=decision)
    return list(decision.attributions)


def submission_screening(
    services: Services,
    user: UserRecord,
    prompt: str,
    model: str,
    character_names: tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """The rights decision for a prompt being submitted, checked before the model's fit is
    judged (the studio's create form, ``mutoscope generate``).

    A block is recorded in the audit log: it is this submission's decision and no video will
    screen the prompt again. An allow is not: creating the video screens and records it, so
    each submitted decision is recorded exactly once."""
    try:
        return preview_screening(services, user, prompt, model, character_names)
    except PromptRejected:
        check = getattr(services.rights, "check_prompt", None)
        if check is None:
            raise  # the gate seam's screen_request has recorded it
        names = {"character_names": character_names} if character_names else {}
        decision = check(prompt, user_id=user.id, record=True, **names)
        if decision.decision == "block":
            raise PromptRejected(
                blocked_message(decision), param="prompt", decision=decision
            ) from None
        raise


def video_states(
    sessions: sessionmaker, user: UserRecord, ids: list[str]
) -> dict[str, VideoRecord]:
    with sessions() as s:
        rows = s.scalars(
            select(VideoRecord).where(VideoRecord.id.in_(ids), VideoRecord.owner_id == user.id)
        )
        return {r.id: r for r in rows}


def state_dict(video_id: str, row: VideoRecord | None) -> dict[str, Any]:
    if row is None:
        return {"id": video_id, "status": "deleted", "progress": 0}
    return {
        "id": row.id,
        "status": row.status,
        "progress": row.progress,
        "error": row.error_message,
    }


def video_context(v: Visit, record: VideoRecord) -> dict[str, Any]:
    gallery = v.studio.gallery
    card = gallery.card(v.user, record)
    return {
        "card": card,
        "video": record,
        "is_owner": v.user is not None and v.user.id == record.owner_id,
        "chain": gallery.chain(v.user, record),
        "sprite": sprite_grid(record),
        "characters": used_by(v.studio.services.sessions, record.id),
        **comments_context(v, record),
    }


def comments_context(v: Visit, record: VideoRecord) -> dict[str, Any]:
    with v.studio.services.sessions.begin() as s:
        return {"comments": social.comments(s, record.id), "max_comment": social.MAX_COMMENT}


def sprite_grid(record: VideoRecord) -> dict[str, int]:
    """Columns and rows of the spritesheet, as ``media.video.spritesheet`` lays it out."""
    count = min(SPRITE_TILES, record.frame_count or SPRITE_TILES)
    cols = math.ceil(math.sqrt(count))
    return {"count": count, "cols": cols, "rows": math.ceil(count / cols)}


def provenance_report(studio: Studio, record: VideoRecord) -> dict[str, Any] | None:
    """``ProvenanceService.verify(...).to_dict()`` for the video, cached per file version.

    ``None`` when the provenance layer is not installed.
    """
    services = studio.services
    verify = getattr(services.provenance, "verify", None)
    if verify is None:
        return None
    path = services.files.path(record.id, "video")
    if record.status != COMPLETED or not path.is_file():
        return {"pending": True}
    key = (record.id, path.stat().st_mtime_ns)
    cached = studio.provenance_cache.get(key)
    if cached is None:
        match = getattr(services.rights, "match_outputs", None)
        try:
            cached = verify(path, match_outputs=match).to_dict()
        except Exception as exc:  # the panel reports it; the rest of the page still works
            log.exception("verifying %s failed", record.id)
            return {"error": getattr(exc, "message", None) or str(exc)}
        if len(studio.provenance_cache) > 256:
            studio.provenance_cache.clear()
        studio.provenance_cache[key] = cached
    return cached


def user_keys(users: UserService, user: UserRecord) -> list[Any]:
    return [k for k, _ in users.list_keys(user.name)]
