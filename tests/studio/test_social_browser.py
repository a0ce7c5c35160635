"""The social app in real Chromium against a real server: two users follow, comment and get
notified; the phone feed plays one clip per screen; the studio installs as an app.

Set ``MUTOSCOPE_SCREENSHOTS=docs/screenshots`` to save a screenshot of each new page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, make_server
from tests.studio import test_browser
from tests.studio.test_browser import (
    create_video,
    expect,
    new_page,
    shot,
    sign_up,
    wait_playable,
)

chromium = test_browser.chromium  # the module-scoped browser fixture
pytestmark = test_browser.pytestmark
PROMPTS = (
    "A paper boat drifting down a rainy street at dusk",
    "A red kite over a desert at noon",
    "A lantern floating on a river at night",
)
PHONE = {"width": 390, "height": 844}


def open_ranked_feed(page, path: str, items, count: int) -> None:  # type: ignore[no-untyped-def]
    """Open a ranked feed (For You, the phone feed) until it lists ``count`` items: it is
    counted once per moment (10 s), so a video published just now joins shortly."""
    for _ in range(40):
        page.goto(path)
        if items.count() == count:
            break
        page.wait_for_timeout(1000)
    expect(items).to_have_count(count)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("social"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def ada(chromium, server: Server) -> Iterator[tuple[object, list[str]]]:  # type: ignore[no-untyped-def]
    """ada, signed in, with three published vertical videos."""
    page = new_page(chromium, server)
    sign_up(page, "ada")
    videos = []
    for prompt in PROMPTS:
        videos.append(create_video(page, prompt))
        wait_playable(page)
        page.get_by_role("button", name="Publish to feed").click()
        expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
    yield page, videos
    page.context.close()


def test_follow_following_feed_comment_and_notifications(chromium, server: Server, ada) -> None:  # type: ignore[no-untyped-def]
    owner, videos = ada
    bob = new_page(chromium, server)
    sign_up(bob, "bob")

    # 1. bob finds ada from a video, opens her profile and follows her
    bob.goto(f"/v/{videos[0]}")
    bob.locator("#owner").click()
    expect(bob).to_have_url(re.compile(r"/@ada$"))
    bob.get_by_role("button", name="Follow", exact=True).click()
    expect(bob.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(bob.locator("#followers")).to_have_text("1 follower")

    # 2. The Following feed shows ada's published videos, newest first
    bob.goto("/following")
    cards = bob.locator("#feed article.card")
    expect(cards).to_have_count(3)
    assert cards.first.get_attribute("data-id") == videos[-1]
    shot(bob, "following")

    # 3. bob comments on a video
    bob.goto(f"/v/{videos[0]}")
    bob.get_by_label("Add a comment").fill("Lovely reflections on the street!")
    bob.get_by_role("button", name="Comment", exact=True).click()
    expect(bob.locator(".comment-body")).to_have_text("Lovely reflections on the street!")
    bob.evaluate("window.scrollTo(0, 0)")
    shot(bob, "comments")

    # 4. ada sees two unread notifications in the nav, then the follow and the comment
    owner.goto("/create")
    expect(owner.locator("#unread-count")).to_have_text("2")
    owner.locator("#nav-notifications").click()
    notes = owner.locator("#notifications li")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("commented on your video")
    expect(notes.nth(1)).to_contain_text("@bob started following you")
    shot(owner, "notifications")
    expect(owner.locator("#unread-count")).to_have_count(0)

    # 5. ada edits her profile; pictures of it and of the For You feed
    owner.goto("/profile/edit")
    owner.get_by_label("Display name").fill("Ada Lovelace")
    owner.get_by_label("Bio").fill("Boats, kites and lanterns. Remix anything.")
    shot(owner, "profile-edit")
    owner.get_by_role("button", name="Save profile").click()
    expect(owner).to_have_url(re.compile(r"/@ada$"))
    expect(owner.locator("#bio")).to_have_text("Boats, kites and lanterns. Remix anything.")
    expect(owner.locator("#feed article.card")).to_have_count(3)
    shot(owner, "profile")
    cards = bob.locator("#feed article.card")
    open_ranked_feed(bob, "/for-you", cards, 3)
    shot(bob, "for-you")
    bob.context.close()


def test_phone_feed_plays_one_clip_per_screen(chromium, server: Server, ada) -> None:  # type: ignore[no-untyped-def]
    _, videos = ada
    phone = new_page(chromium, server, mobile=True)
    clips = phone.locator(".clip")
    open_ranked_feed(phone, "/watch", clips, 3)
    boxes = [clips.nth(i).bounding_box() for i in range(3)]
    assert all(b and (b["width"], b["height"]) == (PHONE["width"], PHONE["height"]) for b in boxes)

    def plays_only(index: int) -> None:
        """Wait until clip ``index`` alone plays (the others may take a moment to pause on a
        loaded machine); fails if that state never comes."""
        phone.wait_for_function(
            "i => Array.from(document.querySelectorAll('.clip video'))"
            ".every((v, j) => (j === i) === (!v.paused && v.readyState >= 2))",
            arg=index,
            timeout=30_000,
        )

    plays_only(0)
    assert phone.evaluate("document.querySelector('.clip video').muted") is True
    shot(phone, "watch-mobile")

    # One swipe moves exactly one clip: scroll-snap stops on the next one, which plays.
    phone.mouse.move(195, 400)
    phone.mouse.wheel(0, 500)
    phone.wait_for_function(
        "() => Math.abs(document.getElementById('watch').scrollTop - 844) < 2", timeout=10_000
    )
    plays_only(1)
    ids = [clips.nth(i).get_attribute("data-id") for i in range(3)]
    assert sorted(ids) == sorted(videos)

    # Muted by default; tapping unmutes.
    sound = phone.locator("#watch-sound")
    expect(sound).to_have_text("Tap to unmute")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    assert phone.evaluate("document.querySelectorAll('.clip video')[1].muted") is False
    phone.context.close()


def test_installs_as_an_app_with_an_offline_shell(chromium, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium, server, mobile=True)
    page.goto("/for-you")
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{server.url}/"
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)
    page.context.set_offline(True)
    page.goto("/feed")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    page.context.set_offline(False)
    page.context.close()
