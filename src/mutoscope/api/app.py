"""The FastAPI application factory: API routes, studio pages, and the in-process worker."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from mutoscope import __version__
from mutoscope.api import characters as character_routes
from mutoscope.api import docs, errors, guards, openapi
from mutoscope.api import files as file_routes
from mutoscope.api import models as models_routes
from mutoscope.api import videos as video_routes
from mutoscope.config import Settings
from mutoscope.services import Services, build_services
from mutoscope.trust.hosts import TrustedHostMiddleware
from mutoscope.trust.ratelimit import RateLimitMiddleware, RateLimits
from mutoscope.users import LOCAL_USER, UserService
from mutoscope.videos import VideoService
from mutoscope.worker.pool import Worker

log = logging.getLogger(__name__)

# Routers other layers contribute (module path, attribute); missing ones are skipped.
OPTIONAL_ROUTERS = (
    ("mutoscope.api.rights", "router"),
    ("mutoscope.api.trust", "router"),
    ("mutoscope.api.provenance", "router"),
    ("mutoscope.api.studio", "router"),
    ("mutoscope.api.studio_characters", "router"),
    ("mutoscope.api.social", "router"),
    ("mutoscope.api.social", "api"),
)


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    keyless: bool = False,
    run_worker: bool = True,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """Build the app. ``keyless`` allows key-free use while no API key exists (loopback only);
    ``allowed_hosts`` (else ``settings.allowed_hosts``) restricts the ``Host`` header."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = services or build_services(settings)
        _attach(app, svc, keyless)
        # Load screening models in the background so the first request does not wait for them.
        warm_up = getattr(svc.rights, "warm_up", None)
        if warm_up is not None:
            threading.Thread(target=warm_up, name="mutoscope-warm-up", daemon=True).start()
        # Follow registry changes made by other processes off the request path.
        watch = getattr(svc.rights, "watch", None)
        stop_watching = watch() if watch is not None else None
        # --workers 0: API only; separate `mutoscope worker` processes make the videos.
        run_here = run_worker and settings.workers > 0
        worker = Worker(svc, concurrency=settings.workers) if run_here else None
        if worker:
            worker.start()
        app.state.worker = worker
        try:
            yield
        finally:
            if stop_watching is not None:
                stop_watching()
            if worker:
                worker.stop()
            if services is None:
                svc.close()

    app = FastAPI(
        title="Mutoscope",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by api.docs from packaged assets (no CDN)
        redoc_url=None,
        description="OpenAI-compatible Videos API with rights screening and provenance built in.",
    )
    errors.install(app)
    docs.install(app)
    openapi.install(app)
    app.add_middleware(PollAfterMiddleware, poll_after_ms=settings.poll_after_ms)
    app.add_middleware(guards.BodyLimitMiddleware, limit_for=_body_limits(settings))
    app.add_middleware(RateLimitMiddleware)
    hosts = allowed_hosts if allowed_hosts is not None else settings.allowed_hosts
    if hosts:
        app.add_middleware(TrustedHostMiddleware, hosts=hosts)
    app.add_middleware(guards.LastResortMiddleware)  # outermost: added last

    # First: probes (load balancers, orchestrators) hit it constantly, and routes are matched
    # in order.
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    _include(app, video_routes.extensions)
    _include(app, character_routes.router)  # before /v1/videos/{video_id}
    _include(app, video_routes.router)
    _include(app, models_routes.router)
    _include(app, file_routes.router)
    for module, attr in OPTIONAL_ROUTERS:
        try:
            router = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            if exc.name != module:
                raise
            continue
        app.include_router(router)

    return app


def _include(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)`` for the hot API routers, with their routes added to the
    app's own list.

    FastAPI 0.16x keeps an included router as one nested route and matches a request against
    it route by route through an extra layer (about 3 us a route). These routers carry their
    prefix and dependencies on each route and are included without options, so the routes
    match exactly as before, only sooner."""
    app.router.routes.extend(router.routes)


def _body_limits(settings: Settings) -> Any:
    def limit_for(path: str) -> int:
        if path == "/v1/provenance/verify":
            return settings.verify_max_bytes
        return settings.max_upload_bytes

    return limit_for


def _attach(app: FastAPI, services: Services, keyless: bool) -> None:
    app.state.services = services
    app.state.users = UserService(services.sessions)
    app.state.videos = VideoService(services)
    app.state.keyless = keyless
    app.state.limits = RateLimits.from_settings(services.settings, services.sessions)
    # Keyless loopback mode acts as a creator, never as an admin.
    app.state.local_user = app.state.users.get_or_create(LOCAL_USER)


class PollAfterMiddleware:
    """Adds ``openai-poll-after-ms`` to /v1/videos responses, as the OpenAI API does."""

    def __init__(self, app: Any, poll_after_ms: int):
        self.app = app
        self.header = (b"openai-poll-after-ms", str(poll_after_ms).encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/videos"):
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append(self.header)
            await send(message)

        await self.app(scope, receive, send_with_header)
