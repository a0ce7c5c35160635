"""/v1/videos/characters: characters as the ``openai`` SDK's ``create_character`` and
``get_character`` send them, plus list, update, revoke, access requests and delete (our
extensions, see docs/characters.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mutoscope.api import openapi
from mutoscope.api.deps import CurrentUser
from mutoscope.api.schemas import list_page
from mutoscope.characters.records import CharacterRecord
from mutoscope.characters.service import CharacterService
from mutoscope.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from mutoscope.storage.records import UserRecord

router = APIRouter(prefix="/v1/videos/characters", tags=["characters"])
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime", "application/octet-stream")


async def get_characters(request: Request) -> CharacterService:
    return CharacterService(request.app.state.services)


CharactersDep = Annotated[CharacterService, Depends(get_characters)]


def character_dict(
    c: CharacterRecord, viewer: UserRecord | None, characters: CharacterService
) -> dict[str, Any]:
    """The wire form: the SDK reads ``id``, ``name`` and ``created_at``; the rest is ours."""
    return {
        "id": c.id,
        "object": "character",
        "name": c.name,
        "created_at": c.created_at,
        "kind": c.kind,
        "permission": c.tier,
        "status": "revoked" if c.revoked_at else "active",
        "revoked_at": c.revoked_at,
        "owned": viewer is not None and viewer.id == c.owner_id,
        "access": characters.access_status(viewer, c),
        "rules": list(c.rules or []) if viewer is not None and viewer.id == c.owner_id else None,
        "description": c.description,
        "look": c.look or {},
        "seconds": c.duration,
    }


@router.post("", openapi_extra=openapi.CREATE_CHARACTER)
async def create_character(
    request: Request, user: CurrentUser, characters: CharactersDep
) -> JSONResponse:
    limit = request.app.state.services.settings.max_upload_bytes
    form = await request.form(max_part_size=limit, max_files=2, max_fields=16)
    video = form.get("video")
    if not isinstance(video, UploadFile):
        raise InvalidRequest(
            "video is required: upload a 2 to 10 second clip of the character as the "
            "'video' file field (multipart/form-data)",
            param="video",
        )
    if video.content_type and video.content_type.split(";")[0] not in VIDEO_TYPES:
        raise UnsupportedMediaType(
            f"video must be an MP4, WebM or MOV clip (got '{video.content_type}')", param="video"
        )
    data = await video.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"video is larger than {limit:,} bytes", param="video")

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    record = await run_in_threadpool(
        characters.create,
        user,
        field("name"),
        data,
        kind=field("kind") or "person",
        tier=field("permission") or "only_me",
        description=field("description"),
        rules_text=field("rules"),
    )
    return JSONResponse(character_dict(record, user, characters))


@router.get("")
def list_characters(
    user: CurrentUser,
    characters: CharactersDep,
    scope: Literal["mine", "available", "all"] = "mine",
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    page = characters.page(user, scope=scope, after=after, limit=limit)
    data = [character_dict(c, user, characters) for c in page.data]
    return JSONResponse(list_page(data, page.has_more))


@router.get("/{character_id}")
def get_character(character_id: str, user: CurrentUser, characters: CharactersDep) -> JSONResponse:
    return JSONResponse(character_dict(characters.get(user, character_id), user, characters))


class CharacterUpdate(BaseModel):
    name: str | None = None
    kind: str | None = None
    permission: str | None = None
    description: str | None = None
    rules: list[str] | None = None


@router.post("/{character_id}")
async def update_character(
    character_id: str, body: CharacterUpdate, user: CurrentUser, characters: CharactersDep
) -> JSONResponse:
    record = await run_in_threadpool(
        lambda: characters.update(
            user,
            character_id,
            name=body.name,
            kind=body.kind,
            tier=body.permission,
            description=body.description,
            rules_text=body.rules,
        )
    )
    return JSONResponse(character_dict(record, user, characters))


@router.delete("/{character_id}")
async def delete_character(
    character_id: str, user: CurrentUser, characters: CharactersDep
) -> JSONResponse:
    await run_in_threadpool(characters.delete, user, character_id)
    return JSONResponse({"id": character_id, "object": "character.deleted", "deleted": True})


@router.post("/{character_id}/revoke")
async def revoke_character(
    character_id: str, user: CurrentUser, characters: CharactersDep
) -> JSONResponse:
    record = await run_in_threadpool(characters.revoke, user, character_id)
    return JSONResponse(character_dict(record, user, characters))


@router.post("/{character_id}/restore")
async def restore_character(
    character_id: str, user: CurrentUser, characters: CharactersDep
) -> JSONResponse:
    record = await run_in_threadpool(characters.restore, user, character_id)
    return JSONResponse(character_dict(record, user, characters))


class AccessRequest(BaseModel):
    note: str = ""


@router.post("/{character_id}/requests")
async def request_access(
    character_id: str,
    user: CurrentUser,
    characters: CharactersDep,
    body: AccessRequest | None = None,
) -> JSONResponse:
    status = await run_in_threadpool(
        characters.request_access, user, character_id, body.note if body else ""
    )
    return JSONResponse({"character_id": character_id, "access": status})


@router.get("/{character_id}/requests")
def list_requests(character_id: str, user: CurrentUser, characters: CharactersDep) -> JSONResponse:
    characters.owned(user, character_id)
    data = [
        {
            "id": r.id,
            "user_id": r.user_id,
            "user": who,
            "status": r.status,
            "note": r.note,
            "created_at": r.created_at,
        }
        for r, who, _ in characters.pending_requests(user)
        if r.character_id == character_id
    ]
    return JSONResponse(list_page(data, False))


class Decision(BaseModel):
    user_id: str
    approve: bool


@router.post("/{character_id}/decisions")
async def decide(
    character_id: str, body: Decision, user: CurrentUser, characters: CharactersDep
) -> JSONResponse:
    await run_in_threadpool(characters.decide, user, character_id, body.user_id, body.approve)
    return JSONResponse(
        {"character_id": character_id, "user_id": body.user_id, "approved": body.approve}
    )
