"""``family = "openai-videos"``: hand generation to an inference engine's ``/v1/videos`` API.

vLLM-Omni, SGLang Diffusion, NVIDIA Dynamo's frontend, FastVideo or another Mutoscope serve
open video models behind an OpenAI-style job API. This backend creates the job there, relays
its ``progress``, downloads and decodes its MP4 and returns the frames, so the output rights
check, watermark, encode and C2PA signing are the same as for any backend; the manifest
names the engine and its model (``GeneratedVideo.provenance``).

Declared in ``models.toml`` next to the diffusers models::

    [[models]]
    id = "wan-a14b"
    family = "openai-videos"
    engine = "vllm-omni"            # field mapping: mutoscope, openai, vllm-omni, sglang, dynamo
    base_url = "http://gpu-node-1:8091/v1"
    upstream_model = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
    api_key_env = "VLLM_API_KEY"

See docs/models.md for every key.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import httpx
import numpy as np
from PIL import Image

from mutoscope.backends.base import (
    OPENAI_SECONDS,
    OPENAI_SIZES,
    GeneratedVideo,
    GenerationRequest,
    ProgressCallback,
    VideoBackend,
)
from mutoscope.backends.engine_client import (
    EngineClient,
    EngineFailed,
    EngineRejected,
    RetryOptions,
    failure_message,
)
from mutoscope.backends.engine_fields import (
    PRESETS,
    FieldMapping,
    Sampling,
    encode_body,
    options_taken,
    png_file,
    request_fields,
)
from mutoscope.errors import InvalidRequest
from mutoscope.media import decode_mp4, encode_mp4
from mutoscope.media.video import read_audio

if TYPE_CHECKING:
    from mutoscope.backends.registry import Register
    from mutoscope.config import Settings

log = logging.getLogger(__name__)

FAMILY = "openai-videos"
POLL_AFTER_HEADER = "openai-poll-after-ms"
#: Frames decoded from an engine's MP4 at most (12 s at 60 fps, with room to spare).
MAX_FRAMES = 1000


class EngineSpecError(ValueError):
    """A ``models.toml`` engine entry is malformed; the message names the key to fix."""


@dataclass(frozen=True)
class EngineSpec:
    """One ``[[models]]`` entry with ``family = "openai-videos"``."""

    id: str
    base_url: str
    engine: str = "mutoscope"
    family: str = FAMILY
    upstream_model: str | None = None
    api_key_env: str | None = None
    """Name of the environment variable holding the engine's API key (never the key)."""
    description: str = ""
    aliases: tuple[str, ...] = ()
    sizes: tuple[str, ...] = OPENAI_SIZES
    seconds: tuple[str, ...] = OPENAI_SECONDS
    size_map: dict[str, str] = field(default_factory=dict)
    fps: float = 24.0
    frame_step: int = 1
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str | None = None
    fields: dict[str, str | int | float | bool] = field(default_factory=dict)
    """Constant fields added to every create call (engine-specific knobs, e.g. flow_shift)."""
    accepts_image: bool = True
    remix: bool | None = None
    """Pass remix through (default: where the engine's mapping can)."""
    poll_interval: float = 2.0
    """Seconds between polls when the engine sends no ``openai-poll-after-ms``."""
    timeout: float = 3600.0
    """Seconds a job may take on the engine before it is given up (and deleted there)."""
    request_timeout: float = 60.0
    retries: int = 5
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0
    max_download_mb: int = 1024
    delete_after_download: bool | None = None
    """Delete the engine's copy once downloaded (default: unless remix needs it there)."""

    @property
    def mapping(self) -> FieldMapping:
        return PRESETS[self.engine]

    @property
    def can_remix(self) -> bool:
        return self.mapping.remix != "none" if self.remix is None else self.remix

    @property
    def keep_upstream(self) -> bool:
        if self.delete_after_download is not None:
            return not self.delete_after_download
        return bool(self.mapping.remix == "upstream" and self.can_remix)


