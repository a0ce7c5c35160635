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
