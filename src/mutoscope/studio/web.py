"""Per-request studio plumbing: who is visiting, their CSRF token, rendering and redirects."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from mutoscope import __version__
from mutoscope.errors import Forbidden, MutoscopeError, Unauthorized
from mutoscope.services import Services
from mutoscope.storage.records import UserRecord
from mutoscope.studio import social
from mutoscope.studio.feeds import Feeds
from mutoscope.studio.gallery import Gallery
from mutoscope.studio.sessions import COOKIE, MAX_AGE, SessionStore, new_token

WEB = Path(__file__).resolve().parent.parent / "web"
TEMPLATES, STATIC = WEB / "templates", WEB / "static"


R = TypeVar("R", bound=Response)
# Scripts only from our own files: even a missed escape could not run injected script.
# (Inline style attributes are allowed for progress-bar widths and aspect ratios.)
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


class SignInRequired(Exception):
    """Raised by pages that need an account; the studio redirects to /signin."""


def _when(ts: int | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _static_version() -> str:
    # Bust browser caches when assets change (mtime of the newest file).
    stamps = [p.stat().st_mtime_ns for p in STATIC.rglob("*") if p.is_file()]
    return f"{__version__}-{max(stamps, default=0) % 10**8}"


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.globals["static_version"] = _static_version()
    return env


class Studio:
    """Long-lived studio objects for one app (made on first use, kept on ``app.state``)."""

    def __init__(self, services: Services):
        self.services = services
        self.store = SessionStore(services.settings, services.sessions)
        self.gallery = Gallery(services.sessions)
        self.feeds = Feeds(services.sessions)
        self.env = make_environment()
        self.provenance_cache: dict[tuple[str, int], dict[str, Any]] = {}


_make_lock = threading.Lock()


def get_studio(request: Request) -> Studio:
    studio = getattr(request.app.state, "studio", None)
    if studio is None:
        with _make_lock:
            studio = getattr(request.app.state, "studio", None)
            if studio is None:
                studio = request.app.state.studio = Studio(request.app.state.services)
    return studio


@dataclass
class Visit:
    """One request to a studio page: the visitor, their cookie token and CSRF token."""

    request: Request
    studio: Studio
    user: UserRecord | None
    token: str
    fresh: bool = False
    started: float = field(default_factory=time.perf_counter)
    new_cookie: str | None = None

    @property
    def csrf(self) -> str:
        return self.studio.store.csrf(self.new_cookie or self.token)

    def require_user(self) -> UserRecord:
        if self.user is None:
            raise SignInRequired()
        return self.user

    def require_admin(self) -> UserRecord:
        user = self.require_user()
        if not user.is_admin:
            raise Forbidden("this page is for administrators")
        return user

    async def form(self) -> FormData:
        """The posted form, after checking its CSRF token (``Forbidden`` if it is wrong)."""
        limit = self.studio.services.settings.max_upload_bytes
        form = await self.request.form(max_part_size=limit)
        if not self.studio.store.check_csrf(self.token, _str(form.get("csrf"))):
            raise Forbidden(
                "the form's security token is missing or stale; reload the page and try again",
                code="csrf_failed",
            )
        return form

    def check_header(self) -> None:
        """CSRF check for studio fetch() calls, which send the token as ``X-CSRF-Token``."""
        if not self.studio.store.check_csrf(self.token, self.request.headers.get("x-csrf-token")):
            raise Forbidden(
                "missing or stale X-CSRF-Token header; reload the page", code="csrf_failed"
            )

    def sign_in(self, user: UserRecord) -> None:
        self.studio.store.end(self.token)
        self.new_cookie = self.studio.store.start(user.id)
        self.user = user

    def sign_out(self) -> None:
        self.studio.store.end(self.token)
        self.new_cookie = new_token()
        self.user = None

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        page = self.studio.env.get_template(template)
        context.setdefault("unread", self.unread())
        html = page.render(user=self.user, csrf=self.csrf, path=self.request.url.path, **context)
        return self.finish(HTMLResponse(html, status_code=status))

    def unread(self) -> int:
        """The signed-in user's unread notifications (the count in the nav)."""
        if self.user is None:
            return 0
        with self.studio.services.sessions() as s:
            return social.unread_count(s, self.user.id)

    def redirect(self, url: str) -> RedirectResponse:
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: R) -> R:
        cookie = self.new_cookie or (self.token if self.fresh else None)
        if cookie:
            response.set_cookie(
                COOKIE,
                cookie,
                max_age=MAX_AGE,
                httponly=True,
                samesite="lax",
                secure=self.request.url.scheme == "https",
                path="/",
            )
        if response.media_type == "text/html":
            response.headers.update(SECURITY_HEADERS)
        elapsed = (time.perf_counter() - self.started) * 1000
        response.headers["server-timing"] = f"app;dur={elapsed:.1f}"
        return response


def visit(request: Request) -> Visit:
    """Dependency: the visitor behind the session cookie (a new anonymous token if none)."""
    studio = get_studio(request)
    token = request.cookies.get(COOKIE) or ""
    user = studio.store.user(token)
    request.state.session_user = user
    fresh = not token
    return Visit(request, studio, user, token or new_token(), fresh)


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site paths (``/x``), never ``//host`` or absolute URLs."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class StudioRoute(APIRoute):
    """Turns domain errors on studio pages into HTML pages (JSON stays JSON under /studio)."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                if request.url.path.startswith("/studio/"):
                    raise Unauthorized("sign in to the studio first", code="sign_in") from None
                target = quote(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
                return RedirectResponse(f"/signin?next={target}", status_code=303)
            except MutoscopeError as exc:
                if request.url.path.startswith("/studio/"):
                    raise
                return error_page(request, exc)

        return route


def error_page(request: Request, exc: MutoscopeError) -> HTMLResponse:
    studio = get_studio(request)
    token = request.cookies.get(COOKIE) or ""
    user = getattr(request.state, "session_user", None)
    html = studio.env.get_template("error.html").render(
        user=user,
        csrf=studio.store.csrf(token) if token else "",
        path=request.url.path,
        status=exc.status,
        message=exc.message,
    )
    return HTMLResponse(html, status_code=exc.status, headers=SECURITY_HEADERS)
