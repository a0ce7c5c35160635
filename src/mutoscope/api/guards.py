"""ASGI guards around the whole app: bounded bodies, sane JSON, and no bare 500s.

They sit outside FastAPI so that they hold for every route, including ones other layers add:

- ``BodyLimitMiddleware`` counts the bytes actually received (a chunked body has no
  ``Content-Length`` to trust) and stops at the route's limit with a 413; JSON bodies are
  checked once for UTF-8, nesting depth and lone surrogates before any route parses them.
- ``LastResortMiddleware`` turns anything that escaped every handler into a 500 in the OpenAI
  error shape, with no internal detail, and keeps the connection usable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 32
"""Objects and arrays nested deeper than this are refused (no request needs more than ~4)."""

_THREAD_OVER = 256 * 1024
"""JSON bodies larger than this are checked in a worker thread, off the event loop."""


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes its limit (FastAPI re-raises HTTPExceptions)."""

    def __init__(self, limit: int):
        super().__init__(
            413,
            f"request body is larger than the limit of {limit:,} bytes; send a smaller file "
            "(the operator sets the limit with MUTOSCOPE_MAX_UPLOAD_BYTES or "
            "MUTOSCOPE_VERIFY_MAX_BYTES)",
        )


class BadJson(ValueError):
    pass


def _error(status: int, message: str, code: str, headers: list | None = None) -> list[dict]:
    body = json.dumps(
        {
            "error": {
                "message": message,
                "type": "server_error" if status >= 500 else "invalid_request_error",
                "param": None,
                "code": code,
            }
        }
    ).encode()
    head = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": head},
        {"type": "http.response.body", "body": body},
    ]


async def _send_all(send: Any, messages: list[dict]) -> None:
    for message in messages:
        await send(message)


class LastResortMiddleware:
    """Any exception no handler took becomes a JSON 500; it is logged, not re-raised."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                return  # headers are out; the client sees a short body, nothing more to say
            await _send_all(
                send,
                _error(
                    500,
                    "The server hit an internal error while handling this request; it has "
                    "been logged. Retry later, or report it to the operator.",
                    "internal_error",
                ),
            )


class BodyLimitMiddleware:
    """Caps every request body at ``limit_for(path)`` bytes and vets JSON bodies."""

    def __init__(self, app: Any, *, limit_for: Callable[[str], int]):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _send_all(send, _error(413, BodyTooLarge(limit).detail, "file_too_large"))
            return
        counting = _counting_receive(receive, limit)
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype == b"application/json" or ctype.endswith(b"+json"):
            try:
                body = await _read_all(counting)
                await _check_json(body)
            except BodyTooLarge as exc:
                await _send_all(send, _error(413, exc.detail, "file_too_large"))
                return
            except BadJson as exc:
                await _send_all(send, _error(400, str(exc), "invalid_json"))
                return
            counting = _replay(body, receive)
        await self.app(scope, counting, send)


def _counting_receive(receive: Any, limit: int) -> Any:
    seen = 0

    async def counting() -> Any:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counting


async def _read_all(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:  # the body is spent: from here on, wait for the client to go away
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _check_json(body: bytes) -> None:
    if not body.strip():
        return
    if len(body) > _THREAD_OVER:
        await anyio.to_thread.run_sync(check_json_bytes, body)
    else:
        check_json_bytes(body)


def check_json_bytes(body: bytes) -> None:
    """Raise ``BadJson`` with a teaching message if ``body`` is not JSON a route can take."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(
            f"request body is not UTF-8 (invalid byte at position {exc.start}); send JSON "
            "encoded as UTF-8"
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadJson(
            f"request JSON is nested too deeply (the limit is {MAX_JSON_DEPTH})"
        ) from None
    except json.JSONDecodeError as exc:
        raise BadJson(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    _walk(data)


def _walk(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadJson(f"request JSON is nested too deeply (the limit is {MAX_JSON_DEPTH})")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                stack.append((item, depth + 1))


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadJson(
            f"a JSON string contains a lone surrogate (\\u{ord(value[exc.start]):04x}); "
            "strings must be valid Unicode text"
        ) from None
