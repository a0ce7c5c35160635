"""A rights holder's portal in real Chromium against a real server: chart, phrasings, CSV.

Set ``MUTOSCOPE_SCREENSHOTS=docs/screenshots`` to save ``rights-holder.png`` (1280×800) and
``rights-holder-mobile.png`` (390×844).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from tests.e2e.conftest import Server, make_server
from tests.studio.test_browser import CHROMIUM, PASSWORD, shot, sign_in, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("mutoscope.rights.service", reason="the rights layer is not installed")
expect = playwright_api.expect

# Prompts people tried over three weeks (decided by the real screener; only the audit
# clock is moved back so that the chart has history).
HISTORY = [
    (20, "other", "Nova Knight guarding a castle gate"),
    (18, "other", "nova knight on a horse"),
    (15, "mallory", "a poster of the Nova Knight"),
    (15, "mallory", "Nova Knight guarding a castle gate at night"),
    (11, "fan", "Nova Knight waving to a crowd"),
    (9, "other", "Nova Knight guarding a castle gate"),
    (6, "mallory", "Sir Nova fighting a dragon"),
    (4, "fan", "Nova Knight reading a book"),
    (2, "other", "nova knight in the rain"),
    (1, "mallory", "Sir Nova at the beach"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("holder"), MUTOSCOPE_RIGHTS_STARTER="true")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    import shutil

    if not shutil.which(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def _page(chromium, server: Server, width: int, height: int):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=server.url,
        viewport={"width": width, "height": height},
        is_mobile=width < 600,
        accept_downloads=True,
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"JavaScript error: {exc}"))
    return page


def _replay_history(server: Server) -> None:
    """Screen HISTORY with the real rights layer on the server's database, days ago."""
    from mutoscope.config import Settings
    from mutoscope.rights.service import RightsService
    from mutoscope.storage.db import make_engine, session_factory
    from mutoscope.users import UserService

    settings = Settings(home=server.home, rights_starter=True)
    engine = make_engine(settings.db_url)
    sessions = session_factory(engine)
    rights = RightsService(settings, sessions)
    users = UserService(sessions)
    now = time.time()
    for days_ago, name, prompt in HISTORY:
        user = users.by_name(name)
        assert user is not None
        with mock.patch("mutoscope.rights.audit.time.time", return_value=now - days_ago * 86400):
            rights.check_prompt(prompt, user_id=user.id)
    engine.dispose()


def test_an_organisation_reviews_its_matches_and_exports_them(chromium, server: Server) -> None:  # type: ignore[no-untyped-def]
    server.cli("users", "create", "root", "--admin", "--password", PASSWORD)
    owner = _page(chromium, server, 1280, 800)
    for name in ("fan", "other", "mallory"):
        p = _page(chromium, server, 1280, 800)
        sign_up(p, name)
        p.context.close()
    sign_up(owner, "nova")
    owner.goto("/rights")
    owner.locator("#o-name").fill("Nova Studios")
    owner.locator("#o-claim").fill("https://nova.example/contact")
    owner.get_by_role("button", name="Claim").click()
    expect(owner.locator("#rights-done")).to_contain_text("Claimed 'Nova Studios'")

    admin = _page(chromium, server, 1280, 800)
    sign_in(admin, "root")
    admin.goto("/rights")
    expect(admin.locator("#starter-summary")).to_contain_text("starter registry")
    admin.locator("#pending-orgs").get_by_role("button", name="Verify").click()
    expect(admin.locator("#rights-done")).to_contain_text("is verified")
    admin.context.close()

    owner.goto("/rights")
    owner.locator("#r-name").fill("Nova Knight")
    owner.locator("#r-id").fill("nova-knight")
    owner.locator("#r-policy").select_option("license")
    owner.locator("#r-org").select_option(label="Nova Studios")
    owner.locator("#r-aliases").fill("Sir Nova")
    owner.locator("#r-description").fill(
        "an armoured knight with a glowing blue star on his shield"
    )
    owner.locator("#r-licensees").fill("fan")
    owner.locator("#r-attribution").fill("Nova Knight © Nova Studios, used under licence")
    owner.get_by_role("button", name="Register").click()
    expect(owner.locator("#rights-done")).to_contain_text("Registered 'Nova Knight'")

    _replay_history(server)
    owner.goto("/rights")
    owner.locator("#f-org").select_option(label="Nova Studios")
    owner.get_by_role("button", name="Show").click()
    expect(owner).to_have_url(re.compile(r"\?org=org_"))
    expect(owner.locator("#insights-totals")).to_contain_text("8 blocked")
    expect(owner.locator("#insights-totals")).to_contain_text("2 allowed")
    assert owner.locator("#insights svg.chart rect.blocked").count() >= 6
    expect(owner.locator("#phrasings tbody tr").first).to_contain_text("nova knight")
    expect(owner.locator("#licences")).to_contain_text("Nova Knight © Nova Studios")
    expect(owner.locator("#licences")).to_contain_text("2 / 8")
    shot(owner, "rights-holder")

    with owner.expect_download() as download:
        owner.locator("#matches-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 10 and all(r["user"].startswith("anon_") for r in rows)
    assert {r["decision"] for r in rows} == {"block", "allow"}

    phone = _page(chromium, server, 390, 844)
    sign_in(phone, "nova")
    phone.goto(owner.url.replace(server.url, ""))
    expect(phone.locator("#insights svg.chart")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    chart = phone.locator("#insights svg.chart").bounding_box()
    assert chart is not None and chart["x"] + chart["width"] <= 390, f"chart cut off: {chart}"
    shot(phone, "rights-holder-mobile")
    for p in (owner, phone):
        p.context.close()
