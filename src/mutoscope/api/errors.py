"""The one place that turns errors into OpenAI-shaped JSON.

Every error body is ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mutoscope.errors import MutoscopeError

_HTTP_CODES = {413: "file_too_large", 429: "rate_limit_exceeded"}
_HTTP_TYPES = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error"}


def error_body(message: str, type_: str, param: str | None, code: str | None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def install(app: FastAPI) -> None:
    app.add_exception_handler(MutoscopeError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _conflict)  # type: ignore[arg-type]


async def _domain(request: Request, exc: MutoscopeError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    headers = {**(headers or {}), **getattr(exc, "headers", {})} or None  # Retry-After on 429
    return JSONResponse(
        error_body(exc.message, exc.type, exc.param, exc.code),
        status_code=exc.status,
        headers=headers,
    )


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Never leak FastAPI's 422 shape: report the first problem as a 400 that names the field.
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
    param = ".".join(loc) or None
    message = f"{param}: {first.get('msg', 'invalid value')}" if param else first.get("msg", "")
    return JSONResponse(
        error_body(message or "invalid request", "invalid_request_error", param, "invalid_value"),
        status_code=400,
    )


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = f"Unknown path {request.url.path}; see /docs for the endpoints."
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    return JSONResponse(
        error_body(
            message,
            _HTTP_TYPES.get(exc.status_code, "invalid_request_error"),
            None,
            None
            if exc.status_code >= 500
            else _HTTP_CODES.get(exc.status_code, str(exc.status_code)),
        ),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _conflict(request: Request, exc: IntegrityError) -> JSONResponse:
    # Two writers racing for the same unique value (a name, an id): the loser gets a 409.
    return JSONResponse(
        error_body(
            "this conflicts with an existing record (a name or id that must be unique is "
            "taken); choose another value, or fetch the existing one",
            "invalid_request_error",
            None,
            "conflict",
        ),
        status_code=409,
    )
