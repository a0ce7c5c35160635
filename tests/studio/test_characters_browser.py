"""Characters in real Chromium with two users against a real server: alice makes a character
for "people I approve", bob asks, alice approves, bob makes a video with it and publishes it,
alice finds it on Cameos and takes it off the feed.

Set ``MUTOSCOPE_SCREENSHOTS=docs/screenshots`` to save the pages for the docs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.characters.clips import character_clip
from tests.e2e.conftest import Server, make_server
from tests.studio.test_browser import (
    CHROMIUM,
    chromium,  # noqa: F401  (the module-scoped browser fixture)
    expect,
    new_page,
    shot,
    sign_up,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("characters-studio"))
    srv.start()
    yield srv
    srv.stop()


def test_two_users_request_approve_generate_and_the_owner_removes_the_cameo(
    chromium,  # noqa: F811
    server: Server,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    clip = tmp_path / "blobby.mp4"
    clip.write_bytes(character_clip("red", "circle"))
    alice, bob = new_page(chromium, server), new_page(chromium, server)
    sign_up(alice, "alice")
    sign_up(bob, "bob")

    # 1. alice makes a character that only people she approves may use
    alice.goto("/characters")
    alice.get_by_label("Name").fill("Blobby")
    alice.get_by_label("Who may use it").select_option("approved")
    alice.get_by_label("Video", exact=False).first.set_input_files(str(clip))
    alice.get_by_label("Rules", exact=False).last.fill("no political content")
    alice.get_by_role("button", name="Create character").click()
    expect(alice.locator("#characters-done")).to_contain_text("Character 'Blobby' created")
    mine = alice.locator("#my-characters .character", has_text="Blobby")
    expect(mine).to_contain_text("red circle")
    expect(alice.get_by_label("Who may use Blobby")).to_have_value("approved")

    # 2. bob cannot use it yet: he asks for access
    bob.goto("/create")
    expect(bob.locator("#characters-field")).to_have_count(0)
    bob.goto("/characters")
    other = bob.locator("#other-characters .character", has_text="Blobby")
    expect(other).to_contain_text("Ask the owner")
    bob.get_by_role("button", name="Request access to Blobby").click()
    expect(bob.locator("#characters-done")).to_contain_text("Request sent")
    expect(other).to_contain_text("Request pending")

    # 3. alice sees the request and approves it
    alice.goto("/characters")
    expect(alice.locator("#requests")).to_contain_text("bob asks to use Blobby")
    shot(alice, "characters")
    alice.get_by_role("button", name="Approve bob").click()
    expect(alice.locator("#characters-done")).to_contain_text("Approved")
    expect(mine).to_contain_text("Approved: bob")

    # 4. bob makes a video with Blobby (the owner's rule is screened) and publishes it
    bob.goto("/create")
    bob.get_by_label("Prompt", exact=True).fill("Blobby at a political election rally")
    bob.get_by_label("Model").select_option("mutoscope-test")
    bob.get_by_label("Size").select_option("256x256")
    bob.get_by_label("Blobby").check()
    bob.get_by_role("button", name="Create video").click()
    expect(bob.get_by_role("alert")).to_contain_text("no political content")
    bob.get_by_label("Prompt", exact=True).fill("Blobby crossing a quiet street")
    bob.get_by_label("Size").select_option("256x256")
    expect(bob.get_by_label("Blobby")).to_be_checked()
    shot(bob, "create-with-character")
    bob.get_by_role("button", name="Create video").click()
    expect(bob).to_have_url(re.compile(r"/v/video_\w+$"))
    video_id = bob.url.rsplit("/", 1)[1]
    bob.wait_for_function(
        "() => document.getElementById('player')?.readyState >= 2", timeout=60_000
    )
    bob.get_by_role("button", name="Publish to feed").click()
    expect(bob.locator("#publish")).to_have_text("Unpublish")
    expect(bob.locator("#provenance-characters")).to_contain_text("Blobby (person, owner alice)")
    expect(bob.locator("#video-characters")).to_contain_text("Blobby")
    shot(bob, "video-with-character")

    # 5. alice co-owns it: Cameos lists it, and she takes it off the feed
    alice.goto("/cameos")
    cameo = alice.locator(f"#cameo-{video_id}")
    expect(cameo).to_contain_text("by bob")
    expect(cameo).to_contain_text("published")
    shot(alice, "cameos")
    cameo.get_by_role("button", name="Remove from feed").click()
    expect(alice.locator("#cameos-done")).to_contain_text("Removed from the feed")
    expect(alice.locator(f"#cameo-{video_id}")).to_contain_text("removed from feed")

    # 6. it left the feed, and bob cannot publish it again
    bob.goto(f"/v/{video_id}")
    expect(bob.locator("#publish")).to_have_text("Publish to feed")
    bob.get_by_role("button", name="Publish to feed").click()
    expect(bob.get_by_text("can stay in your videos but not be published")).to_be_visible()
    alice.context.close()
    bob.context.close()
