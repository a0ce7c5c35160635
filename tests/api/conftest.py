from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(settings, core_services) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app

    app = create_app(settings, services=core_services, keyless=True)
    with TestClient(app) as c:
        yield c


def wait_done(client: TestClient, video_id: str, headers: dict | None = None, timeout: float = 60):
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/v1/videos/{video_id}", headers=headers or {}).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} did not finish: {body}")
