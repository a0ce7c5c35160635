"""Studio fixtures: an in-process app with the test backend, and signed-in test clients."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mutoscope.storage.records import VideoRecord


@pytest.fixture
def app(settings, core_services) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app

    application = create_app(settings, services=core_services, keyless=True)
    with TestClient(application):  # runs the lifespan (services, worker) once
        yield application


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A TestClient with its own cookie jar, signed in as one user."""

    def __init__(self, app: FastAPI, name: str | None = None, password: str = "correct horse"):
        self.client = TestClient(app)
        self.csrf = csrf_of(self.client.get("/signin").text)
        if name:
            r = self.post("/signup", name=name, password=password, confirm=password)
            assert r.status_code == 303, r.text
            self.csrf = csrf_of(self.client.get("/create").text)

    def get(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kw)

    def post(self, url: str, **data: str):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={"csrf": self.csrf, **data}, follow_redirects=False)

    def create(self, prompt: str = "a paper boat", **fields: str) -> str:
        form = {"prompt": prompt, "model": "mutoscope-test", "size": "256x256", "seconds": "4"}
        r = self.post("/create", **{**form, **fields})
        assert r.status_code == 303, r.text
        return str(r.headers["location"].rsplit("/", 1)[1])


def wait_completed(app: FastAPI, video_id: str, timeout: float = 60) -> VideoRecord:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with app.state.services.sessions() as s:
            row = s.get(VideoRecord, video_id)
        assert row is not None
        if row.status in ("completed", "failed"):
            assert row.status == "completed", row.error_message
            return row
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish")
