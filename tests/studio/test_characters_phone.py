"""The Characters page on a 390-px phone in real Chromium: characters made keyless before
the first sign-up are the new account's, their ids stay inside their cards, and the main
menu shows that it scrolls (and where the current page is)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import openai
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
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
    pytest.mark.skipif(
        not shutil.which(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]
NAME = "Zorp the Magnificent Square"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("characters-phone"))
    srv.start()
    yield srv
    srv.stop()


def test_a_phone_shows_adopted_characters_inside_their_cards_and_a_scrolling_menu(
    chromium,  # noqa: F811
    server: Server,
) -> None:  # type: ignore[no-untyped-def]
    keyless = openai.OpenAI(base_url=f"{server.url}/v1", api_key="mts_...", max_retries=0)
    made = keyless.videos.create_character(
        name=NAME, video=("z.mp4", character_clip("red", "circle"), "video/mp4")
    )
    page = new_page(chromium, server, mobile=True)
    sign_up(page, "ada")
    # The first account adopted the keyless character.
    page.goto("/characters")
    card = page.locator(f"#character-{made.id}")
    expect(card).to_contain_text(made.id)
    shot(page, "characters-phone")
    # Nothing is wider than the screen; the id wraps inside its card.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    card_box, id_box = card.bounding_box(), card.locator(".char-id").bounding_box()
    assert card_box is not None and id_box is not None
    assert id_box["x"] + id_box["width"] <= card_box["x"] + card_box["width"]
    # The menu scrolls sideways: the current page's item is in view, and the clipped edges
    # fade (the classes the styles use).
    nav = page.locator(".top nav")
    nav_box = nav.bounding_box()
    here = nav.locator('[aria-current="page"]').bounding_box()
    assert nav_box is not None and here is not None
    assert (
        nav_box["x"] <= here["x"] and here["x"] + here["width"] <= nav_box["x"] + nav_box["width"]
    )
    # Which edges are clipped depends on the fonts' widths: the classes must say what is so.
    matches_overflow = (
        "() => { const n = document.querySelector('.top nav');"
        " const left = n.scrollLeft > 1, right = n.scrollLeft + n.clientWidth < n.scrollWidth - 1;"
        " return n.classList.contains('more-left') === left"
        " && n.classList.contains('more-right') === right; }"
    )
    page.wait_for_function(matches_overflow, timeout=10_000)
    page.goto("/feed")
    page.wait_for_function(matches_overflow, timeout=10_000)
    nav.evaluate("n => n.scrollTo(n.scrollWidth, 0)")  # to the far end: nothing more right
    page.wait_for_function(matches_overflow, timeout=10_000)
    mask = page.locator(".top nav").evaluate("n => getComputedStyle(n).maskImage")
    assert "linear-gradient" in mask
