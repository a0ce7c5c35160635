"""/v1/videos: the OpenAI Videos API (create, retrieve, list, delete, content, remix, extend)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mutoscope.api.deps import CurrentUser, ServicesDep, VideosDep
from mutoscope.api.media import media_response
from mutoscope.api.schemas import VideoDeleted, video_dict
from mutoscope.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from mutoscope.media.images import IMAGE_TYPES, decode_reference_image
from mutoscope.storage.records import COMPLETED
from mutoscope.videos import VideoCreate

router = APIRouter(prefix="/v1/videos", tags=["videos"])


class RemixBody(BaseModel):
    prompt: str


@router.post("", status_code=200)
async def create_video(request: Request, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    fields = await _read_body(request)
    body = VideoCreate(
        prompt=_str(fields, "prompt") or "",
        model=_str(fields, "model"),
        seconds=_str(fields, "seconds"),
        size=_str(fields, "size"),
        seed=_int(fields, "seed"),
        image=await _reference_image(request, fields),
    )
    record = await run_in_threadpool(videos.create, user, body)
    return JSONResponse(video_dict(record))


@router.get("")
async def list_videos(
    user: CurrentUser,
    videos: VideosDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
) -> JSONResponse:
    page = videos.list(user, after=after, limit=limit, order=order)
    data = [video_dict(r) for r in page.data]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "has_more": page.has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


@router.get("/{video_id}")
async def retrieve_video(video_id: str, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    return JSONResponse(video_dict(videos.peek(user, video_id)))


@router.delete("/{video_id}")
async def delete_video(video_id: str, user: CurrentUser, videos: VideosDep) -> VideoDeleted:
    await run_in_threadpool(videos.delete, user, video_id)
    return VideoDeleted(id=video_id)


@router.get("/{video_id}/content")
async def download_content(
    video_id: str,
    user: CurrentUser,
    videos: VideosDep,
    services: ServicesDep,
    variant: Literal["video", "thumbnail", "spritesheet"] = "video",
) -> Response:
    record = videos.get(user, video_id)
    if record.status != COMPLETED:
        raise InvalidRequest(
            f"video '{video_id}' is {record.status}; its content can be downloaded once its "
            "status is 'completed'",
            param="video_id",
        )
    filename = f"{record.id}.mp4" if variant == "video" else None
    return await run_in_threadpool(media_response, services, record.id, variant, filename=filename)


@router.post("/{video_id}/remix")
async def remix_video(
    video_id: str, body: RemixBody, user: CurrentUser, videos: VideosDep
) -> JSONResponse:
    record = await run_in_threadpool(videos.remix, user, video_id, body.prompt)
    return JSONResponse(video_dict(record))


extensions = APIRouter(prefix="/v1/videos", tags=["videos"])


@extensions.post("/extensions")
async def extend_video(request: Request, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    fields = await _read_body(request)
    ref = fields.get("video") or {}
    video_id = (ref.get("id") if isinstance(ref, dict) else None) or _str(fields, "video[id]")
    if not video_id:
        raise InvalidRequest(
            'video must reference a completed video: {"id": "video_..."}', param="video"
        )
    seconds = _str(fields, "seconds") or "4"
    record = await run_in_threadpool(
        videos.extend, user, video_id, _str(fields, "prompt") or "", seconds
    )
    return JSONResponse(video_dict(record))


# -- request parsing -----------------------------------------------------------------------


async def _read_body(request: Request) -> dict[str, Any]:
    """Fields from multipart, urlencoded or JSON bodies (the SDK always sends multipart)."""
    limit = request.app.state.services.settings.max_upload_bytes
    length = int(request.headers.get("content-length") or 0)
    if length > limit:
        raise PayloadTooLarge(
            f"request body is {length:,} bytes; the limit is {limit:,} bytes "
            "(MUTOSCOPE_MAX_UPLOAD_BYTES)",
            param="input_reference",
        )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=limit)
        return {k: v for k, v in form.multi_items()}
    if ctype in ("application/json", ""):
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidRequest("request body must be a JSON object")
        return data
    raise UnsupportedMediaType(
        f"unsupported Content-Type '{ctype}'; send multipart/form-data or application/json"
    )


def _str(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    if isinstance(value, bool | dict | list):
        raise InvalidRequest(f"{name} must be a string", param=name)
    return str(value)


def _int(fields: dict[str, Any], name: str) -> int | None:
    value = _str(fields, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidRequest(f"{name} must be an integer (got '{value}')", param=name) from exc


async def _reference_image(request: Request, fields: dict[str, Any]) -> Image.Image | None:
    """``input_reference``: an uploaded file, ``{image_url}``/``{file_id}``, or bracketed keys."""
    limit = request.app.state.services.settings.max_upload_bytes
    ref = fields.get("input_reference")
    if isinstance(ref, UploadFile):
        if ref.content_type not in IMAGE_TYPES:
            raise UnsupportedMediaType(
                f"input_reference must be a PNG, JPEG or WebP image (got '{ref.content_type}')",
                param="input_reference",
            )
        data = await ref.read()
        return decode_reference_image(data, limit=limit, param="input_reference")
    if isinstance(ref, str):
        try:
            ref = json.loads(ref)
        except json.JSONDecodeError:
            ref = {"image_url": ref}
    ref = ref if isinstance(ref, dict) else {}
    image_url = ref.get("image_url") or _str(fields, "input_reference[image_url]")
    file_id = ref.get("file_id") or _str(fields, "input_reference[file_id]")
    if file_id:
        raise InvalidRequest(
            "input_reference.file_id is not supported by this server; upload the image as "
            "input_reference or pass input_reference.image_url (https or data: URL)",
            param="input_reference.file_id",
        )
    if image_url:
        return decode_reference_image(
            await _fetch_image(image_url, limit), limit=limit, param="input_reference"
        )
    return None


async def _fetch_image(url: str, limit: int) -> bytes:
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        if ";base64" not in header:
            raise InvalidRequest(
                "data URLs must be base64 encoded", param="input_reference.image_url"
            )
        try:
            return base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise InvalidRequest(
                "input_reference.image_url has invalid base64 data",
                param="input_reference.image_url",
            ) from exc
    if not url.startswith(("http://", "https://")):
        raise InvalidRequest(
            "input_reference.image_url must be an http(s) or data: URL",
            param="input_reference.image_url",
        )
    try:
        async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
            response = await client.get(url)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise InvalidRequest(
            f"could not fetch input_reference.image_url: {exc}", param="input_reference.image_url"
        ) from exc
    if len(response.content) > limit:
        raise PayloadTooLarge(
            f"the referenced image is larger than {limit:,} bytes",
            param="input_reference.image_url",
        )
    return response.content