def read_engine_specs(path: Path) -> list[EngineSpec]:
    """The ``openai-videos`` entries of ``models.toml`` (others are the diffusers loader's)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EngineSpecError(f"{path}: {exc}") from exc
    entries = [m for m in data.get("models", []) if m.get("family") == FAMILY]
    return [engine_spec(entry) for entry in entries]


def engine_spec(entry: Mapping[str, Any]) -> EngineSpec:
    where = f"[[models]] {entry.get('id', '(no id)')}"
    known = {f.name for f in fields(EngineSpec)}
    if unknown := sorted(set(entry) - known):
        raise EngineSpecError(f"{where}: unknown keys {unknown}; see docs/models.md (engines)")
    for key in ("id", "base_url"):
        if not entry.get(key):
            raise EngineSpecError(f"{where}: '{key}' is required")
    if entry.get("engine", "mutoscope") not in PRESETS:
        raise EngineSpecError(f"{where}: engine must be one of {sorted(PRESETS)}")
    if not str(entry["base_url"]).startswith(("http://", "https://")):
        raise EngineSpecError(f"{where}: base_url must be http(s)://host:port/v1")
    values = dict(entry)
    for key in ("aliases", "sizes", "seconds"):
        if key in values:
            values[key] = tuple(str(v) for v in values[key])
    for size in (*values.get("sizes", ()), *values.get("size_map", {}).values()):
        if not _is_size(size):
            raise EngineSpecError(f"{where}: sizes must look like '1280x720' (got '{size}')")
    return EngineSpec(**values)


def _is_size(size: object) -> bool:
    parts = str(size).split("x")
    return len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts)


class OpenAIVideosBackend(VideoBackend):
    """A model served by a remote engine; cheap to build (nothing is contacted until used)."""

    owned_by = "engine"

    def __init__(
        self,
        spec: EngineSpec,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.spec = spec
        self.name = spec.id
        self.description = spec.description or (
            f"{spec.upstream_model or 'a model'} on a {spec.engine} engine"
        )
        self.aliases = spec.aliases
        self.sizes, self.seconds, self.fps = spec.sizes, spec.seconds, spec.fps
        self.accepts_image = spec.accepts_image
        self.accepts_video = spec.can_remix
        # An extension is image-to-video from the clip's last frame; the worker stitches.
        self.continues = spec.accepts_image
        self.mapping = spec.mapping
        self.request_options = options_taken(self.mapping)
        self.sleep = sleep
        self.sampling = Sampling(
            upstream_model=spec.upstream_model,
            fps=spec.fps,
            frame_step=spec.frame_step,
            steps=spec.steps,
            guidance=spec.guidance,
            negative_prompt=spec.negative_prompt,
            size_map=spec.size_map,
        )
        api_key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        if spec.api_key_env and not api_key:
            log.warning(
                "model %s: %s is not set; calling the engine without a key",
                spec.id,
                spec.api_key_env,
            )
        self.client = EngineClient(
            spec.id,
            spec.base_url,
            api_key=api_key,
            timeout=spec.request_timeout,
            retry=RetryOptions(spec.retries, spec.retry_base_delay, spec.retry_max_delay),
            transport=transport,
            sleep=sleep,
        )

    def check(self, request: GenerationRequest) -> None:
        super().check(request)
        engine = f"model '{self.name}' (a {self.spec.engine} engine)"
        if request.mode == "remix" and not self.spec.can_remix:
            raise InvalidRequest(
                f"{engine} cannot remix videos: its engine takes no source video; "
                "make a new video instead",
                param="model",
            )

    def check_options(self, options: Mapping[str, object]) -> None:
        if self.mapping.pass_options:
            return  # a Mutoscope upstream knows its LoRAs and presets; it refuses the rest
        super().check_options(options)

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        self.check(request)
        # 1. Start the job on the engine (a create, or a remix of the engine's own parent)
        response = self._start(request)
        video = self._video(response)
        if _inline_video(video) is not None:  # synchronous engines answer with the MP4 itself
            return self._result(_inline_video(video) or b"", video)
        video_id = str(video["id"])
        try:
            # 2. Poll until it is done, relaying progress (cancellation raises from on_progress)
            video = self._wait(video, response, on_progress)
            # 3. Download the MP4 (bounded)
            data = self.client.download(
                f"videos/{video_id}/content", max_bytes=self.spec.max_download_mb * 2**20
            )
        except BaseException:
            # Cancelled, timed out or failed: the engine must not keep working on it.
            self.client.discard(f"videos/{video_id}")
            raise
        if not self.spec.keep_upstream:
            self.client.discard(f"videos/{video_id}")
        # 4. Decode into frames; the worker's steps (rights, watermark, sign) follow
        return self._result(data, video)

    def _start(self, request: GenerationRequest) -> httpx.Response:
        fields = request_fields(
            self.mapping,
            self.sampling,
            prompt=request.prompt,
            size=request.size,
            seconds=request.seconds,
            seed=request.seed,
            options=request.options,
            extra=self.spec.fields,
        )
        files: dict[str, tuple[str, bytes, str]] = {}
        if request.mode == "remix":
            parent = self._upstream_parent(request)
            if parent is not None:
                return self.client.send(
                    "POST", f"videos/{parent}/remix", json={"prompt": request.prompt}
                )
            files["input_reference"] = _mp4_file(request.source_video, self.spec.fps)
        elif request.mode == "extend":
            files["input_reference"] = png_file(_last_frame(request.source_video))
        elif request.image is not None:
            files["input_reference"] = png_file(request.image)
        return self.client.send("POST", "videos", **encode_body(self.mapping, fields, files))

    def _upstream_parent(self, request: GenerationRequest) -> str | None:
        """The engine's id for the parent, for ``POST /videos/{id}/remix`` (``upstream``)."""
        if self.mapping.remix != "upstream":
            if request.source_video is None:
                raise InvalidRequest(f"model '{self.name}' needs the parent's frames to remix")
            return None
        engine = getattr(request, "parent_engine", None) or {}
        if engine.get("backend") != self.name or not engine.get("upstream_video_id"):
            raise InvalidRequest(
                f"model '{self.name}' can remix only videos its engine made (this one was made "
                "by another model); remix it with the model that made it",
                param="video_id",
            )
        return str(engine["upstream_video_id"])

    def _wait(
        self, video: dict[str, Any], response: httpx.Response, on_progress: ProgressCallback
    ) -> dict[str, Any]:
        video_id = str(video["id"])
        deadline = time.monotonic() + self.spec.timeout
        while True:
            status = video.get("status")
            if status == "completed":
                on_progress(1.0)
                return video
            if status in ("failed", "cancelled", "deleted"):
                raise EngineFailed(
                    f"the engine behind model '{self.name}' {status} the video: "
                    f"{failure_message(video)}"
                )
            on_progress(float(video.get("progress") or 0) / 100)
            if time.monotonic() > deadline:
                raise EngineFailed(
                    f"the engine behind model '{self.name}' took over {self.spec.timeout:.0f} s; "
                    "it was stopped there (raise timeout for it in models.toml if expected)"
                )
            self.sleep(self._poll_after(response))
            try:
                response = self.client.send("GET", f"videos/{video_id}")
            except EngineRejected as exc:
                raise EngineFailed(
                    f"the engine behind model '{self.name}' lost the video (it may have "
                    f"restarted): {exc.message}"
                ) from exc
            video = self._video(response)

    def _video(self, response: httpx.Response) -> dict[str, Any]:
        """The engine's video object; anything else fails the video with what came back."""
        try:
            video = response.json()
        except ValueError:
            video = None
        if isinstance(video, dict) and (video.get("id") or _inline_video(video) is not None):
            return video
        raise EngineFailed(
            f"the engine behind model '{self.name}' answered without a video object "
            f"({response.status_code}: {response.text.strip()[:120]!r}); is base_url its /v1?"
        )

    def _poll_after(self, response: httpx.Response) -> float:
        header = response.headers.get(POLL_AFTER_HEADER, "")
        if header.isdigit():
            return min(60.0, max(0.05, int(header) / 1000))
        return self.spec.poll_interval

    def _result(self, data: bytes, video: Mapping[str, Any]) -> GeneratedVideo:
        try:
            frames = decode_mp4(data, max_frames=MAX_FRAMES)
            fps = _frame_rate(data) or self.spec.fps
            audio = read_audio(data)  # engines that make sound (LTX-2) return it in the MP4
        except (av.error.FFmpegError, ValueError) as exc:
            raise EngineFailed(
                f"the engine behind model '{self.name}' returned a video that could not be "
                f"decoded ({exc})"
            ) from exc
        provenance = {
            "engine": self.spec.engine,
            "backend": self.name,
            "upstream_model": str(video.get("model") or self.spec.upstream_model or ""),
        }
        if video.get("id"):
            provenance["upstream_video_id"] = str(video["id"])
        return GeneratedVideo(frames=frames, fps=fps, audio=audio, provenance=provenance)

    def forget(self, provenance: dict[str, str]) -> None:
        """Delete the engine's copy of a video deleted here (kept for remix until then)."""
        if provenance.get("backend") == self.name and provenance.get("upstream_video_id"):
            self.client.discard(f"videos/{provenance['upstream_video_id']}")

    def close(self) -> None:
        self.client.close()


