"""``POST /v1/provenance/verify``: anyone may check a file (no API key needed).

Verification is public on purpose: viewers, platforms and newsrooms meeting a video need it
without an account. Anyone learns what a detector must say (made here or not, when, by which
model and system, the C2PA and watermark findings), never the prompt; who made it, from
what parent and whether it is published only its owner and admins learn.

The file comes as a multipart upload (``file``) or by URL (JSON ``{"url": ...}``, fetched
through the SSRF-safe fetcher). Either way it is spooled to disk, never held whole in memory,
capped at ``MUTOSCOPE_VERIFY_MAX_BYTES`` as it is read, and at most
``MUTOSCOPE_VERIFY_CONCURRENCY`` verifications run at once.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any

import anyio
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mutoscope.api import openapi
from mutoscope.api.deps import OptionalUser, ServicesDep
from mutoscope.errors import InvalidRequest, NotFound, RateLimited, UnsupportedMediaType
from mutoscope.net.fetch import FetchPolicy, fetch_to_file
from mutoscope.provenance.keys import trust_anchors

router = APIRouter(prefix="/v1/provenance", tags=["provenance"])

SLOT_WAIT_SECONDS = 60.0
"""How long a verification waits for a free slot before it is answered with a 429."""


@router.post("/verify", openapi_extra=openapi.VERIFY)
async def verify_upload(
    request: Request, services: ServicesDep, viewer: OptionalUser
) -> dict[str, Any]:
    """Report Content Credentials, watermark and the matching Mutoscope record for a file.

    Anyone gets the detector's answer (made here, when, which model and system, C2PA and
    watermark findings); the video's owner and admins (with their API key) get the rest."""
    provenance: Any = services.provenance
    if not hasattr(provenance, "verify"):
        raise UnsupportedMediaType("Verification is not available: the provenance layer is off.")
    async with _slot(request, services.settings.verify_concurrency):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            async with request.form(max_files=1, max_fields=4) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise InvalidRequest(
                        "upload the video as a multipart field named 'file', or send JSON "
                        '{"url": "https://..."}',
                        param="file",
                    )
                return await _verify(services, upload.file, upload.filename, viewer)
        if ctype in ("application/json", ""):
            url = await _url(request)
            with tempfile.TemporaryFile(prefix="mutoscope-verify-") as spool:
                policy = FetchPolicy(
                    max_bytes=services.settings.verify_max_bytes,
                    allow_private=services.settings.fetch_allow_private,
                    timeout=max(services.settings.fetch_timeout_seconds, 60.0),
                )
                await fetch_to_file(url, policy, spool, param="url", what="the video")
                name = url.rsplit("/", 1)[-1][:200] or None
                return await _verify(services, spool, name, viewer)
        raise UnsupportedMediaType(
            f"unsupported Content-Type '{ctype}'; upload the file as multipart/form-data "
            '(field "file") or send JSON {"url": "https://..."}'
        )


async def _verify(
    services: Any, file: IO[bytes], filename: str | None, viewer: Any = None
) -> dict[str, Any]:
    size = file.seek(0, 2)
    if not size:
        raise InvalidRequest("file is empty; upload the video to verify", param="file")
    file.seek(0)
    report = await run_in_threadpool(
        services.provenance.verify,
        file,
        match_outputs=getattr(services.rights, "match_outputs", None),
        filename=filename,
    )
    return report.to_dict(full=report.visible_to(viewer))


async def _url(request: Request) -> str:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        data = None
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidRequest(
            'send {"url": "https://..."} naming a public video, or upload the file as '
            'multipart/form-data (field "file")',
            param="url",
        )
    return url


@asynccontextmanager
async def _slot(request: Request, concurrency: int) -> AsyncIterator[None]:
    """One of ``concurrency`` verification slots, or a 429 after ``SLOT_WAIT_SECONDS``."""
    state = request.app.state
    slots = getattr(state, "verify_slots", None)
    if slots is None:
        slots = state.verify_slots = anyio.Semaphore(max(1, concurrency))
    with anyio.move_on_after(SLOT_WAIT_SECONDS) as waited:
        await slots.acquire()
    if waited.cancelled_caught:
        raise RateLimited(
            "too many verifications are running at once; retry in a few seconds", retry_after=5
        )
    try:
        yield
    finally:
        slots.release()


@router.get("/trust-anchors.pem")
def trust_anchors_pem(services: ServicesDep) -> Response:
    """The root certificate(s) this server signs under, for ``c2patool ... trust``."""
    pem = trust_anchors(services.settings)
    if not pem:
        raise NotFound(
            "This server has no signing root yet; it is created with the first signed video "
            "or `mutoscope keys init-signing`."
        )
    return Response(pem, media_type="application/x-pem-file")
