"""Only answer requests addressed to an expected host name.

Keyless mode trusts whoever can reach the loopback port. A web page the user visits can
rebind its own DNS name to 127.0.0.1 and then call the API from the browser (DNS
rebinding); its requests still carry the page's ``Host``, so refusing every ``Host`` but
the loopback names keeps them out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without port, brackets or a trailing dot."""
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        return header[1 : header.find("]")] if "]" in header else header
    if header.count(":") == 1:
        header = header.split(":", 1)[0]
    return header.rstrip(".")


def host_allowed(name: str, allowed: Iterable[str]) -> bool:
    for pattern in allowed:
        pattern = pattern.lower().rstrip(".")
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class TrustedHostMiddleware:
    """Refuses (400, OpenAI error shape) requests whose ``Host`` is not in ``hosts``."""

    def __init__(self, app: Any, hosts: Iterable[str]):
        self.app = app
        self.hosts = tuple(hosts)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        name = host_name(headers.get(b"host", b"").decode("latin-1"))
        if host_allowed(name, self.hosts):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "message": (
                        f"this server answers only requests for {', '.join(self.hosts)} "
                        f"(got Host '{name}'); set MUTOSCOPE_ALLOWED_HOSTS to serve other names"
                    ),
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_host",
                }
            }
        ).encode()
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
