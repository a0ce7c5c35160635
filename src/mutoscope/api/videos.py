"""/v1/videos: the OpenAI Videos API (create, retrieve, list, delete, content, remix, edit,
extend)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mutoscope.api import openapi
from mutoscope.api.deps import CurrentUser, ServicesDep, VideosDep
from mutoscope.api.guards import BadJson, check_json_bytes
from mutoscope.api.media import media_response
from mutoscope.api.schemas import VideoDeleted, list_page, video_dict
from mutoscope.backends.request_options import parse_options
from mutoscope.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from mutoscope.files import FileService
from mutoscope.media.images import IMAGE_TYPES, decode_reference_image
from mutoscope.net.fetch import FetchPolicy, fetch_url
from mutoscope.retention import check_not_expired
from mutoscope.sources import SourceClip, probe_clip
from mutoscope.storage.records import COMPLETED, UserRecord
from mutoscope.videos import VideoCreate, check_seed

router = APIRouter(prefix="/v1/videos", tags=["videos"])
_CHARACTER_ID = re.compile(r"characters\[\d*\]\[id\]")


class CharacterRef(BaseModel):
    id: str


class RemixBody(BaseModel):
    """``prompt``, plus any per-request options (``extra_body``) overriding the parent's."""

    model_config = ConfigDict(extra="allow")

    prompt: str
    characters: list[CharacterRef] = []


