"""The OpenAPI document, made to tell the truth.

Routes that read their body by hand (multipart or JSON, as the OpenAI SDK sends it) declare it
here through ``openapi_extra``; ``install`` then gives every operation the error responses it
can really return, all in the OpenAI error shape, and drops FastAPI's 422 (validation errors
are reported as 400 by ``api.errors``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

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
    409: "The request conflicts with an existing record (e.g. a unique name).",
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


_CHARACTERS_JSON: dict[str, Any] = {
    "type": "array",
    "maxItems": 16,
    "items": {"type": "object", "required": ["id"], "properties": {"id": _STRING}},
    "description": 'Characters the video uses, each named in the prompt: [{"id": "char_..."}].',
}
_CHARACTERS_FORM: dict[str, Any] = {
    "type": "array",
    "items": _STRING,
    "description": "Character ids, one field each (what the SDK sends for extra_body).",
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
        "input_reference[file_id]": {
            "type": "string",
            "description": "Or the id of such an image uploaded to /v1/files.",
        },
        "characters[][id]": _CHARACTERS_FORM,
    },
    json={
        **_VIDEO_FIELDS,
        "input_reference": {
            "type": "object",
            "properties": {
                "image_url": {"type": "string", "description": "A public http(s) or data: URL."},
                "file_id": {"type": "string", "description": "An image uploaded to /v1/files."},
            },
        },
        "characters": _CHARACTERS_JSON,
    },
    required=["prompt"],
)

_EXTEND_FIELDS: dict[str, Any] = {
    "prompt": _VIDEO_FIELDS["prompt"],
    "seconds": _VIDEO_FIELDS["seconds"],
}
_SOURCE_MULTIPART: dict[str, Any] = {
    "video": {
        "type": "string",
        "format": "binary",
        "description": "An MP4 (H.264), WebM or QuickTime clip to start from.",
    },
    "video[id]": {"type": "string", "description": "Or a completed video's id."},
    "video[file_id]": {"type": "string", "description": "Or a clip uploaded to /v1/files."},
    "model": _STRING,
    "size": _VIDEO_FIELDS["size"],
    "characters[][id]": _CHARACTERS_FORM,
}
_SOURCE_JSON: dict[str, Any] = {
    "video": {
        "type": "object",
        "properties": {"id": _STRING, "file_id": _STRING},
        "description": 'A completed video {"id": "video_..."} or an upload {"file_id": ...}.',
    },
    "model": _STRING,
    "size": _VIDEO_FIELDS["size"],
    "characters": _CHARACTERS_JSON,
}
EXTEND_VIDEO = _body(
    multipart={**_EXTEND_FIELDS, **_SOURCE_MULTIPART},
    json={**_EXTEND_FIELDS, **_SOURCE_JSON},
    required=["prompt"],
)
_STRENGTH = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 1,
    "description": "How far the edit may move from the source (lower keeps more of it).",
}
EDIT_VIDEO = _body(
    multipart={"prompt": _VIDEO_FIELDS["prompt"], "strength": _STRENGTH, **_SOURCE_MULTIPART},
    json={"prompt": _VIDEO_FIELDS["prompt"], "strength": _STRENGTH, **_SOURCE_JSON},
    required=["prompt"],
)

CREATE_CHARACTER = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name", "video"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "video": {
                            "type": "string",
                            "format": "binary",
                            "description": "A 2 to 10 second clip (MP4, WebM or MOV).",
                        },
                        "kind": {"type": "string", "enum": ["person", "pet", "object", "drawn"]},
                        "permission": {
                            "type": "string",
                            "enum": ["only_me", "approved", "mutual", "everyone"],
                        },
                        "description": {"type": "string", "maxLength": 1000},
                        "rules": {"type": "string", "description": "One rule a line."},
                    },
                }
            }
        },
    }
}

CREATE_FILE = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "purpose"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "purpose": {
                            "type": "string",
                            "enum": [
                                "assistants",
                                "batch",
                                "fine-tune",
                                "vision",
                                "user_data",
                                "evals",
                            ],
                            "description": "Use 'vision' for reference images.",
                        },
                    },
                }
            }
        },
    }
}

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


PUBLIC = {
    ("post", "/v1/provenance/verify"),
    ("get", "/v1/provenance/trust-anchors.pem"),
}
"""Operations that need no API key (everything else answers 401 without one)."""

MEDIA_RESPONSES = {
    ("get", "/v1/videos/{video_id}/content"): ("video/mp4", "image/jpeg"),
    ("get", "/v1/provenance/trust-anchors.pem"): ("application/x-pem-file",),
    ("get", "/v1/rights/audit/export"): ("application/x-ndjson",),
    ("get", "/v1/files/{file_id}/content"): ("application/octet-stream",),
}
"""Operations whose success is not JSON, with the media types they send."""

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def install(app: FastAPI) -> None:
    """Patch the generated document once, the first time it is asked for."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if method in _METHODS:
                    document_errors(path, method, operation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    """Give ``operation`` the error responses it can return; drop FastAPI's unused 422."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    media = MEDIA_RESPONSES.get((method, path))
    if media and "200" in responses:
        responses["200"]["content"] = {kind: {} for kind in media}
    for status in statuses(path, method, has_body="requestBody" in operation):
        responses.setdefault(str(status), _response(status))


def statuses(path: str, method: str, *, has_body: bool) -> list[int]:
    """The error statuses an operation can answer with."""
    codes = [400, 404, 429, 500]
    if (method, path) not in PUBLIC:
        codes += [401, 403]
    if method in ("post", "put", "patch"):
        codes.append(409)
    if has_body:
        codes += [413, 415]
    return sorted(codes)


def _response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response
