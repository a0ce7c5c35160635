"""/v1/files: the OpenAI Files API (upload, list, retrieve, content, delete), per user.

Uploaded images can then be used as ``input_reference={"file_id": …}`` on ``/v1/videos``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mutoscope.api import openapi
from mutoscope.api.deps import CurrentUser, ServicesDep
from mutoscope.api.media import media_response
from mutoscope.api.schemas import list_page
from mutoscope.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from mutoscope.files import FileService, file_dict

router = APIRouter(prefix="/v1/files", tags=["files"])


async def get_files(services: ServicesDep) -> FileService:
    return FileService(services)


FilesDep = Annotated[FileService, Depends(get_files)]


@router.post("", openapi_extra=openapi.CREATE_FILE)
async def create_file(request: Request, user: CurrentUser, files: FilesDep) -> JSONResponse:
    limit = files.services.settings.max_upload_bytes
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedMediaType(
            f"unsupported Content-Type '{ctype[:80]}'; upload the file as multipart/form-data "
            "with the fields 'file' and 'purpose'"
        )
    form = await request.form(max_part_size=limit, max_files=1, max_fields=8)
    upload, purpose = form.get("file"), form.get("purpose")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("file is required: send it as a multipart file part", param="file")
    if not isinstance(purpose, str) or not purpose:
        raise InvalidRequest("purpose is required, e.g. 'vision'", param="purpose")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"file is larger than the limit of {limit:,} bytes (MUTOSCOPE_MAX_UPLOAD_BYTES)",
            param="file",
        )
    record = await run_in_threadpool(
        lambda: files.create(user, filename=upload.filename, purpose=purpose, data=data)
    )
    return JSONResponse(file_dict(record, files.services.settings.file_ttl_seconds))


@router.get("")
async def list_files(
    user: CurrentUser,
    files: FilesDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
    order: Literal["asc", "desc"] = "desc",
    purpose: str | None = None,
) -> JSONResponse:
    page = await run_in_threadpool(
        lambda: files.list(user, after=after, limit=limit, order=order, purpose=purpose)
    )
    ttl = files.services.settings.file_ttl_seconds
    data = [file_dict(r, ttl) for r in page.data]
    return JSONResponse(list_page(data, page.has_more))


@router.get("/{file_id}")
async def retrieve_file(file_id: str, user: CurrentUser, files: FilesDep) -> JSONResponse:
    record = await run_in_threadpool(files.get, user, file_id)
    return JSONResponse(file_dict(record, files.services.settings.file_ttl_seconds))


@router.get("/{file_id}/content")
async def download_file(
    file_id: str, user: CurrentUser, files: FilesDep, services: ServicesDep
) -> Response:
    record = await run_in_threadpool(files.get, user, file_id)
    return await run_in_threadpool(media_response, services, record.id, "file")


@router.delete("/{file_id}")
async def delete_file(file_id: str, user: CurrentUser, files: FilesDep) -> JSONResponse:
    record = await run_in_threadpool(files.delete, user, file_id)
    return JSONResponse({"id": record.id, "object": "file", "deleted": True})
