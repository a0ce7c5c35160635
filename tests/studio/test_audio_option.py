"""The create page's Sound box: on by default, unticked makes a silent video."""

from __future__ import annotations

from fastapi import FastAPI

from mutoscope.media import probe
from tests.studio.conftest import Browser, wait_completed


def test_sound_is_ticked_by_default_and_unticking_it_makes_a_silent_video(app: FastAPI) -> None:
    alice = Browser(app, "alice")
    page = alice.get("/create").text
    assert 'name="audio" value="false"' in page
    assert 'id="audio" name="audio" type="checkbox" value="true" checked' in page

    files = app.state.services.files
    loud = wait_completed(app, alice.create("a red square"))
    assert probe(files.path(loud.id, "video")).audio is not None
    # an unticked box sends only the hidden "false"
    quiet = wait_completed(app, alice.create("a blue square", audio="false"))
    assert probe(files.path(quiet.id, "video")).audio is None
