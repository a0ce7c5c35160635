"""Published videos through the ``openai`` SDK against a real ``mutoscope serve``: what the
feed lists, any signed-in user may read (``retrieve`` and every content variant, also by the
feed item's URLs); an unpublished video stays its owner's (404 for everyone else)."""

from __future__ import annotations

import re

import httpx
import openai
import pytest

from mutoscope.media import decode_mp4

from .conftest import Server, wait_video

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]


def _signed_in(server: Server, name: str, password: str) -> httpx.Client:
    web = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    server.cli("users", "create", name, "--password", password)
    form = {"name": name, "password": password, "csrf": _csrf(web.get("/signin").text)}
    assert web.post("/signin", data=form).status_code == 303
    return web


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_published_videos_are_readable_through_the_api_and_drafts_are_not(
    server: Server,
) -> None:
    web = _signed_in(server, "feedada", "ada password 9")
    ada, bob = server.sdk("feedada"), server.sdk("feedbob")
    shown = ada.videos.create(prompt="a red circle on blue", model="sora-2", size="256x256")
    draft = ada.videos.create(prompt="a green square on blue", model="sora-2", size="256x256")
    assert wait_video(ada, shown.id).status == "completed"
    assert wait_video(ada, draft.id).status == "completed"
    csrf = _csrf(web.get(f"/v/{shown.id}").text)
    published = web.post(f"/v/{shown.id}/publish", data={"csrf": csrf, "published": "1"})
    assert published.status_code == 303
    # bob finds it in the feed, with URLs he can fetch with his own key.
    auth = {"Authorization": f"Bearer {bob.api_key}"}
    assert httpx.post(f"{server.url}/v1/users/feedada/follow", headers=auth).is_success
    feed = httpx.get(f"{server.url}/v1/feed/following", headers=auth).json()["data"]
    item = next(i for i in feed if i["id"] == shown.id)
    assert draft.id not in [i["id"] for i in feed]
    # Server-relative paths (never a host from the request's Host header).
    assert item["content_url"] == f"/v1/videos/{shown.id}/content"
    assert item["thumbnail_url"].startswith("/v1/videos/")
    video = httpx.get(server.url + item["content_url"], headers=auth)
    assert video.status_code == 200 and decode_mp4(video.content).shape[0] > 10
    thumb = httpx.get(server.url + item["thumbnail_url"], headers=auth)
    assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/")
    # The SDK reads it as an OpenAI Video, and downloads each variant.
    got = bob.videos.retrieve(shown.id)
    assert (got.id, got.status, got.prompt) == (shown.id, "completed", "a red circle on blue")
    assert bob.videos.download_content(shown.id).read() == video.content
    assert bob.videos.download_content(shown.id, variant="spritesheet").read()
    # Drafts stay private: 404 as if they did not exist, and bob cannot delete ada's video.
    with pytest.raises(openai.NotFoundError):
        bob.videos.retrieve(draft.id)
    with pytest.raises(openai.NotFoundError):
        bob.videos.download_content(draft.id, variant="thumbnail")
    with pytest.raises(openai.NotFoundError):
        bob.videos.delete(shown.id)
    # Unpublishing takes it back at once.
    csrf = _csrf(web.get(f"/v/{shown.id}").text)
    web.post(f"/v/{shown.id}/publish", data={"csrf": csrf, "published": "0"})
    with pytest.raises(openai.NotFoundError):
        bob.videos.retrieve(shown.id)
    assert shown.id not in [v.id for v in bob.videos.list()]
