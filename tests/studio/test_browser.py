"""The studio in real Chromium (Debian's /usr/bin/chromium) against a real server process.

Set ``MUTOSCOPE_SCREENSHOTS=docs/screenshots`` to save a screenshot of each page.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, make_server

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")
Page = playwright_api.Page
expect = playwright_api.expect

PASSWORD = "correct horse battery"
SCRIPT = "<script>window.__xss = 1</script>"
BOAT = "A paper boat drifting down a rainy street at dusk"
REGISTRY = """entities:
  - id: captain-comet
    name: Captain Comet
    kind: character
    owner: Comet Studios
    aliases: [Cap Comet]
    description: a caped space hero with a glowing comet emblem
    policy: block
"""
# Records every value the progress bar shows, across the reload at completion.
RECORD_PROGRESS = """
window.addEventListener("DOMContentLoaded", () => {
  const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
  const record = () => document.querySelectorAll("[role=progressbar]").forEach((bar) => {
    const value = Number(bar.getAttribute("aria-valuenow"));
    if (seen[seen.length - 1] !== value) seen.push(value);
    sessionStorage.setItem("progress", JSON.stringify(seen));
  });
  record();
  new MutationObserver(record).observe(document.body,
    {subtree: true, attributes: true, attributeFilter: ["aria-valuenow"]});
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Slow the test backend a little so progress is visible between 0 and 100 %.
    srv = make_server(tmp_path_factory.mktemp("studio"), MUTOSCOPE_TEST_STEP_SECONDS="0.2")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def new_page(chromium, server: Server, *, mobile: bool = False) -> Page:  # type: ignore[no-untyped-def]
    size = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900}
    context = chromium.new_context(base_url=server.url, viewport=size, is_mobile=mobile)
    context.set_default_timeout(30_000)
    context.add_init_script(RECORD_PROGRESS)
    page = context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"JavaScript error: {exc}"))
    page.on("console", _fail_on_csp_violation)
    return page


def _fail_on_csp_violation(message) -> None:  # type: ignore[no-untyped-def]
    if "Content Security Policy" in message.text:
        pytest.fail(f"blocked by the page's CSP: {message.text}")


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("MUTOSCOPE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def sign_up(page: Page, name: str) -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password", exact=False).first.fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/create$"))


def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def create_video(page: Page, prompt: str, size: str = "720x1280") -> str:
    page.goto("/create")
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Model").select_option("mutoscope-test")
    page.get_by_label("Size").select_option(size)
    page.get_by_label("Seconds").select_option("4")
    page.evaluate("sessionStorage.removeItem('progress')")
    page.get_by_role("button", name="Create video").click()
    expect(page).to_have_url(re.compile(r"/v/video_\w+$"))
    return page.url.rsplit("/", 1)[1]


def wait_playable(page: Page) -> dict:
    page.wait_for_function(
        "() => document.getElementById('player')?.readyState >= 2",
        timeout=60_000,
    )
    return page.evaluate(
        "({readyState: player.readyState, duration: player.duration,"
        " width: player.videoWidth, height: player.videoHeight})"
    )


def test_first_visit_leads_to_sign_up_and_accounts_can_sign_out_and_in(
    chromium, server: Server
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium, server)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signup$"))
    expect(page.get_by_role("heading", name="Create the first account")).to_be_visible()
    shot(page, "signup")
    sign_up(page, "ada")
    expect(page.get_by_text("Signed in as")).to_contain_text("ada")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "ada", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    shot(page, "signin")
    sign_in(page, "ada")
    expect(page).to_have_url(re.compile(r"/create$"))
    page.context.close()


