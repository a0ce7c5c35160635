"""Every submitted prompt's rights decision is recorded once; previews are not recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.studio.conftest import Browser, wait_completed

BLOCKED = "Mickey Mouse dancing"  # the embedded model cannot draw it either


@pytest.fixture
def app(settings) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app
    from mutoscope.services import build_services

    settings = settings.model_copy(
        update={"default_model": "mutoscope-tiny", "rights_starter": True}
    )
    services = build_services(settings)  # the real rights layer, starter registry
    with TestClient(create_app(settings, services=services, keyless=True)) as _:
        yield _.app  # type: ignore[misc]
    services.close()


def _prompt_rows(app: FastAPI) -> list[tuple[str, str | None]]:
    rows = app.state.services.rights.audit.rows()
    return [(r.decision, r.subject_id) for r in rows if r.check == "prompt"]


def test_blocked_studio_submissions_are_recorded_once_and_previews_not_at_all(
    app: FastAPI,
) -> None:
    alice = Browser(app, "alice")
    form = {"prompt": BLOCKED, "model": "mutoscope-tiny", "size": "256x256", "seconds": "4"}
    # 1. Submitted: blocked and recorded, with or without "Create anyway".
    for extra in ({}, {"anyway": "true"}):
        r = alice.post("/create", **form, **extra)
        assert r.status_code == 400 and "Mickey Mouse" in r.text
        assert "[starter registry]" in r.text
    assert [decision for decision, _ in _prompt_rows(app)] == ["block", "block"]
    # 2. Previews: the create page's live check and the API's rights check record nothing.
    headers = {"x-csrf-token": alice.csrf}
    live = alice.client.post("/studio/check", json={"prompt": BLOCKED}, headers=headers).json()
    assert live["allowed"] is False and live["message"].endswith("[starter registry]")
    api = alice.client.post("/v1/rights/check", json={"prompt": BLOCKED}).json()
    assert api["decision"] == "block"
    assert len(_prompt_rows(app)) == 2
    # 3. The API's create is a submission: recorded once.
    refused = alice.client.post("/v1/videos", json={"prompt": BLOCKED})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].endswith("[starter registry]")
    assert len(_prompt_rows(app)) == 3
    # 4. An allowed prompt the model can draw: one row, for its video.
    drawable = "a red circle moving left on a green background"
    video_id = alice.create(drawable, **{k: v for k, v in form.items() if k != "prompt"})
    wait_completed(app, video_id, timeout=120)
    assert _prompt_rows(app)[3:] == [("allow", video_id)]
