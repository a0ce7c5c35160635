"""The studio's Characters and Cameos pages.

Characters: make one from a short clip, choose who may use it, set rules, answer access
requests, revoke or delete it, and ask for access to other people's. Cameos: every video
that uses one of your characters (drafts included), which you co-own: take it off the feed
or delete it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from mutoscope.api.deps import ServicesDep
from mutoscope.api.media import media_response
from mutoscope.characters.records import KINDS, TIER_LABELS
from mutoscope.characters.service import CharacterService
from mutoscope.errors import MutoscopeError, NotFound
from mutoscope.storage.records import UserRecord
from mutoscope.studio.web import StudioRoute, Visit, visit

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]


def _service(v: Visit) -> CharacterService:
    return CharacterService(v.studio.services)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _page(
    v: Visit, user: UserRecord, *, status: int = 200, error: str | None = None, done: str = ""
) -> Response:
    characters = _service(v)
    mine = characters.page(user, scope="mine", limit=100).data
    others = [
        c for c in characters.page(user, scope="all", limit=100).data if c.owner_id != user.id
    ]
    with v.studio.services.sessions() as s:
        owners = {
            u.id: u.name
            for u in s.query(UserRecord).filter(UserRecord.id.in_({c.owner_id for c in others}))
        }
    return v.render(
        "characters.html",
        status=status,
        mine=[(c, characters.approved_users(c)) for c in mine],
        others=[
            (c, owners.get(c.owner_id, "?"), characters.access_status(user, c)) for c in others
        ],
        requests=characters.pending_requests(user),
        kinds=KINDS,
        tiers=TIER_LABELS,
        error=error,
        done=done,
    )


@router.get("/characters")
def characters_page(v: VisitDep) -> Response:
    return _page(v, v.require_user())


@router.post("/characters")
async def create_character(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    form = await v.form()
    upload = form.get("video")
    try:
        data = b""
        if isinstance(upload, UploadFile):
            data = await upload.read(services.settings.max_upload_bytes + 1)
        if not data:
            raise NotFound("choose a 2 to 10 second video of the character", param="video")
        record = await run_in_threadpool(
            lambda: _service(v).create(
                user,
                _field(form, "name"),
                data,
                kind=_field(form, "kind") or "person",
                tier=_field(form, "permission") or "only_me",
                description=_field(form, "description"),
                rules_text=_field(form, "rules"),
            )
        )
    except MutoscopeError as exc:
        return _page(v, user, status=exc.status, error=exc.message)
    return _page(v, user, done=f"Character '{record.name}' created ({record.id}).")


@router.post("/characters/{character_id}/{action}")
async def character_action(v: VisitDep, character_id: str, action: str) -> Response:
    """settings | revoke | restore | delete | request | approve | deny (``user_id``)."""
    user = v.require_user()
    form = await v.form()
    characters = _service(v)
    try:
        done = await run_in_threadpool(_act, characters, user, character_id, action, form)
    except MutoscopeError as exc:
        return _page(v, user, status=exc.status, error=exc.message)
    return _page(v, user, done=done)


def _act(
    characters: CharacterService, user: UserRecord, character_id: str, action: str, form: FormData
) -> str:
    if action == "settings":
        c = characters.update(
            user,
            character_id,
            kind=_field(form, "kind") or None,
            tier=_field(form, "permission") or None,
            description=_field(form, "description"),
            rules_text=_field(form, "rules"),
        )
        return f"Saved '{c.name}': {TIER_LABELS[c.tier].lower()} may use it."
    if action == "revoke":
        c = characters.revoke(user, character_id)
        return f"'{c.name}' is revoked: nobody can use it, and videos using it left the feed."
    if action == "restore":
        return f"'{characters.restore(user, character_id).name}' can be used again."
    if action == "delete":
        characters.delete(user, character_id)
        return "Character deleted."
    if action == "request":
        status = characters.request_access(user, character_id, _field(form, "note"))
        return "Request sent." if status == "pending" else "You may already use it."
    if action in ("approve", "deny"):
        characters.decide(user, character_id, _field(form, "user_id"), action == "approve")
        return "Approved." if action == "approve" else "Turned down."
    raise NotFound(f"unknown action '{action[:40]}'")


@router.get("/characters/{character_id}/{image}.png")
def character_image(v: VisitDep, services: ServicesDep, character_id: str, image: str) -> Response:
    """The character's reference frames (``frames``) or its first one (``reference``), for
    whoever can see the character."""
    if image not in ("frames", "reference"):
        raise NotFound(f"no image '{image[:40]}'; use frames.png or reference.png")
    character = _service(v).get(v.require_user(), character_id)
    return media_response(
        services, character.id, image, headers={"Cache-Control": "private, max-age=300"}
    )


# -- cameos --------------------------------------------------------------------------------


@router.get("/cameos")
def cameos_page(v: VisitDep) -> Response:
    user = v.require_user()
    return v.render("cameos.html", cameos=_service(v).cameos(user), done="", error=None)


@router.get("/cameos/{video_id}/thumbnail")
def cameo_thumbnail(v: VisitDep, services: ServicesDep, video_id: str) -> Response:
    """A co-owned video's thumbnail (drafts included, which ``/media`` shows only to their
    creator)."""
    user = v.require_user()
    if not any(c.video.id == video_id for c in _service(v).cameos(user)):
        raise NotFound(f"no cameo '{video_id[:80]}'")
    if not services.files.exists(video_id, "thumbnail"):
        raise NotFound("no thumbnail yet")
    return media_response(
        services, video_id, "thumbnail", headers={"Cache-Control": "private, max-age=300"}
    )


@router.post("/cameos/{video_id}/{action}")
async def cameo_action(v: VisitDep, video_id: str, action: str) -> Response:
    """remove (from the feed) | delete."""
    user = v.require_user()
    await v.form()
    characters = _service(v)
    done, error, status = "", None, 200
    try:
        if action == "remove":
            await run_in_threadpool(characters.remove_from_feed, user, video_id)
            done = "Removed from the feed; it cannot be published again."
        elif action == "delete":
            await run_in_threadpool(characters.delete_video, user, video_id)
            done = "Video deleted."
        else:
            raise NotFound(f"unknown action '{action[:40]}'")
    except MutoscopeError as exc:
        error, status = exc.message, exc.status
    return v.render(
        "cameos.html", status=status, cameos=characters.cameos(user), done=done, error=error
    )