def test_create_watch_play_verify_remix_publish_and_find_in_anothers_feed(
    chromium, server: Server
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium, server)
    sign_up(page, "alice")

    # 1. Create: the rights check answers inline while typing
    page.goto("/create")
    page.get_by_label("Prompt", exact=True).fill(BOAT)
    expect(page.locator("#rights-check")).to_contain_text("Allowed")
    shot(page, "create")
    parent = create_video(page, BOAT)

    # 2. Progress climbs to 100 % live, then the player appears and plays
    info = wait_playable(page)
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('progress') || '[]')")
    assert seen[-1] == 100 and any(0 < v < 100 for v in seen), seen
    assert seen == sorted(seen), seen
    assert info["readyState"] >= 2
    assert info["duration"] == pytest.approx(4.0, abs=0.1)
    assert (info["width"], info["height"]) == (720, 1280)

    # 3. The provenance panel verifies the file's credentials and watermark
    expect_provenance_valid(page)
    shot(page, "video")

    # 4. Remix, and see the chain from both ends; the prompt is text, never run as HTML
    page.get_by_label("New prompt").fill(f"The same paper boat at night {SCRIPT}")
    page.get_by_role("button", name="Remix", exact=True).click()
    expect(page).to_have_url(re.compile(r"/v/video_\w+$"))
    remix = page.url.rsplit("/", 1)[1]
    assert remix != parent
    wait_playable(page)
    expect(page.locator("#prompt")).to_contain_text(SCRIPT)
    assert page.evaluate("window.__xss") is None
    expect(page.locator(f'#chain a[href="/v/{parent}"]')).to_contain_text("paper boat")
    expect_provenance_valid(page)
    shot(page, "remix")
    page.goto(f"/v/{parent}")
    expect(page.locator(f'#chain a[href="/v/{remix}"]')).to_contain_text("at night")
    assert page.evaluate("window.__xss") is None

    # 5. Publish the original (the remix stays private)
    page.get_by_role("button", name="Publish to feed").click()
    expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
    page.goto("/videos")
    expect(page.locator(f"#item-{parent} .status")).to_have_text("completed")
    shot(page, "my-videos")

    # 6. Another user finds it in the feed, likes it, and cannot see the private remix
    other = new_page(chromium, server)
    sign_up(other, "bob")
    kite = create_video(other, "A red kite over green hills")
    wait_playable(other)
    other.get_by_role("button", name="Publish to feed").click()
    expect(other.get_by_role("button", name="Unpublish")).to_be_visible()
    other.goto("/feed")
    card = other.locator(f'article.card[data-id="{parent}"]')
    expect(card).to_be_visible()
    cards = other.locator("article.card").evaluate_all("cards => cards.map(c => c.dataset.id)")
    assert cards[:2] == [kite, parent]  # newest first
    expect(card.locator("video")).to_have_class(re.compile("playing"))  # muted autoplay in view
    media = card.locator(".card-media")
    media.hover(position={"x": 5, "y": 50})
    expect(media).to_have_class(re.compile("scrubbing"))
    sprite = card.locator(".scrub").evaluate("el => getComputedStyle(el).backgroundImage")
    assert f"/media/{parent}/spritesheet" in sprite
    expect(card).to_contain_text("by @alice")
    expect(other.locator(f'article.card[data-id="{remix}"]')).to_have_count(0)
    card.get_by_role("button").click()
    expect(card.locator(".like-count")).to_have_text("1")
    other.reload()
    expect(other.locator(f'article.card[data-id="{parent}"] .like-count')).to_have_text("1")
    shot(other, "feed")
    response = other.goto(f"/v/{remix}")
    assert response is not None and response.status == 404
    expect(other.get_by_role("heading", name="Not found")).to_be_visible()
    other.goto(f"/v/{parent}")
    expect(other.locator(f'#chain a[href="/v/{remix}"]')).to_have_count(0)

    # 7. The feed and a video page on a phone
    phone = new_page(chromium, server, mobile=True)
    phone.goto("/feed")
    expect(phone.locator(f'article.card[data-id="{parent}"]')).to_be_visible()
    shot(phone, "feed-mobile")
    phone.goto(f"/v/{parent}")
    wait_playable(phone)
    shot(phone, "video-mobile")
    for p in (page, other, phone):
        p.context.close()


