"""The studio says what the model can draw before a video is made, and shows the reason after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mutoscope.backends.tiny import TinyBackend
from tests.api.test_prompt_fit import ShapesVocabularyBackend
from tests.studio.conftest import Browser


class PlaceholderBackend(ShapesVocabularyBackend):
    __test__ = False
    example_prompt = TinyBackend.example_prompt


@pytest.fixture
def app(settings) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app
    from mutoscope.backends.registry import load_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance, NullRights

    def hook(register, _settings) -> None:  # type: ignore[no-untyped-def]
        register(PlaceholderBackend())

    settings = settings.model_copy(update={"default_model": "shapes-vocab"})
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[hook]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    application = create_app(settings, services=services, keyless=True)
    with TestClient(application):
        yield application
    services.close()


def test_create_page_checks_what_the_model_can_draw_and_the_video_keeps_the_reason(
    app: FastAPI,
) -> None:
    alice = Browser(app, "alice")
    page = alice.get("/create").text
    assert f'placeholder="{TinyBackend.example_prompt}"' in page
    assert 'id="prompt-fit"' in page
    headers = {"x-csrf-token": alice.csrf}
    prompt = "A paper boat drifting down a rainy street at dusk"
    check = alice.client.post("/studio/check", json={"prompt": prompt}, headers=headers).json()
    assert check["allowed"] is True and check["fit"]["drawable"] is False
    assert "cannot draw" in check["fit"]["warning"] and "docs/models.md" in check["fit"]["warning"]
    fine = alice.client.post(
        "/studio/check", json={"prompt": "a red sphere ascends"}, headers=headers
    ).json()
    assert fine["fit"] == {
        "drawable": True,
        "will_draw": "a red circle moving up on a white background",
        "warning": None,
    }
    form = {"prompt": prompt, "model": "shapes-vocab", "size": "256x256", "seconds": "4"}
    # As the CLI without --anyway: nothing is made until the user knowingly proceeds.
    first = alice.post("/create", **form)
    assert first.status_code == 400 and "cannot draw" in first.text
    assert (
        ">Create anyway</button>" in first.text
        and 'name="anyway" id="anyway" value="true"' in first.text
    )
    assert '<a href="/help/models">' in first.text and "docs/models.md" not in first.text
    help_page = alice.get("/help/models")
    assert help_page.status_code == 200 and "models.toml" in help_page.text
    r = alice.post("/create", **form, anyway="true")
    assert r.status_code == 303, r.text
    video = alice.get(r.headers["location"]).text
    assert 'id="prompt-warning"' in video and "cannot draw this prompt" in video
    assert '<a href="/help/models">installing models</a>' in video  # a link, as on /create
    assert "docs/models.md" not in video