def _inline_video(video: Mapping[str, Any]) -> bytes | None:
    """``data[0].b64_json`` of engines that answer the create call with the video."""
    data = video.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("b64_json"):
        return base64.b64decode(data[0]["b64_json"])
    return None


def _frame_rate(data: bytes) -> float | None:
    with av.open(io.BytesIO(data), mode="r") as container:
        rate = container.streams.video[0].average_rate
    return float(rate) if rate else None


def _last_frame(frames: np.ndarray | None) -> Image.Image:
    if frames is None or not len(frames):
        raise InvalidRequest("an extension needs the frames of the clip it continues")
    return Image.fromarray(np.ascontiguousarray(frames[-1]))


def _mp4_file(frames: np.ndarray | None, fps: float) -> tuple[str, bytes, str]:
    if frames is None:
        raise InvalidRequest("remix needs the parent video's frames")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "parent.mp4"
        encode_mp4(frames, path, fps=fps)
        return ("parent.mp4", path.read_bytes(), "video/mp4")


def register_backends(register: Register, settings: Settings) -> None:
    """One backend per ``openai-videos`` entry of ``models.toml``; nothing without the file."""
    path = settings.models_path
    if not path.is_file():
        return
    try:
        specs = read_engine_specs(path)
    except EngineSpecError as exc:
        log.error("ignoring the engines in %s: %s", path, exc)
        return
    for spec in specs:
        register(OpenAIVideosBackend(spec))
