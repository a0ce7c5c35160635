"""Social pages through the app: profiles, follows, feeds, comments, notifications, PWA."""

from __future__ import annotations

import io
import re

from fastapi import FastAPI
from PIL import Image

from tests.studio.conftest import Browser, csrf_of, wait_completed


def publish(app: FastAPI, user: Browser, prompt: str) -> str:
    video_id = user.create(prompt)
    wait_completed(app, video_id)
    assert user.post(f"/v/{video_id}/publish", published="1").status_code == 303
    return video_id


def test_follow_fills_the_following_feed_and_notifies(app: FastAPI) -> None:
    ada, bob = Browser(app, "ada"), Browser(app, "bob")
    video_id = publish(app, ada, "a paper boat on a pond")
    draft = ada.create("a secret draft")
    wait_completed(app, draft)

    assert "Nobody you follow" in bob.get("/following").text
    r = bob.post("/@ada/follow", follow="1")
    assert r.status_code == 303 and r.headers["location"] == "/@ada"
    following = bob.get("/following").text
    assert video_id in following and draft not in following  # drafts stay private

    profile = bob.get("/@ADA")  # any case finds the canonical handle
    assert profile.status_code == 200 and 'id="follow"' in profile.text
    assert "Unfollow" in profile.text and "1 follower" in profile.text

    page = ada.get("/create").text
    assert 'id="unread-count"' in page
    notes = ada.get("/notifications").text
    assert "@bob" in notes and "started following you" in notes
    assert 'id="unread-count"' not in ada.get("/create").text  # read once opened


def test_comments_notify_the_owner_who_may_delete_them(app: FastAPI) -> None:
    ada, bob = Browser(app, "ada"), Browser(app, "bob")
    video_id = publish(app, ada, "a kite over a desert")
    assert bob.post(f"/v/{video_id}/comments", body="<b>love</b> it").status_code == 303
    page = bob.get(f"/v/{video_id}").text
    assert "&lt;b&gt;love&lt;/b&gt; it" in page  # escaped
    too_long = bob.post(f"/v/{video_id}/comments", body="x" * 501)
    assert too_long.status_code == 400 and "at most 500" in too_long.text
    notes = ada.get("/notifications").text
    assert "commented on your video" in notes and "love" in notes
    comment_id = re.search(
        r'action="/comments/(comment_[0-9a-f]+)/delete"', ada.get(f"/v/{video_id}").text
    )
    assert comment_id, "the owner sees a delete button"
    assert ada.post(f"/comments/{comment_id.group(1)}/delete").status_code == 303
    assert "love" not in bob.get(f"/v/{video_id}").text


def test_likes_and_published_remixes_notify(app: FastAPI) -> None:
    ada, bob = Browser(app, "ada"), Browser(app, "bob")
    video_id = publish(app, ada, "a fox in a forest")
    bob.post(f"/v/{video_id}/like")
    remix = bob.post(f"/v/{video_id}/remix", prompt="a fox in a snowy forest")
    remix_id = remix.headers["location"].rsplit("/", 1)[1]
    wait_completed(app, remix_id)
    assert "remixed your video" not in ada.get("/notifications").text  # still a draft
    bob.post(f"/v/{remix_id}/publish", published="1")
    notes = ada.get("/notifications").text
    assert "liked your video" in notes and "remixed your video" in notes


def test_profile_edit_validates_handle_and_avatar(app: FastAPI) -> None:
    ada, _ = Browser(app, "ada"), Browser(app, "bob")
    taken = ada.post("/profile/edit", handle="bob", display_name="Ada", bio="")
    assert taken.status_code == 409 and "@bob is taken" in taken.text
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(png, format="PNG")
    r = ada.client.post(
        "/profile/edit",
        data={"csrf": ada.csrf, "handle": "ada_l", "display_name": "Ada L", "bio": "I make boats"},
        files={"avatar": ("me.png", png.getvalue(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/@ada_l"
    page = ada.get("/@ada_l").text
    assert "Ada L" in page and "I make boats" in page
    avatar = Image.open(io.BytesIO(ada.get("/avatars/ada_l.png").content))
    assert avatar.size == (256, 256) and avatar.getpixel((128, 128))[0] > 150
    not_image = ada.client.post(
        "/profile/edit",
        data={"csrf": ada.csrf, "handle": "ada_l", "display_name": "", "bio": ""},
        files={"avatar": ("me.png", b"GIF89a not really", "image/png")},
    )
    assert not_image.status_code == 415


def test_installable_app_shell(app: FastAPI) -> None:
    visitor = Browser(app)
    manifest = visitor.get("/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/for-you"
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(visitor.get(icon["src"]).content))
        assert f"{image.width}x{image.height}" == icon["sizes"]
    worker = visitor.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in worker.text and "/offline" in worker.text
    offline = Browser(app, "ada").get("/offline")
    assert offline.status_code == 200 and "ada" not in offline.text  # cached for anyone
    assert 'rel="manifest"' in visitor.get("/for-you").text


def test_api_follow_feed_comments_notifications(app: FastAPI) -> None:
    ada, bob = Browser(app, "ada"), Browser(app, "bob")
    video_id = publish(app, ada, "a lantern by a river")
    bob_key = _key(bob)
    auth = {"Authorization": f"Bearer {bob_key}"}
    client = bob.client
    assert client.post("/v1/users/ada/follow", headers=auth).json()["following"] is True
    feed = client.get("/v1/feed/following", headers=auth).json()
    assert [item["id"] for item in feed["data"]] == [video_id] and feed[
        "owner" if False else "has_more"
    ] is False
    made = client.post(f"/v1/videos/{video_id}/comments", json={"body": "nice"}, headers=auth)
    assert made.status_code == 200 and made.json()["author"] == "bob"
    missing = client.post("/v1/users/nobody/follow", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "handle"
    bad = client.get("/v1/feed/for_you?cursor=nonsense", headers=auth)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    ada_key = {"Authorization": f"Bearer {_key(ada)}"}
    notes = client.get("/v1/notifications", headers=ada_key).json()
    assert {n["kind"] for n in notes["data"]} == {"followed", "commented"} and notes["unread"] == 2


def _key(user: Browser) -> str:
    page = user.post("/settings/keys", name="test").text
    match = re.search(r"(mts_[A-Za-z0-9_-]+)", page)
    assert match, "the new key is shown once"
    user.csrf = csrf_of(page)
    return match.group(1)
