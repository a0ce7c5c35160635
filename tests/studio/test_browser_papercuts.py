"""Newcomer papercuts in real Chromium: offline API docs, the rights portal on a phone, one
status vocabulary while a video is made."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, make_server
from tests.studio.test_browser import (  # noqa: F401  (module-scoped fixture)
    chromium,
    create_video,
    expect,
    new_page,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("papercuts"), MUTOSCOPE_TEST_STEP_SECONDS="0.3")
    srv.start()
    yield srv
    srv.stop()


def test_api_docs_render_with_no_network_beyond_the_server(chromium, server):  # noqa: F811
    page = new_page(chromium, server)
    outside: list[str] = []

    def only_the_server(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_server)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mutoscope")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert outside == []
    page.get_by_role("link", name="Back to the Mutoscope studio").click()
    expect(page).not_to_have_url(re.compile(r"/docs$"))


def test_rights_portal_fits_a_390px_phone(chromium, server):  # noqa: F811
    page = new_page(chromium, server, mobile=True)
    sign_up(page, "phone-owner")
    page.goto("/rights")
    expect(page.locator("h1").first).to_be_visible()
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > 390)
            .map((el) => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className
                 + ' ' + Math.round(el.getBoundingClientRect().right))"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    # The menu is one row (it scrolls sideways), not three lines above every page.
    menu = page.locator(".top nav ul").bounding_box()
    assert menu is not None and menu["height"] < 40, menu
    # Chart labels are readable, and a table wider than the screen shows it scrolls.
    sizes = page.evaluate(  # font size in screen pixels: the SVG is scaled to fit
        """() => [...document.querySelectorAll('.chart .axis')].map((t) => {
            const svg = t.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(t).fontSize) * scale;
        })"""
    )
    assert sizes and min(sizes) >= 10, sizes
    cue = page.evaluate(
        "() => getComputedStyle(document.querySelector('table.keys')).backgroundImage"
    )
    assert "gradient" in cue


def test_status_labels_agree_while_a_video_is_made(chromium, server):  # noqa: F811
    page = new_page(chromium, server)
    sign_up(page, "status-watcher")
    create_video(page, "a red circle moving left")
    labels = page.locator(".details .status, .progress-wrap .status")
    page.wait_for_function(
        "() => Number(document.querySelector('[role=progressbar]')"
        "?.getAttribute('aria-valuenow')) > 0"
    )
    texts = labels.all_text_contents()
    assert len(set(texts)) == 1 and texts[0] in ("in progress", "completed"), texts
    expect(page.locator(".details .status")).to_have_text("completed", timeout=60_000)
    assert re.fullmatch(r"queued|in progress|completed|failed", labels.first.inner_text())


def test_create_page_offers_a_reference_image_only_to_models_that_take_one(chromium, server):  # noqa: F811
    page = new_page(chromium, server)
    sign_up(page, "image-chooser")
    page.goto("/create")
    image = page.locator("#image")
    page.get_by_label("Model").select_option("mutoscope-tiny")  # refuses input_reference
    expect(image).to_be_hidden()
    expect(image).to_be_disabled()
    page.get_by_label("Model").select_option("mutoscope-test")  # takes one
    expect(image).to_be_visible()
    expect(image).to_be_enabled()


def test_a_video_finishing_on_my_videos_swaps_cancel_for_delete_and_cancel_keeps_it(
    chromium,  # noqa: F811
    server,
):
    page = new_page(chromium, server)
    sign_up(page, "canceller")
    page.goto("/create")
    page.get_by_label("Prompt", exact=True).fill("a blue square moving up")
    page.get_by_label("Model").select_option("mutoscope-test")
    page.get_by_label("Seconds").select_option("4")
    page.evaluate("document.querySelector('#steps').value = '12'")  # 12 × 0.3 s: still running
    page.get_by_role("button", name="Create video").click()
    expect(page).to_have_url(re.compile(r"/v/video_\w+$"))
    video_id = page.url.rsplit("/", 1)[1]
    page.goto("/videos")
    row = page.locator(f"#item-{video_id}")
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    # Finishing while the page is open: the row becomes the completed row.
    expect(row.get_by_role("button", name="Delete")).to_be_visible(timeout=60_000)
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(row.locator("img.thumb")).to_be_visible()
    expect(row.locator("form[action$='/delete']")).to_have_attribute(
        "data-confirm", "Delete this video for good?"
    )
    # A stale Cancel (another tab, a slow page) posted after the video finished keeps it.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    r = page.request.post(f"{server.url}/v/{video_id}/cancel", form={"csrf": csrf or ""})
    assert r.ok and r.url.endswith(f"/videos?kept={video_id}")
    assert "finished before it could be cancelled" in r.text()
    assert page.request.get(f"{server.url}/v/{video_id}").status == 200
