"""One way to answer with a stored media file, whatever the store.

Local files go out as ``FileResponse`` (range requests work); an S3-compatible store either
streams the object through this process or, with ``MUTOSCOPE_STORAGE_REDIRECT=1``, redirects
the client to a short-lived presigned URL so the bytes never pass through the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from mutoscope.errors import NotFound
from mutoscope.storage.files import MEDIA_TYPES, LocalFileStore

if TYPE_CHECKING:
    from mutoscope.services import Services


def media_response(
    services: Services,
    video_id: str,
    variant: str,
    *,
    filename: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The file as a response; ``NotFound`` if the store has no such file (synchronous I/O:
    call it from a worker thread)."""
    files, media_type = services.files, MEDIA_TYPES[variant]
    if isinstance(files, LocalFileStore):
        path = files.path(video_id, variant)
        if not path.is_file():
            raise NotFound(f"video '{video_id}' has no {variant} file")
        return FileResponse(path, media_type=media_type, filename=filename, headers=headers)
    if services.settings.storage_redirect:
        url = files.url(video_id, variant, filename=filename)
        if url is not None:
            return RedirectResponse(url, status_code=307, headers=headers)
    try:
        size = files.size(video_id, variant)
    except FileNotFoundError as exc:
        raise NotFound(f"video '{video_id}' has no {variant} file") from exc
    extra = {"Content-Length": str(size), **(headers or {})}
    if filename:
        extra["Content-Disposition"] = f'attachment; filename="{filename}"'
    return StreamingResponse(
        files.iter_bytes(video_id, variant), media_type=media_type, headers=extra
    )