def test_blocked_prompt_shows_the_reason_before_and_after_submitting(
    chromium, server: Server
) -> None:  # type: ignore[no-untyped-def]
    if not server_has("mutoscope.rights.service"):
        pytest.skip("the rights layer (mutoscope.rights.service) is not installed")
    server.cli("users", "create", "root", "--admin", "--password", PASSWORD)
    page = new_page(chromium, server)
    sign_in(page, "root")
    page.goto("/rights")
    page.get_by_label("Registry YAML").set_input_files(
        files=[{"name": "registry.yaml", "mimeType": "text/yaml", "buffer": REGISTRY.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#rights-done")).to_contain_text("Imported 1 entity")
    expect(page.locator("#entities")).to_contain_text("Captain Comet")
    shot(page, "rights")

    page.goto("/create")
    page.get_by_label("Prompt", exact=True).fill("Captain Comet surfing a giant wave")
    check = page.locator("#rights-check")
    expect(check).to_have_class(re.compile("blocked"))
    expect(check).to_contain_text("may not be generated here")
    shot(page, "create-blocked")
    page.get_by_role("button", name="Create video").click()
    expect(page.locator("#form-error")).to_contain_text("Blocked by the rights check")
    expect(page.locator("#form-error")).to_contain_text("Captain Comet")
    # The block is said once: no second "Blocked:" line, no drawing advice under it.
    expect(check).to_be_empty()
    expect(page.locator("#prompt-fit")).to_be_empty()
    expect(page.get_by_role("button", name="Create video")).to_be_visible()

    # Allowed but beyond the embedded model: no green all-clear, and a knowing second click.
    page.get_by_label("Model").select_option("mutoscope-tiny")
    page.get_by_label("Prompt", exact=True).fill("A paper boat drifting down a rainy street")
    expect(page.locator("#prompt-fit")).to_contain_text("cannot draw")
    expect(check).to_have_text("No rights issue found.")
    expect(check).not_to_have_class(re.compile("ok"))
    expect(page.locator("#form-error")).to_be_hidden()
    expect(page.locator("#prompt-fit a")).to_have_attribute("href", "/help/models")
    expect(page.get_by_role("button", name="Create anyway")).to_be_visible()
    page.context.close()


def test_settings_create_and_revoke_an_api_key(chromium, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium, server)
    sign_up(page, "keymaker")
    page.goto("/settings")
    page.get_by_label("Key name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key").input_value()
    assert key.startswith("mts_")
    shot(page, "settings")
    page.goto("/settings")
    expect(page.locator("table.keys")).not_to_contain_text(key)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("table.keys tr.revoked")).to_contain_text("laptop")
    page.context.close()


def test_keyboard_reaches_every_create_field_in_order(chromium, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium, server)
    sign_up(page, "keyboard")
    page.goto("/create")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    order = []
    for _ in range(8):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert [i for i in order if i][:6] == [
        "prompt",
        "model",
        "size",
        "seconds",
        "image",
        "create-submit",
    ]
    page.context.close()


def expect_provenance_valid(page: Page) -> None:
    if not server_has("mutoscope.provenance.service"):
        return  # the panel then says the layer is not installed (covered in test_pages)
    status = page.locator("#provenance-status")
    expect(status).to_have_attribute("data-state", "valid", timeout=60_000)
    expect(status).to_contain_text("Provenance valid")
    expect(page.locator("#c2pa-status")).to_contain_text("Trusted")
    expect(page.locator("#watermark-status")).to_contain_text("found")


def server_has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_the_detail_page_player_plays_the_videos_sound(chromium, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium, server)
    sign_up(page, "audrey")
    create_video(page, "a bell ringing over a quiet harbour", size="1280x720")
    wait_playable(page)
    assert page.evaluate("!player.muted && !player.hasAttribute('muted')")
    # A click is the user's gesture that lets Chromium play with sound.
    page.locator("#player").click()
    heard = page.evaluate(
        """async () => {
          if (player.paused) await player.play();
          const until = Date.now() + 15000;
          while (player.webkitAudioDecodedByteCount === 0 && Date.now() < until)
            await new Promise((r) => setTimeout(r, 100));
          return {bytes: player.webkitAudioDecodedByteCount, muted: player.muted,
                  tracks: player.audioTracks ? player.audioTracks.length : null,
                  aac: player.canPlayType('audio/mp4; codecs="mp4a.40.2"')};
        }"""
    )
    # This Chromium decodes AAC; it reports audioTracks only behind a flag, so the decoded
    # byte count is the evidence that the file's sound reaches the audio pipeline.
    assert heard["aac"] == "probably"
    assert heard["bytes"] > 0 and not heard["muted"]
    assert heard["tracks"] in (None, 1)
    # the provenance panel lists the file's streams, sound included
    expect(page.locator("#streams-status")).to_contain_text("audio aac 48")
    page.context.close()


def test_advanced_panel_opens_greys_out_what_the_model_does_not_take_and_is_recorded(
    chromium,  # type: ignore[no-untyped-def]
    server: Server,
) -> None:
    page = new_page(chromium, server)
    sign_up(page, "advanced")
    page.goto("/create")
    expect(page.locator("#advanced")).not_to_have_attribute("open", re.compile(".*"))
    expect(page.get_by_label("Steps")).to_be_hidden()  # collapsed by default
    page.get_by_text("Advanced", exact=True).click()
    expect(page.get_by_label("Steps")).to_be_visible()

    page.get_by_label("Model").select_option("mutoscope-tiny")
    expect(page.locator("#negative_prompt")).to_be_disabled()
    expect(page.locator("#lora")).to_be_disabled()
    expect(page.locator("#preset option")).to_have_text(["default", "fast"])
    page.get_by_label("Model").select_option("mutoscope-test")
    expect(page.locator("#negative_prompt")).to_be_enabled()
    expect(page.locator("#preset")).to_be_disabled()

    page.get_by_label("Prompt", exact=True).fill(BOAT)
    page.get_by_label("Size").select_option("320x180")
    page.get_by_label("Steps").fill("3")
    page.locator("#negative_prompt").fill("noise")
    page.get_by_role("button", name="Create video").click()
    expect(page).to_have_url(re.compile(r"/v/video_\w+$"))
    expect(page.locator("#video-options")).to_have_text("steps 3 · negative prompt “noise”")
    page.context.close()
