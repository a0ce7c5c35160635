"""Wire models mirroring the OpenAI Videos API, built from rows in one function each."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from mutoscope.storage.records import VideoRecord


class VideoError(BaseModel):
    code: str
    message: str
    param: str | None = None
    type: str | None = None


class Video(BaseModel):
    id: str
    object: Literal["video"] = "video"
    model: str
    """The model that makes (or made) the video, with any alias resolved ("sora-2" ->
    "mutoscope-tiny"); the SDK types it as any string."""
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int
    created_at: int
    completed_at: int | None
    expires_at: int | None
    prompt: str | None
    size: str
    seconds: str
    remixed_from_video_id: str | None
    error: VideoError | None
    warning: str | None = None
    """Mutoscope extension, present only when set: what the model cannot draw of the prompt
    (e.g. a prompt outside the embedded model's shapes world), set at creation."""
    options: dict[str, Any] | None = None
    """Mutoscope extension, present only when set: the per-request generation options
    (``steps``, ``guidance``, ``negative_prompt``, ``loras``, ``preset``) it was made with."""
    requested_model: str | None = None
    """Mutoscope extension, present only when the request named the model by an alias (such
    as "sora-2"): the name as requested."""


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str
    description: str | None = None
    sizes: list[str] = []
    seconds: list[str] = []
    accepts_image: bool = False
    accepts_video: bool = False
    """Video-to-video: the model can remix and edit videos."""
    continues: bool = False
    """The model can extend videos (a continuation of their last frames)."""
    options: list[str] = []
    """Per-request options it takes (``steps``, ``guidance``, ``negative_prompt``, ``loras``,
    ``preset``)."""
    presets: list[str] = []
    """Preset names a request may pick (``preset``)."""
    loras: list[str] = []
    """LoRAs a request may name (``lora``/``loras``)."""
    alias_of: str | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def video_dict(r: VideoRecord | Any) -> dict:
    """The wire ``Video`` as a plain dict (the hot path: no model validation).

    ``model`` is the resolved model; ``requested_model`` (only when it differs) the name the
    request gave. ``warning`` and ``options`` appear only when set, so a plain video has
    OpenAI's exact shape.
    """
    warning = getattr(r, "warning", None)
    options = getattr(r, "options", None)
    resolved = getattr(r, "backend", None) or r.model
    return {
        "id": r.id,
        "object": "video",
        "model": resolved,
        "status": r.status,
        "progress": r.progress,
        "created_at": r.created_at,
        "completed_at": r.completed_at,
        "expires_at": r.expires_at,
        "prompt": r.prompt,
        "size": r.size,
        "seconds": r.seconds,
        "remixed_from_video_id": r.remixed_from_video_id,
        "error": {
            "code": r.error_code,
            "message": r.error_message or "",
            "param": None,
            "type": None,
        }
        if r.error_code
        else None,
        **({"warning": warning} if warning else {}),
        **({"options": options} if options else {}),
        **({"requested_model": r.model} if r.model != resolved else {}),
    }


def list_page(data: list[dict], has_more: bool) -> dict:
    """A cursor page as the OpenAI SDK reads video and file lists (``first_id``/``last_id``)."""
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
