"""The studio's pages and its small JSON/SSE endpoints (under ``/studio``).

Server-rendered pages; forms post back here and call the same services as the API
(``VideoService``, ``UserService``), so every rule lives in one place. Every form carries a
CSRF token; the /v1 API never accepts the studio's cookie.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from PIL import Image
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from mutoscope.api.deps import ServicesDep, UsersDep, VideosDep
from mutoscope.api.media import media_response
from mutoscope.backends.request_options import parse_options
from mutoscope.errors import (
    InvalidRequest,
    MutoscopeError,
    NotFound,
    PromptRejected,
    Unauthorized,
)
from mutoscope.media.images import decode_reference_image
from mutoscope.retention import check_not_expired
from mutoscope.storage.records import COMPLETED, FAILED, UserRecord
from mutoscope.studio import accounts, pages, rights_portal, social
from mutoscope.studio.gallery import SORTS
from mutoscope.studio.web import STATIC, StudioRoute, Visit, safe_next, visit
from mutoscope.trust.ratelimit import RateLimits, client_address
from mutoscope.videos import VideoCreate, check_prompt, check_seed

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]
MEDIA_VARIANTS = ("video", "thumbnail", "spritesheet")
TERMINAL = (COMPLETED, FAILED)


# -- accounts ------------------------------------------------------------------------------


@router.get("/")
def home(v: VisitDep) -> Response:
    if v.user is not None:
        return v.redirect("/create")
    if not accounts.has_accounts(v.studio.services.sessions):
        return v.redirect("/signup")
    return v.redirect("/feed")


@router.get("/signup")
def signup_page(v: VisitDep) -> Response:
    first = accounts.would_be_first_admin(
        v.studio.services.sessions, local_keys_ok=_local_keys_ok(v)
    )
    return v.render("signup.html", first=first, name="", error=None)


@router.post("/signup")
async def signup(v: VisitDep) -> Response:
    form = await v.form()
    name, password = _field(form, "name"), _field(form, "password")
    sessions = v.studio.services.sessions
    first = accounts.would_be_first_admin(sessions, local_keys_ok=_local_keys_ok(v))
    try:
        _limits(v).hit("signup_ip", client_address(v.request.scope))
        if password != _field(form, "confirm"):
            raise InvalidRequest("the two passwords differ; type the same one twice")
        user = await run_in_threadpool(
            accounts.create_account,
            sessions,
            name,
            password,
            claim_existing=False,
            first_admin=True,
            local_keys_ok=_local_keys_ok(v),
        )
    except MutoscopeError as exc:
        page = v.render("signup.html", status=exc.status, first=first, name=name, error=exc.message)
        page.headers.update(getattr(exc, "headers", {}))
        return page
    with sessions.begin() as s:
        social.ensure_profiles(s, [user.id])  # claims the handle the name becomes
    v.sign_in(user)
    return v.redirect("/create")


def _local_keys_ok(v: Visit) -> bool:
    # On a keyless loopback server (Host checked) the visitor is the local user, so keys
    # they made for themselves do not stop their first sign-up from becoming the admin.
    return bool(getattr(v.request.app.state, "keyless", False))


@router.get("/signin")
def signin_page(v: VisitDep, next: str | None = None) -> Response:
    return v.render("signin.html", next=safe_next(next, "/create"), name="", error=None)


@router.post("/signin")
async def signin(v: VisitDep) -> Response:
    form = await v.form()
    name, target = _field(form, "name"), safe_next(_field(form, "next"), "/create")
    limits, address = _limits(v), client_address(v.request.scope)
    account = name.strip().lower()
    try:
        limits.check("signin_account", account)
        limits.check("signin_ip", address)
        sessions = v.studio.services.sessions
        try:
            user = await run_in_threadpool(
                accounts.authenticate, sessions, name, _field(form, "password")
            )
        except Unauthorized:
            limits.hit("signin_account", account)
            limits.hit("signin_ip", address)
            raise
    except MutoscopeError as exc:
        page = v.render("signin.html", status=exc.status, next=target, name=name, error=exc.message)
        page.headers.update(getattr(exc, "headers", {}))
        return page
    v.sign_in(user)
    return v.redirect(target)


@router.post("/signout")
async def signout(v: VisitDep) -> Response:
    """Sign out this browser, or every session of the account (``everywhere=1``)."""
    form = await v.form()
    if v.user is not None and _field(form, "everywhere") == "1":
        await run_in_threadpool(v.studio.store.end_all, v.user.id)
    v.sign_out()
    return v.redirect("/signin")


# -- create --------------------------------------------------------------------------------


@router.get("/create")
def create_page(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    return v.render(
        "create.html",
        **pages.create_context(services),
        form={},
        error=None,
        characters=_usable_characters(services, user),
        chosen=[],
    )


@router.post("/create")
async def create(v: VisitDep, services: ServicesDep, videos: VideosDep) -> Response:
    user = v.require_user()
    form = await v.form()
    fields = {k: _field(form, k) for k in ("prompt", "model", "size", "seconds", *ADVANCED)}
    try:
        body = VideoCreate(
            prompt=fields["prompt"],
            model=fields["model"] or None,
            size=fields["size"] or None,
            seconds=fields["seconds"] or None,
            seed=_form_seed(fields["seed"]),
            options=parse_options(fields),
            image=await _image(form.get("image"), services.settings),
            characters=[c for c in form.getlist("characters") if isinstance(c, str) and c],
        )
        if _field(form, "anyway") != "true":
            fit = await run_in_threadpool(
                _hopeless, services, user, body.prompt, body.model, body.characters
            )
            if fit is not None:  # as the CLI without --anyway: say so, make nothing yet
                return v.render(
                    "create.html",
                    status=400,
                    **pages.create_context(services, fields["model"]),
                    form=fields,
                    error=None,
                    fit=fit,
                    characters=_usable_characters(services, user),
                    chosen=form.getlist("characters"),
                )
        record = await run_in_threadpool(videos.create, user, body)
    except MutoscopeError as exc:
        context = pages.create_context(services, fields["model"])
        blocked = isinstance(exc, PromptRejected)
        return v.render(
            "create.html",
            status=exc.status,
            **context,
            form=fields,
            error=exc.message,
            blocked=blocked,
            characters=_usable_characters(services, user),
            chosen=form.getlist("characters"),
        )
    return v.redirect(f"/v/{record.id}")


def _hopeless(
    services: Any,
    user: UserRecord,
    prompt: str,
    model: str | None,
    characters: list[str] | None = None,
) -> dict[str, Any] | None:
    """The fit of a prompt the model cannot draw at all (after the rights check), else None.

    A prompt the rights check blocks raises ``PromptRejected`` first: that is the answer."""
    name = services.backends.get(model).name
    fit = pages.prompt_fit(services, prompt, name)
    if fit is None or fit["drawable"]:
        return None
    names = _character_names(services, user, characters or [])
    pages.submission_screening(services, user, prompt, name, names)
    return fit


ADVANCED = ("seed", "steps", "guidance", "negative_prompt", "lora", "preset", "audio")
"""The create page's "Advanced" panel: per-request options, as the API takes them."""