@router.post("", status_code=200, openapi_extra=openapi.CREATE_VIDEO)
async def create_video(request: Request, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    fields = await _read_body(request)
    body = VideoCreate(
        prompt=_text(fields, "prompt") or "",
        model=_str(fields, "model"),
        seconds=_str(fields, "seconds"),
        size=_str(fields, "size"),
        seed=_seed(fields),
        options=parse_options(fields),
        characters=await _characters(request, fields),
    )
    ref = _reference(fields)
    if isinstance(ref, str):
        # Fetch only once everything else in the request is known to be acceptable.
        await run_in_threadpool(videos.validate, body)
    body.image = await _reference_image(request, ref, user)
    record = await videos.create_async(user, body)
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
    return JSONResponse(list_page(data, page.has_more))


@router.get("/{video_id}")
async def retrieve_video(video_id: str, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    return JSONResponse(video_dict(videos.peek_visible(user, video_id)))


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
    record = videos.get_visible(user, video_id)  # one's own, or a published one
    if record.status != COMPLETED:
        raise InvalidRequest(
            f"video '{video_id}' is {record.status}; its content can be downloaded once its "
            "status is 'completed'",
            param="video_id",
        )
    check_not_expired(record)
    filename = f"{record.id}.mp4" if variant == "video" else None
    return await run_in_threadpool(media_response, services, record.id, variant, filename=filename)


@router.post("/{video_id}/remix")
async def remix_video(
    video_id: str, body: RemixBody, user: CurrentUser, videos: VideosDep
) -> JSONResponse:
    ids = [c.id for c in body.characters]
    options = parse_options(body.model_extra or {})
    record = await run_in_threadpool(
        lambda: videos.remix(user, video_id, body.prompt, ids, options=options)
    )
    return JSONResponse(video_dict(record))


extensions = APIRouter(prefix="/v1/videos", tags=["videos"])


@extensions.post("/extensions", openapi_extra=openapi.EXTEND_VIDEO)
async def extend_video(request: Request, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    """The clip (``video``: upload, ``{"id"}`` or ``{"file_id"}``) continued for ``seconds``
    more; the result's ``seconds`` is the stitched total."""
    fields = await _read_body(request)
    source = await _source(request, fields, user)
    characters = await _characters(request, fields)
    options = parse_options(fields)
    record = await run_in_threadpool(
        lambda: videos.extend(
            user,
            source,
            _text(fields, "prompt") or "",
            _str(fields, "seconds") or "4",
            model=_str(fields, "model"),
            size=_str(fields, "size"),
            characters=characters,
            options=options,
        )
    )
    return JSONResponse(video_dict(record))


@extensions.post("/edits", openapi_extra=openapi.EDIT_VIDEO)
async def edit_video(request: Request, user: CurrentUser, videos: VideosDep) -> JSONResponse:
    """A new video re-made from the clip (``video``: upload, ``{"id"}`` or ``{"file_id"}``)
    for ``prompt`` on a video-to-video model; ``strength`` (0-1) is how far it may move."""
    fields = await _read_body(request)
    strength = _strength(fields)
    source = await _source(request, fields, user)
    characters = await _characters(request, fields)
    options = parse_options(fields)
    record = await run_in_threadpool(
        lambda: videos.edit(
            user,
            source,
            _text(fields, "prompt") or "",
            model=_str(fields, "model"),
            size=_str(fields, "size"),
            strength=strength,
            characters=characters,
            options=options,
        )
    )
    return JSONResponse(video_dict(record))


_VIDEO_REF = 'video must be an uploaded clip, {"id": "video_..."} or {"file_id": "file-..."}'


async def _source(request: Request, fields: dict[str, Any], user: UserRecord) -> SourceClip | str:
    """``video``: a completed video's id, or an uploaded clip (multipart or a /v1/files id),
    read and checked (it decodes, it is short enough) before anything is queued."""
    ref = fields.get("video")
    services = request.app.state.services
    settings = services.settings
    if isinstance(ref, UploadFile):
        data, param = await ref.read(settings.max_upload_bytes + 1), "video"
    else:
        if isinstance(ref, str):
            try:
                ref = json.loads(ref)
            except ValueError:
                ref = {"id": ref}
        if ref is not None and not isinstance(ref, dict):
            raise InvalidRequest(_VIDEO_REF, param="video")
        ref = ref or {}
        given = {name: ref.get(name, fields.get(f"video[{name}]")) for name in ("id", "file_id")}
        for name, value in given.items():
            if (name in ref or value is not None) and (not isinstance(value, str) or not value):
                raise InvalidRequest(f"video.{name} must be a string", param=f"video.{name}")
        video_id, file_id = given["id"], given["file_id"]
        if bool(video_id) == bool(file_id):
            raise InvalidRequest(_VIDEO_REF + " (exactly one of them)", param="video")
        if video_id:
            return str(video_id)
        param = "video.file_id"
        data = await run_in_threadpool(
            lambda: FileService(services).read(user, str(file_id), param=param)
        )
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"video is larger than {settings.max_upload_bytes:,} bytes "
            "(MUTOSCOPE_MAX_UPLOAD_BYTES)",
            param=param,
        )
    info = await run_in_threadpool(
        lambda: probe_clip(
            data,
            max_seconds=settings.max_total_seconds,
            max_pixels=settings.max_image_pixels,
            param=param,
        )
    )
    return SourceClip(upload=data, info=info)


def _strength(fields: dict[str, Any]) -> float | None:
    value = fields.get("strength")
    if value is None or value == "":
        return None
    try:
        strength = float(value)  # JSON numbers, or strings from multipart
    except (TypeError, ValueError):
        strength = float("nan")
    if isinstance(value, bool) or not 0.0 < strength <= 1.0:
        raise InvalidRequest(
            f"strength must be a number above 0 and at most 1 (got {str(value)[:40]!r}); "
            "lower keeps more of the source",
            param="strength",
        )
    return strength


# -- request parsing -----------------------------------------------------------------------


async def _read_body(request: Request) -> dict[str, Any]:
    """Fields from multipart, urlencoded or JSON bodies (the SDK always sends multipart).

    The body's size is capped as it is read and JSON is vetted (UTF-8, depth, surrogates) by
    ``api.guards.BodyLimitMiddleware`` before this runs.
    """
    limit = request.app.state.services.settings.max_upload_bytes
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=limit, max_files=4, max_fields=64)
        return _form_fields(form.multi_items())
    if ctype in ("application/json", ""):
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            check_json_bytes(raw)  # already done for application/json; not without a type
            data = json.loads(raw)
        except BadJson as exc:
            raise InvalidRequest(str(exc), code="invalid_json") from exc
        if not isinstance(data, dict):
            raise InvalidRequest("request body must be a JSON object")
        return data
    raise UnsupportedMediaType(
        f"unsupported Content-Type '{ctype}'; send multipart/form-data or application/json"
    )


def _form_fields(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Form fields as a dict. A list in the SDK's ``extra_body`` arrives as repeated
    ``name[]`` (or ``name[][key]``) parts: those keep all their values, in a list under
    ``name`` (or the full key). Other repeated keys keep their last value."""
    fields: dict[str, Any] = {}
    for key, value in items:
        if "[]" not in key:
            fields[key] = value
            continue
        name = key[:-2] if key.endswith("[]") and "[" not in key[:-2] else key
        fields.setdefault(name, []).append(value)
    return fields


def _str(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    if isinstance(value, bool | dict | list):
        raise InvalidRequest(f"{name} must be a string", param=name)
    return str(value)


def _text(fields: dict[str, Any], name: str) -> str | None:
    """A field that must be text (a prompt): a JSON number is refused, not read as digits."""
    value = fields.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise InvalidRequest(
            f"{name} must be a string (got the number {str(value)[:40]})", param=name
        )
    return _str(fields, name)


async def _characters(request: Request, fields: dict[str, Any]) -> list[str]:
    """``characters``: ``[{"id": "char_…"}]`` in JSON (``extra_body``), or the SDK's
    multipart spelling ``characters[][id]=…`` (one field per character)."""
    value = fields.get("characters")
    if value is None:
        if not any(k.startswith("characters[") for k in fields):
            return []
        form = await request.form()  # parsed once already: starlette keeps it
        value = [{"id": v} for k, v in form.multi_items() if _CHARACTER_ID.fullmatch(k)]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, list) or not all(
        isinstance(v, dict) and isinstance(v.get("id"), str) and v["id"] for v in value
    ):
        raise InvalidRequest(
            'characters must be a list like [{"id": "char_..."}] (at most a few)',
            param="characters",
        )
    if len(value) > 16:
        raise InvalidRequest("characters: too many entries", param="characters")
    return [v["id"] for v in value]


def _seed(fields: dict[str, Any]) -> int | None:
    value = _str(fields, "seed")
    if value is None or value == "":
        return None
    try:
        seed = int(value)
    except ValueError:
        seed = -1
    return check_seed(seed, value)


class FileId(str):
    """An ``input_reference.file_id``: an image the caller uploaded to /v1/files."""


def _reference(fields: dict[str, Any]) -> UploadFile | FileId | str | None:
    """``input_reference``: an uploaded file, ``{image_url}``/``{file_id}``, or bracketed keys.

    Returns the upload, the file id, the image URL (http(s) or data:), or ``None``.
    """
    ref = fields.get("input_reference")
    if isinstance(ref, UploadFile):
        if ref.content_type not in IMAGE_TYPES:
            raise UnsupportedMediaType(
                f"input_reference must be a PNG, JPEG or WebP image (got '{ref.content_type}')",
                param="input_reference",
            )
        return ref
    if isinstance(ref, str):
        try:
            ref = json.loads(ref)
        except ValueError:
            ref = {"image_url": ref}
    if ref is not None and not isinstance(ref, dict):
        raise InvalidRequest(
            'input_reference must be an uploaded image or an object like {"image_url": "https://..."}',
            param="input_reference",
        )
    ref = ref or {}
    image_url = ref.get("image_url", fields.get("input_reference[image_url]"))
    file_id = ref.get("file_id", fields.get("input_reference[file_id]"))
    for name, value in (("image_url", image_url), ("file_id", file_id)):
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(
                f"input_reference.{name} must be a string", param=f"input_reference.{name}"
            )
    if file_id and image_url:
        raise InvalidRequest(
            "input_reference takes either file_id or image_url, not both",
            param="input_reference",
        )
    if file_id:
        return FileId(file_id)
    return image_url or None


async def _reference_image(
    request: Request, ref: UploadFile | FileId | str | None, user: UserRecord
) -> Image.Image | None:
    """Read (or fetch) and decode the reference; decoding runs in a worker thread."""
    if ref is None:
        return None
    services = request.app.state.services
    settings = services.settings
    limit = settings.max_upload_bytes
    if isinstance(ref, UploadFile):
        data, param = await ref.read(limit + 1), "input_reference"
    elif isinstance(ref, FileId):
        param = "input_reference.file_id"
        data = await run_in_threadpool(
            lambda: FileService(services).read(user, str(ref), param=param)
        )
    else:
        data, param = await _fetch_image(ref, settings), "input_reference.image_url"
    return await run_in_threadpool(
        decode_reference_image,
        data,
        limit=limit,
        param=param,
        max_pixels=settings.max_image_pixels,
    )


async def _fetch_image(url: str, settings: Any) -> bytes:
    param = "input_reference.image_url"
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        if ";base64" not in header:
            raise InvalidRequest("data URLs must be base64 encoded", param=param)
        try:
            return await run_in_threadpool(base64.b64decode, payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest(
                "input_reference.image_url has invalid base64 data", param=param
            ) from exc
    if not url.startswith(("http://", "https://")):
        raise InvalidRequest(
            "input_reference.image_url must be an http(s) or data: URL", param=param
        )
    policy = FetchPolicy(
        max_bytes=settings.max_upload_bytes,
        allow_private=settings.fetch_allow_private,
        timeout=settings.fetch_timeout_seconds,
    )
    return await fetch_url(url, policy, param=param)
