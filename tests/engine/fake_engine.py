"""A small engine speaking the OpenAI Videos API on a loopback port, for contract tests.

It records every create call (content type, form fields or JSON, file parts) and every
delete, serves a real MP4, and can be told to fail: ``engine.script`` says how.
"""

from __future__ import annotations

import io
import itertools
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image
from starlette.datastructures import UploadFile

from mutoscope.media import encode_mp4
from mutoscope.media.audio import AudioTrack

FRAMES, HEIGHT, WIDTH, FPS = 8, 48, 64, 16


def small_mp4(audio: AudioTrack | None = None) -> bytes:
    """A real H.264 MP4 (with ``audio`` as AAC): a red bar that grows across the frame."""
    frames = np.zeros((FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)
    for i in range(FRAMES):
        frames[i, :, : (i + 1) * WIDTH // FRAMES] = (200, 40, 40)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        encode_mp4(frames, path, fps=FPS, audio=audio)
        return path.read_bytes()


@dataclass
class Script:
    polls_to_finish: int = 3
    poll_after_ms: int | None = 10
    create_errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """Answers to the next create calls, in order, before it accepts one."""
    fail_job: dict[str, Any] | None = None
    """The job ends ``failed`` with this ``error``."""


@dataclass
class FakeEngine:
    url: str = ""
    script: Script = field(default_factory=Script)
    creates: list[dict[str, Any]] = field(default_factory=list)
    remixes: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    polls: int = 0
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    mp4: bytes = field(default_factory=small_mp4)
    last_image: Image.Image | None = None
    served: list[str] = field(default_factory=lambda: ["engine-default"])
    """What ``GET /v1/models`` lists."""
    api_key: str | None = None
    """When set, ``GET /v1/models`` wants ``Authorization: Bearer`` it."""

    def reset(self) -> None:
        self.served = ["engine-default"]
        self.api_key = None
        self.script = Script()
        self.creates.clear()
        self.remixes.clear()
        self.deleted.clear()
        self.jobs.clear()
        self.polls = 0
        self.last_image = None


def build_app(engine: FakeEngine) -> FastAPI:
    app = FastAPI()
    ids = itertools.count(1)

    def headers() -> dict[str, str]:
        after = engine.script.poll_after_ms
        return {"openai-poll-after-ms": str(after)} if after is not None else {}

    def job(model: str | None) -> JSONResponse:
        video = {"id": f"vid_{next(ids)}", "object": "video", "status": "queued", "progress": 0}
        video.update({"model": model or "engine-default", "created_at": int(time.time())})
        video["_polls"] = 0
        engine.jobs[video["id"]] = video
        return JSONResponse(_public(video), headers=headers())

    @app.get("/v1/models")
    async def models(request: Request) -> JSONResponse:
        if engine.api_key and request.headers.get("authorization") != f"Bearer {engine.api_key}":
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
            return JSONResponse({"error": {**error, "param": None, "code": None}}, 401)
        data = [{"id": m, "object": "model", "owned_by": "engine"} for m in engine.served]
        return JSONResponse({"object": "list", "data": data})

    @app.post("/v1/videos")
    async def create(request: Request) -> JSONResponse:
        ctype = request.headers.get("content-type", "")
        record: dict[str, Any] = {"content_type": ctype.split(";")[0], "files": {}}
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            record["fields"] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    record["files"][key] = (value.filename, value.content_type, len(data))
                    if value.content_type == "image/png":
                        engine.last_image = Image.open(io.BytesIO(data)).convert("RGB")
                else:
                    record["fields"][key] = value
        else:
            record["fields"] = await request.json()
        record["authorization"] = request.headers.get("authorization")
        engine.creates.append(record)
        if engine.script.create_errors:
            status, body = engine.script.create_errors.pop(0)
            return JSONResponse(body, status_code=status)
        return job(record["fields"].get("model"))

    @app.post("/v1/videos/{video_id}/remix")
    async def remix(video_id: str, request: Request) -> JSONResponse:
        engine.remixes.append({"video_id": video_id, **(await request.json())})
        if video_id not in engine.jobs:
            return JSONResponse({"error": {"message": "no such video"}}, status_code=404)
        return job(None)

    @app.get("/v1/videos/{video_id}")
    async def retrieve(video_id: str) -> JSONResponse:
        engine.polls += 1
        video = engine.jobs.get(video_id)
        if video is None:
            return JSONResponse({"detail": "Video not found"}, status_code=404)
        video["_polls"] += 1
        done = video["_polls"] >= engine.script.polls_to_finish
        if done and engine.script.fail_job is not None:
            video.update(status="failed", error=engine.script.fail_job)
        elif done:
            video.update(status="completed", progress=100)
        else:
            step = 100 // engine.script.polls_to_finish
            video.update(status="in_progress", progress=video["_polls"] * step)
        return JSONResponse(_public(video), headers=headers())

    @app.get("/v1/videos/{video_id}/content")
    async def content(video_id: str) -> Response:
        if engine.jobs.get(video_id, {}).get("status") != "completed":
            return JSONResponse({"detail": "Generation is still in-progress"}, status_code=404)
        return Response(engine.mp4, media_type="video/mp4")

    @app.delete("/v1/videos/{video_id}")
    async def delete(video_id: str) -> JSONResponse:
        engine.deleted.append(video_id)
        engine.jobs.pop(video_id, None)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    return app


def _public(video: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in video.items() if not k.startswith("_")}


@contextmanager
def running_engine() -> Iterator[FakeEngine]:
    engine = FakeEngine()
    config = uvicorn.Config(build_app(engine), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        assert time.time() < deadline, "fake engine did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    engine.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield engine
    finally:
        server.should_exit = True
        thread.join(5)
