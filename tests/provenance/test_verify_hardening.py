"""Verify takes big files without holding them in memory, caps them and its concurrency, and
fetches by URL only through the SSRF-safe fetcher."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mutoscope.api import errors, guards
from mutoscope.api import provenance as verify_routes
from mutoscope.config import Settings
from mutoscope.provenance.service import ProvenanceService
from tests.net.test_fetch import _serve
from tests.provenance.conftest import add_video, make_signed


def _client(settings: Settings, service: object) -> TestClient:
    app = FastAPI()
    errors.install(app)
    app.include_router(verify_routes.router)
    app.add_middleware(
        guards.BodyLimitMiddleware,
        limit_for=lambda path: settings.verify_max_bytes,
    )
    app.state.services = SimpleNamespace(settings=settings, provenance=service, rights=object())
    return TestClient(app)


@pytest.fixture
def signed(service: ProvenanceService, sessions, clip: np.ndarray, tmp_path: Path) -> bytes:
    add_video(sessions, "video_a", published=True)
    path = tmp_path / "a.mp4"
    make_signed(service, clip, path, "video_a")
    return path.read_bytes()


@pytest.fixture
def video_site(signed: bytes):
    site, server = _serve("127.0.0.1")
    site.routes["/a.mp4"] = (200, {"Content-Type": "video/mp4"}, signed)
    yield site
    server.shutdown()


def test_verify_by_url_uses_the_safe_fetcher(settings: Settings, service, video_site):
    refused = _client(settings, service).post(
        "/v1/provenance/verify", json={"url": video_site.url("/a.mp4")}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"].startswith("could not fetch the video")
    assert video_site.hits == []

    on_premises = settings.model_copy(update={"fetch_allow_private": True})
    ok = _client(on_premises, service).post(
        "/v1/provenance/verify", json={"url": video_site.url("/a.mp4")}
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["c2pa"]["trusted"] and body["watermark"]["found"]
    assert body["record"]["matched_by"] == "c2pa"  # anonymous: no video id (privacy)


def test_verify_gets_a_file_on_disk_not_bytes_in_memory(settings: Settings, service, signed):
    seen = []
    real = service.verify

    def spy(source, **kw):  # type: ignore[no-untyped-def]
        seen.append(source)
        return real(source, **kw)

    service.verify = spy
    r = _client(settings, service).post(
        "/v1/provenance/verify", files={"file": ("a.mp4", signed, "video/mp4")}
    )
    assert r.status_code == 200, r.text
    assert not isinstance(seen[0], bytes | bytearray)
    assert hasattr(seen[0], "seek")


def test_verify_upload_over_the_cap_is_413_even_when_chunked(settings: Settings, service):
    small = settings.model_copy(update={"verify_max_bytes": 256 * 1024})

    def body():
        yield (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n"
        )
        for _ in range(8):
            yield b"\0" * 65536
        yield b"\r\n--b--\r\n"

    r = _client(small, service).post(
        "/v1/provenance/verify",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "file_too_large"


def test_verifications_beyond_the_concurrency_cap_wait_then_get_429(
    settings: Settings, service, signed, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(verify_routes, "SLOT_WAIT_SECONDS", 0.3)
    one = settings.model_copy(update={"verify_concurrency": 1})
    real = service.verify

    def slow(source, **kw):  # type: ignore[no-untyped-def]
        time.sleep(1.5)
        return real(source, **kw)

    service.verify = slow
    statuses: list[int] = []
    with _client(one, service) as client:

        def post() -> None:
            r = client.post("/v1/provenance/verify", files={"file": ("a.mp4", signed)})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=post) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200, 429]
