"""``POST /v1/provenance/verify``: anyone may check a file (no API key needed).

Verification is public on purpose: viewers, platforms and newsrooms meeting a video need it
without an account. It reveals only what provenance is for (made here, when, by which model,
by whom, from what parent) and never the prompt.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile

from mutoscope.api.deps import ServicesDep
from mutoscope.errors import InvalidRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from mutoscope.provenance.keys import trust_anchors

router = APIRouter(prefix="/v1/provenance", tags=["provenance"])

VERIFY_MAX_BYTES = 512 * 1024 * 1024


@router.post("/verify")
def verify_upload(
    services: ServicesDep, file: Annotated[UploadFile, File(description="The video to check.")]
) -> dict[str, Any]:
    """Report Content Credentials, watermark and the matching Mutoscope record for an upload."""
    provenance: Any = services.provenance
    if not hasattr(provenance, "verify"):
        raise UnsupportedMediaType("Verification is not available: the provenance layer is off.")
    limit = max(services.settings.max_upload_bytes, VERIFY_MAX_BYTES)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"file is larger than {limit} bytes; send a shorter excerpt "
            "(a few seconds are enough to find the watermark)",
            param="file",
        )
    if not data:
        raise InvalidRequest("file is empty; upload the video to verify", param="file")
    report = provenance.verify(
        data,
        match_outputs=getattr(services.rights, "match_outputs", None),
        filename=file.filename,
    )
    return report.to_dict()


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
