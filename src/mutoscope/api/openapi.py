"""The OpenAPI document, made to tell the truth.

Routes that read their body by hand (multipart or JSON, as the OpenAI SDK sends it) declare it
here through ``openapi_extra``; ``install`` then gives every operation the error responses it
can really return, all in the OpenAI error shape, and drops FastAPI's 422 (validation errors
are reported as 400 by ``api.errors``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}

_DESCRIPTIONS = {
    400: "The request is invalid; the message says what would work.",
    401: "No valid API key or session.",
    403: "The caller may not do this.",
    404: "No such resource (or not visible to the caller).",
    413: "The body or a file in it is larger than the server accepts.",
    415: "The body or file is of a type this route does not take.",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
    500: "An internal error; it has been logged.",
}

_STRING = {"type": "string"}
_VIDEO_FIELDS: dict[str, Any] = {
    "prompt": {"type": "string", "minLength": 1, "maxLength": 32000},
    "model": _STRING,
    "seconds": {"type": "string", "description": 'Clip length, e.g. "4", "8" or "12".'},
    "size": {"type": "string", "description": 'WIDTHxHEIGHT, e.g. "1280x720".'},
    "seed": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
}


def _body(*, multipart: dict[str, Any], json: dict[str, Any], required: list[str]) -> dict:
    def schema(props: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": props, "required": required}

    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": schema(multipart)},
                "application/json": {"schema": schema(json)},
            },
        }
    }


CREATE_VIDEO = _body(
    multipart={
        **_VIDEO_FIELDS,
        "input_reference": {
            "type": "string",
            "format": "binary",
            "description": "A PNG, JPEG or WebP image the video starts from.",
        },
    },
    json={
        **_VIDEO_FIELDS,
        "input_reference": {
            "type": "object",
            "properties": {
                "image_url": {"type": "string", "description": "A public http(s) or data: URL."}
            },
        },
    },
    required=["prompt"],
)

_EXTEND_FIELDS: dict[str, Any] = {
    "prompt": _VIDEO_FIELDS["prompt"],
    "seconds": _VIDEO_FIELDS["seconds"],
}
EXTEND_VIDEO = _body(
    multipart={**_EXTEND_FIELDS, "video[id]": _STRING},
    json={
        **_EXTEND_FIELDS,
        "video": {"type": "object", "required": ["id"], "properties": {"id": _STRING}},
    },
    required=["prompt"],
)

RIGHTS_IMPORT = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {
                "schema": {"type": "string", "description": "A registry file (YAML)."}
            }
        },
    }
}

VERIFY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string", "description": "A public http(s) URL."}
                    },
                }
            },
        },
    }
}


def install(app: FastAPI) -> None:
    """Patch the generated document once, the first time it is asked for."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for route in app.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                _document_errors(schema, route)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(schema: dict[str, Any], route: APIRoute) -> None:
    path_item = schema["paths"].get(route.path_format, {})
    for method in route.methods or ():
        operation = path_item.get(method.lower())
        if operation is None:
            continue
        responses = operation.setdefault("responses", {})
        responses.pop("422", None)
        for status in statuses(route, has_body="requestBody" in operation):
            responses.setdefault(str(status), _response(status))


def statuses(route: APIRoute, *, has_body: bool) -> list[int]:
    """The error statuses ``route`` can answer with."""
    codes = [400, 404, 429, 500]
    if _needs_auth(route):
        codes += [401, 403]
    if has_body:
        codes += [413, 415]
    return sorted(codes)


def _needs_auth(route: APIRoute) -> bool:
    # Any caller-identifying dependency from api.deps, except the optional one.
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        module, name = getattr(call, "__module__", ""), getattr(call, "__name__", "")
        if module == "mutoscope.api.deps" and name not in _NOT_AUTH:
            return True
        stack.extend(dep.dependencies)
    return False


_NOT_AUTH = {"get_services", "get_users", "get_videos", "optional_user"}


def _response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response