def _form_seed(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        seed = int(value)
    except ValueError:  # "abc", and digits int() does not read ("²")
        seed = -1
    return check_seed(seed, value)


class CheckBody(BaseModel):
    prompt: str
    model: str | None = None
    characters: list[str] = []
    """Ids of the characters ticked on the form: the prompt's names stand for them."""


@router.post("/studio/check")
def check(body: CheckBody, v: VisitDep, services: ServicesDep) -> JSONResponse:
    """The rights decision for a prompt, shown on the create page before it is submitted."""
    user = v.require_user()
    v.check_header()
    fit = None
    try:
        prompt = check_prompt(body.prompt)
        model = services.backends.get(body.model or None).name
        fit = pages.prompt_fit(services, prompt, model)
        names = _character_names(services, user, body.characters[:10])
        attributions = pages.preview_screening(services, user, prompt, model, names)
    except PromptRejected as exc:
        return JSONResponse({"allowed": False, "message": exc.message, **_fit(fit)})
    except InvalidRequest as exc:
        return JSONResponse({"allowed": None, "message": exc.message})
    return JSONResponse({"allowed": True, "attributions": attributions, **_fit(fit)})


def _fit(fit: dict[str, Any] | None) -> dict[str, Any]:
    """``{"fit": ...}`` for models that know their vocabulary, else nothing."""
    return {"fit": fit} if fit is not None else {}


@router.get("/help/models")
def models_help(v: VisitDep, services: ServicesDep) -> Response:
    """Which models this server has, and how to add ones that draw more than shapes."""
    return v.render("help_models.html", **pages.create_context(services))


# -- my videos -----------------------------------------------------------------------------


@router.get("/videos")
def my_videos(
    v: VisitDep, videos: VideosDep, after: str | None = None, kept: str | None = None
) -> Response:
    user = v.require_user()
    page = videos.list(user, after=after, limit=30)
    active = [r.id for r in page.data if r.status not in TERMINAL]
    return v.render("videos.html", page=page, active=active, kept=bool(kept))


@router.get("/studio/progress")
async def progress(v: VisitDep, ids: str) -> StreamingResponse:
    """Server-Sent Events: status and progress of the viewer's videos until all are done."""
    user = v.require_user()
    wanted = [i for i in ids.split(",") if i][:100]
    return StreamingResponse(
        _progress_events(v, user, wanted),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _progress_events(v: Visit, user: UserRecord, ids: list[str]) -> AsyncIterator[str]:
    seen: dict[str, tuple[str, int]] = {}
    deadline = time.monotonic() + 60  # then the browser reconnects (EventSource retry)
    yield "retry: 1500\n\n"
    while time.monotonic() < deadline and not await v.request.is_disconnected():
        rows = await run_in_threadpool(pages.video_states, v.studio.services.sessions, user, ids)
        for vid in ids:
            row = rows.get(vid)
            state = (row.status, row.progress) if row else ("deleted", 0)
            if seen.get(vid) != state:
                seen[vid] = state
                yield f"data: {json.dumps(pages.state_dict(vid, row))}\n\n"
        if all(s[0] in (*TERMINAL, "deleted") for s in seen.values()):
            yield "event: done\ndata: {}\n\n"
            return
        await asyncio.sleep(0.3)


# -- one video -----------------------------------------------------------------------------


@router.get("/v/{video_id}")
def video_page(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    record = videos.get_visible(v.user, video_id)
    return v.render("video.html", **pages.video_context(v, record), remix_error=None)


@router.post("/v/{video_id}/remix")
async def remix(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    user = v.require_user()
    form = await v.form()
    prompt = _field(form, "prompt")
    try:
        record = await run_in_threadpool(videos.remix, user, video_id, prompt)
    except (InvalidRequest, PromptRejected) as exc:
        parent = videos.get_visible(user, video_id)
        context = pages.video_context(v, parent)
        return v.render(
            "video.html", status=exc.status, **context, remix_error=exc.message, remix_prompt=prompt
        )
    return v.redirect(f"/v/{record.id}")


@router.post("/v/{video_id}/publish")
async def publish(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    user = v.require_user()
    form = await v.form()
    publish = _field(form, "published") == "1"
    record = await run_in_threadpool(videos.set_published, user, video_id, publish)
    if publish:
        with v.studio.services.sessions.begin() as s:
            social.video_published(s, record)
    return v.redirect(f"/v/{video_id}")


@router.post("/v/{video_id}/retry")
async def retry(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    user = v.require_user()
    form = await v.form()
    await run_in_threadpool(videos.retry, user, video_id)
    return v.redirect(safe_next(_field(form, "next"), f"/v/{video_id}"))


@router.post("/v/{video_id}/delete")
async def delete(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    """Delete a video; for a queued or running one this cancels its job first."""
    user = v.require_user()
    await v.form()
    await run_in_threadpool(videos.delete, user, video_id)
    return v.redirect("/videos")


@router.post("/v/{video_id}/cancel")
async def cancel(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    """Cancel a queued or running video (it is removed). A video that finished meanwhile is
    kept: cancelling is not deleting, and the page that offered it was out of date."""
    user = v.require_user()
    form = await v.form()
    if not await run_in_threadpool(videos.cancel, user, video_id):
        return v.redirect(f"/videos?kept={video_id}")
    return v.redirect(safe_next(_field(form, "next"), "/videos"))


@router.post("/v/{video_id}/like")
async def like(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    user = v.require_user()
    form = await v.form()
    videos.get_visible(user, video_id)
    await run_in_threadpool(v.studio.gallery.toggle_like, user, video_id)
    return v.redirect(safe_next(_field(form, "next"), f"/v/{video_id}"))


@router.post("/studio/videos/{video_id}/like")
def like_json(v: VisitDep, videos: VideosDep, video_id: str) -> JSONResponse:
    user = v.require_user()
    v.check_header()
    videos.get_visible(user, video_id)
    liked, count = v.studio.gallery.toggle_like(user, video_id)
    return JSONResponse({"liked": liked, "likes": count})


@router.get("/studio/videos/{video_id}/provenance")
def provenance_panel(v: VisitDep, videos: VideosDep, video_id: str) -> HTMLResponse:
    """The provenance panel (an HTML fragment, loaded after the page: verifying takes a while)."""
    record = videos.get_visible(v.user, video_id)
    report = pages.provenance_report(v.studio, record)
    html = v.studio.env.get_template("_provenance.html").render(video=record, report=report)
    return HTMLResponse(html, headers={"Cache-Control": "private, no-store"})


@router.get("/media/{video_id}/{variant}")
def media(
    v: VisitDep,
    videos: VideosDep,
    services: ServicesDep,
    video_id: str,
    variant: str,
    download: bool = False,
) -> Response:
    """Video files for their owner, or for anyone once published; others get 404."""
    if variant not in MEDIA_VARIANTS:
        raise NotFound(f"unknown media '{variant}'; use one of {', '.join(MEDIA_VARIANTS)}")
    record = videos.get_visible(v.user, video_id)
    check_not_expired(record)
    if record.status != COMPLETED or not services.files.exists(record.id, variant):
        raise NotFound(f"video '{video_id}' has no {variant} yet (it is {record.status})")
    return media_response(
        services,
        record.id,
        variant,
        filename=f"{record.id}.mp4" if download else None,
        headers={"Cache-Control": "private, max-age=300"},
    )


# -- feed ----------------------------------------------------------------------------------


@router.get("/feed")
def feed(
    v: VisitDep,
    sort: Literal["newest", "remixed"] = "newest",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    partial: bool = False,
) -> Response:
    result = v.studio.gallery.feed(v.user, sort=sort, page=page)
    template = "_cards.html" if partial else "feed.html"
    return v.render(template, feed=result, sort=sort, sorts=SORTS)


# -- settings: API keys --------------------------------------------------------------------


@router.get("/settings")
def settings_page(v: VisitDep, users: UsersDep) -> Response:
    user = v.require_user()
    return v.render("settings.html", keys=pages.user_keys(users, user), new_key=None, error=None)


@router.post("/settings/password")
async def change_password(v: VisitDep, users: UsersDep) -> Response:
    """A new password ends every other session of the account (this one is renewed)."""
    user = v.require_user()
    form = await v.form()
    limits = _limits(v)
    try:
        limits.check("signin_account", user.name.lower())
        if _field(form, "password") != _field(form, "confirm"):
            raise InvalidRequest("the two new passwords differ; type the same one twice")
        try:
            await run_in_threadpool(
                accounts.change_password,
                v.studio.services.sessions,
                user.id,
                _field(form, "current"),
                _field(form, "password"),
            )
        except Unauthorized:
            limits.hit("signin_account", user.name.lower())
            raise
    except MutoscopeError as exc:
        page = v.render(
            "settings.html",
            status=exc.status,
            keys=pages.user_keys(users, user),
            new_key=None,
            error=None,
            account_error=exc.message,
        )
        page.headers.update(getattr(exc, "headers", {}))
        return page
    await run_in_threadpool(v.studio.store.end_all, user.id)
    v.sign_in(user)
    return v.render(
        "settings.html",
        keys=pages.user_keys(users, user),
        new_key=None,
        error=None,
        account_done="Password changed; your other sessions are signed out.",
    )


@router.post("/settings/keys")
async def create_key(v: VisitDep, users: UsersDep) -> Response:
    user = v.require_user()
    form = await v.form()
    name = _field(form, "name").strip()
    if not name:
        return v.render(
            "settings.html",
            status=400,
            keys=pages.user_keys(users, user),
            new_key=None,
            error="give the key a name, such as the app that will use it",
        )
    new = await run_in_threadpool(users.create_key, user.name, name[:200])
    return v.render("settings.html", keys=pages.user_keys(users, user), new_key=new, error=None)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(v: VisitDep, users: UsersDep, key_id: str) -> Response:
    user = v.require_user()
    await v.form()
    await run_in_threadpool(users.revoke_key, key_id, user_id=user.id)
    return v.redirect("/settings")


# -- rights portal -------------------------------------------------------------------------


@router.get("/rights")
def rights_page(v: VisitDep, services: ServicesDep, org: str | None = None) -> Response:
    user = v.require_user()
    context = rights_portal.context(services, user, org)
    return v.render("rights.html", **context, error=None, done=None)


@router.get("/rights/matches.csv")
def rights_matches_csv(v: VisitDep, services: ServicesDep, org: str | None = None) -> Response:
    """Every decision about the caller's entities as CSV (pseudonymous users)."""
    user = v.require_user()
    body, filename = rights_portal.matches_csv(services, user, org)
    return v.finish(
        Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    )


@router.post("/rights/entities")
async def rights_register(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    form = await v.form()
    try:
        done = await rights_portal.register(services, user, form)
    except MutoscopeError as exc:
        context = rights_portal.context(services, user)
        return v.render("rights.html", status=exc.status, **context, error=exc.message, done=None)
    return v.render("rights.html", **rights_portal.context(services, user), error=None, done=done)


@router.post("/rights/import")
async def rights_import(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    form = await v.form()
    try:
        done = await rights_portal.import_registry(services, user, form)
    except MutoscopeError as exc:
        context = rights_portal.context(services, user)
        return v.render("rights.html", status=exc.status, **context, error=exc.message, done=None)
    return v.render("rights.html", **rights_portal.context(services, user), error=None, done=done)


@router.post("/rights/organizations")
async def rights_claim(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    form = await v.form()
    return await _portal(v, services, rights_portal.claim_organization(services, user, form))


@router.post("/rights/{what}/{item_id}/{action}")
async def rights_decide(
    v: VisitDep,
    services: ServicesDep,
    what: Literal["organizations", "proposals"],
    item_id: str,
    action: Literal["verify", "approve", "reject"],
) -> Response:
    """Admins: verify or reject an organisation's claim, approve or reject a proposal."""
    user = v.require_user()
    await v.form()
    ok = action != "reject"
    return await _portal(v, services, rights_portal.decide(services, user, what, item_id, ok))


async def _portal(v: Visit, services: ServicesDep, action: Any) -> Response:
    """Run one portal action and show the portal with its outcome (or its error)."""
    user = v.require_user()
    try:
        done = await action
    except MutoscopeError as exc:
        context = rights_portal.context(services, user)
        return v.render("rights.html", status=exc.status, **context, error=exc.message, done=None)
    return v.render("rights.html", **rights_portal.context(services, user), error=None, done=done)


@router.get("/rights/audit")
def rights_audit(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    body, filename = rights_portal.audit_export(services, user)
    return v.finish(
        Response(
            body,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    )


# -- static assets -------------------------------------------------------------------------

_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file():
        raise NotFound(f"no static file '{name}'")
    return FileResponse(
        path,
        media_type=_STATIC_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=86400"},
    )


# -- helpers -------------------------------------------------------------------------------


def _limits(v: Visit) -> RateLimits:
    return v.request.app.state.limits


def _character_names(services: Any, user: UserRecord, ids: list[str]) -> tuple[str, ...]:
    """Names of the chosen characters ``user`` may use (what the prompt's names mean)."""
    from mutoscope.characters.service import usable_names

    return usable_names(services.sessions, user.id, [i for i in ids if isinstance(i, str)])


def _usable_characters(services: Any, user: UserRecord) -> list[Any]:
    """The characters ``user`` may use now (the create form's choices)."""
    from mutoscope.characters.service import CharacterService

    return CharacterService(services).page(user, scope="available", limit=50).data


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _image(value: Any, settings: Any) -> Image.Image | None:
    """The optional reference image from the create form (PNG, JPEG or WebP)."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(settings.max_upload_bytes + 1)
    if not data:
        return None
    return await run_in_threadpool(
        decode_reference_image,
        data,
        limit=settings.max_upload_bytes,
        param="image",
        max_pixels=settings.max_image_pixels,
    )
