"""The social studio pages (profiles, For You / Following, watch, notifications, comments,
the installable app) and their JSON API under ``/v1`` (extensions, see docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mutoscope.api.deps import CurrentUser, OptionalUser, ServicesDep, VideosDep
from mutoscope.characters.service import offered_by
from mutoscope.errors import MutoscopeError, NotFound
from mutoscope.storage.records import UserRecord
from mutoscope.studio import pages, pwa, social
from mutoscope.studio.feeds import Page
from mutoscope.studio.social_records import ProfileRecord
from mutoscope.studio.web import (
    SECURITY_HEADERS,
    STATIC,
    StudioRoute,
    Visit,
    get_studio,
    safe_next,
    visit,
)

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
api = APIRouter(prefix="/v1", tags=["social"])
VisitDep = Annotated[Visit, Depends(visit)]
CursorQuery = Annotated[str | None, Query(max_length=400)]
Limit = Annotated[int, Query(ge=1, le=100)]


# -- feeds ---------------------------------------------------------------------------------


@router.get("/for-you")
def for_you(v: VisitDep, cursor: CursorQuery = None, partial: bool = False) -> Response:
    page = v.studio.feeds.for_you(v.user, cursor)
    return _feed(v, page, "for-you", "For you", partial)


@router.get("/following")
def following(v: VisitDep, cursor: CursorQuery = None, partial: bool = False) -> Response:
    page = v.studio.feeds.following(v.require_user(), cursor)
    return _feed(v, page, "following", "Following", partial)


def _feed(v: Visit, page: Page, tab: str, title: str, partial: bool) -> Response:
    template = "_social_cards.html" if partial else "social_feed.html"
    return v.render(template, page=page, tab=tab, title=title, base=f"/{tab}")


@router.get("/watch")
def watch(v: VisitDep, cursor: CursorQuery = None, partial: bool = False) -> Response:
    """The phone feed: For You, one full-screen clip at a time."""
    page = v.studio.feeds.for_you(v.user, cursor, limit=8)
    return v.render("_watch_clips.html" if partial else "watch.html", page=page)


# -- profiles ------------------------------------------------------------------------------


@router.get("/@{handle}")
def profile(
    v: VisitDep, handle: str, cursor: CursorQuery = None, partial: bool = False
) -> Response:
    sessions = v.studio.services.sessions
    with sessions.begin() as s:
        owner = social.user_by_handle(s, handle)
        if owner is None:
            raise NotFound(f"nobody has the handle @{handle.lstrip('@')}")
        record = social.ensure_profiles(s, [owner.id])[owner.id]
        counts = social.follow_counts(s, owner.id)
        viewer = v.user.id if v.user else None
        context: dict[str, Any] = {
            "owner": owner,
            "profile": record,
            "counts": counts,
            "is_self": viewer == owner.id,
            "following": viewer is not None and social.is_following(s, viewer, owner.id),
            "mutual": viewer is not None and social.is_mutual_follow(s, viewer, owner.id),
            "published": social.published_count(s, owner.id),
            "avatar_url": _avatar_url(record),
            "offered": offered_by(sessions, owner.id),
        }
    if handle != record.handle:  # canonical case
        return v.redirect(f"/@{record.handle}")
    page = v.studio.feeds.by_owner(v.user, owner.id, cursor)
    base = f"/@{record.handle}"
    if partial:
        return v.render("_social_cards.html", page=page, base=base)
    return v.render("profile.html", page=page, base=base, **context)


@router.post("/@{handle}/follow")
async def follow(v: VisitDep, handle: str) -> Response:
    user = v.require_user()
    form = await v.form()
    with v.studio.services.sessions.begin() as s:
        other = social.user_by_handle(s, handle)
        if other is None:
            raise NotFound(f"nobody has the handle @{handle.lstrip('@')}")
        if form.get("follow") == "0":
            social.unfollow(s, user.id, other.id)
        else:
            social.follow(s, user.id, other.id)
        target = social.ensure_profiles(s, [other.id])[other.id].handle
    next_url = form.get("next")
    return v.redirect(safe_next(next_url if isinstance(next_url, str) else None, f"/@{target}"))


@router.get("/profile")
def my_profile(v: VisitDep) -> Response:
    user = v.require_user()
    with v.studio.services.sessions.begin() as s:
        handle = social.ensure_profiles(s, [user.id])[user.id].handle
    return v.redirect(f"/@{handle}")


@router.get("/profile/edit")
def edit_profile_page(v: VisitDep) -> Response:
    user = v.require_user()
    return v.render("profile_edit.html", **_edit_context(v, user), error=None, done=None)


@router.post("/profile/edit")
async def edit_profile(v: VisitDep, services: ServicesDep) -> Response:
    user = v.require_user()
    form = await v.form()
    fields = {k: _field(form.get(k)) for k in ("handle", "display_name", "bio")}
    upload = form.get("avatar")
    try:
        avatar = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(pwa.MAX_AVATAR_BYTES + 1)
            limit = services.settings.max_image_pixels
            avatar = await run_in_threadpool(pwa.encode_avatar, data, max_pixels=limit)
        with services.sessions.begin() as s:
            social.update_profile(s, user.id, **fields)
            if avatar is not None:
                social.set_avatar(s, user.id, avatar)
    except MutoscopeError as exc:
        context = {**_edit_context(v, user), "form": fields}
        return v.render("profile_edit.html", status=exc.status, **context, error=exc.message)
    return v.redirect(f"/@{fields['handle'].strip().lstrip('@')}")


def _edit_context(v: Visit, user: UserRecord) -> dict[str, Any]:
    with v.studio.services.sessions.begin() as s:
        record = social.ensure_profiles(s, [user.id])[user.id]
        row = s.get(UserRecord, user.id)
        form = {
            "handle": record.handle,
            "display_name": (row.display_name if row else None) or "",
            "bio": record.bio,
        }
        return {"form": form, "avatar_url": _avatar_url(record)}


@router.get("/avatars/{handle}.png")
def avatar(handle: str, v: VisitDep) -> Response:
    if not social.HANDLE.match(handle):
        raise NotFound(f"no avatar for '{handle}': handles are letters, digits and _")
    with v.studio.services.sessions() as s:
        row = s.execute(
            select(ProfileRecord.avatar).where(ProfileRecord.handle_key == handle.lower())
        ).first()
    png = row[0] if row and row[0] else pwa.default_avatar(handle)
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


def _avatar_url(record: ProfileRecord) -> str:
    return f"/avatars/{record.handle}.png?v={record.updated_at}"


# -- comments ------------------------------------------------------------------------------


@router.post("/v/{video_id}/comments")
async def comment(v: VisitDep, videos: VideosDep, video_id: str) -> Response:
    user = v.require_user()
    form = await v.form()
    video = videos.get_visible(user, video_id)
    try:
        with v.studio.services.sessions.begin() as s:
            social.add_comment(s, user.id, video, _field(form.get("body")))
    except MutoscopeError as exc:
        context = pages.video_context(v, video)
        return v.render(
            "video.html", status=exc.status, **context, remix_error=None, comment_error=exc.message
        )
    return v.redirect(f"/v/{video_id}#comments")


@router.post("/comments/{comment_id}/delete")
async def delete_comment(v: VisitDep, comment_id: str) -> Response:
    user = v.require_user()
    await v.form()
    with v.studio.services.sessions.begin() as s:
        removed = social.delete_comment(s, user.id, comment_id)
    return v.redirect(f"/v/{removed.video_id}#comments")


# -- notifications -------------------------------------------------------------------------


@router.get("/notifications")
def notifications_page(v: VisitDep, before: CursorQuery = None) -> Response:
    """Newest first; opening the page marks them read (the nav count goes away)."""
    user = v.require_user()
    with v.studio.services.sessions.begin() as s:
        notes, cursor = social.notifications(s, user.id, before=before)
        social.mark_read(s, user.id)
    return v.render("notifications.html", notes=notes, next_cursor=cursor, unread=0)


# -- installable app -----------------------------------------------------------------------


@router.get("/manifest.webmanifest")
def web_manifest() -> JSONResponse:
    return JSONResponse(
        pwa.manifest(),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/icons/{size}.png")
def icon(size: int) -> Response:
    return Response(
        pwa.icon_png(size),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/sw.js")
def service_worker(v: VisitDep) -> Response:
    """Served from the root so it may control every page (a worker's scope is its folder)."""
    version = v.studio.env.globals["static_version"]
    script = (STATIC / "sw.js").read_text().replace("__VERSION__", str(version))
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/offline")
def offline(request: Request) -> Response:
    """The page the service worker keeps: rendered for nobody (no name, no CSRF token), since
    it is cached in the browser for whoever uses it next."""
    page = get_studio(request).env.get_template("offline.html")
    html = page.render(user=None, csrf="", path="/offline", unread=0)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


# -- JSON API (/v1 extensions) -------------------------------------------------------------


@api.get("/feed/for_you")
def api_for_you(
    request: Request, user: OptionalUser, cursor: CursorQuery = None, limit: Limit = 24
) -> dict[str, Any]:
    """For You, ranked (see docs/studio.md); pass ``next_cursor`` back as ``cursor``."""
    return _page_json(get_studio(request).feeds.for_you(user, cursor, limit=limit))


@api.get("/feed/following")
def api_following(
    request: Request, user: CurrentUser, cursor: CursorQuery = None, limit: Limit = 24
) -> dict[str, Any]:
    return _page_json(get_studio(request).feeds.following(user, cursor, limit=limit))


@api.get("/users/{handle}")
def api_profile(handle: str, services: ServicesDep) -> dict[str, Any]:
    with services.sessions.begin() as s:
        owner = social.user_by_handle(s, handle)
        if owner is None:
            raise NotFound(f"nobody has the handle @{handle.lstrip('@')}", param="handle")
        record = social.ensure_profiles(s, [owner.id])[owner.id]
        counts = social.follow_counts(s, owner.id)
        return {
            "object": "user",
            "id": owner.id,
            "handle": record.handle,
            "display_name": owner.display_name,
            "bio": record.bio,
            "avatar_url": _avatar_url(record),
            "followers": counts.followers,
            "following": counts.following,
        }


@api.post("/users/{handle}/follow")
def api_follow(handle: str, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    with services.sessions.begin() as s:
        other = _user(s, handle)
        social.follow(s, user.id, other.id)
        return {"handle": handle.lstrip("@"), "following": True}


@api.delete("/users/{handle}/follow")
def api_unfollow(handle: str, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    with services.sessions.begin() as s:
        other = _user(s, handle)
        social.unfollow(s, user.id, other.id)
        return {"handle": handle.lstrip("@"), "following": False}


@api.get("/videos/{video_id}/comments")
def api_comments(video_id: str, user: OptionalUser, videos: VideosDep) -> dict[str, Any]:
    video = videos.get_visible(user, video_id)
    with videos.services.sessions.begin() as s:
        rows = social.comments(s, video.id)
    return {"object": "list", "data": [_comment_json(c) for c in rows]}


@api.post("/videos/{video_id}/comments")
def api_add_comment(
    video_id: str, body: dict[str, Any], user: CurrentUser, videos: VideosDep
) -> dict[str, Any]:
    video = videos.get_visible(user, video_id)
    text = body.get("body")
    with videos.services.sessions.begin() as s:
        row = social.add_comment(s, user.id, video, text if isinstance(text, str) else "")
        handle = social.ensure_profiles(s, [user.id])[user.id].handle
        return _comment_json(
            social.Comment(
                row.id, row.video_id, user.id, handle, user.display_name, row.body, row.created_at
            )
        )


@api.delete("/comments/{comment_id}")
def api_delete_comment(comment_id: str, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    with services.sessions.begin() as s:
        social.delete_comment(s, user.id, comment_id)
    return {"id": comment_id, "object": "comment.deleted", "deleted": True}


@api.get("/notifications")
def api_notifications(
    user: CurrentUser, services: ServicesDep, after: CursorQuery = None, limit: Limit = 30
) -> dict[str, Any]:
    """Newest first; ``after`` is the last id of the previous page (as in /v1/videos)."""
    with services.sessions.begin() as s:
        notes, cursor = social.notifications(s, user.id, before=after, limit=limit)
        unread = social.unread_count(s, user.id)
    return {
        "object": "list",
        "data": [
            {
                "id": n.id,
                "object": "notification",
                "kind": n.kind,
                "text": n.text,
                "actor": n.actor_handle,
                "video_id": n.video_id,
                "data": n.data,
                "created_at": n.created_at,
                "unread": n.unread,
            }
            for n in notes
        ],
        "unread": unread,
        "has_more": cursor is not None,
        "last_id": notes[-1].id if notes else None,
    }


@api.post("/notifications/read")
def api_mark_read(user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    with services.sessions.begin() as s:
        return {"marked": social.mark_read(s, user.id), "unread": 0}


def _user(s: Any, handle: str) -> UserRecord:
    other = social.user_by_handle(s, handle)
    if other is None:
        raise NotFound(f"nobody has the handle @{handle.lstrip('@')}", param="handle")
    return other


def _page_json(page: Page) -> dict[str, Any]:
    """A feed page; each item's ``content_url`` and ``thumbnail_url`` are the OpenAI-shaped
    ``GET /v1/videos/{id}/content`` (with the caller's key) that any signed-in user may
    read for a published video. The paths are relative to the server (resolve them
    against the URL the feed was fetched from): a page that may be cached and served to
    others must not carry a host taken from one request's ``Host`` header."""
    return {
        "object": "list",
        "data": [
            {
                "id": c.video.id,
                "object": "feed.item",
                "prompt": c.video.prompt,
                "owner": c.handle,
                "size": c.video.size,
                "seconds": c.video.seconds,
                "published_at": c.video.published_at,
                "likes": c.likes,
                "liked": c.liked,
                "remixes": c.remixes,
                "remixed_from_video_id": c.video.remixed_from_video_id,
                "content_url": f"/v1/videos/{c.video.id}/content",
                "thumbnail_url": f"/v1/videos/{c.video.id}/content?variant=thumbnail",
            }
            for c in page.cards
        ],
        "next_cursor": page.next_cursor,
        "has_more": page.next_cursor is not None,
    }


def _comment_json(c: social.Comment) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "comment",
        "video_id": c.video_id,
        "author": c.handle,
        "body": c.body,
        "created_at": c.created_at,
    }


def _field(value: object) -> str:
    return value if isinstance(value, str) else ""


__all__ = ["api", "router"]
