"""kill -9 the server mid-generation: after a restart the video completes exactly once."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import make_server

pytestmark = pytest.mark.e2e


def _get(url: str) -> dict:
    return httpx.get(url, timeout=5).json()


def test_kill_9_mid_generation_then_restart_completes_once(tmp_path):
    server = make_server(tmp_path, MUTOSCOPE_TEST_STEP_SECONDS="0.4", MUTOSCOPE_LEASE_SECONDS="2")
    server.start()
    try:
        vid = httpx.post(
            f"{server.url}/v1/videos", data={"prompt": "survive a crash", "size": "320x180"}
        ).json()["id"]
        deadline = time.time() + 60
        while _get(f"{server.url}/v1/videos/{vid}")["progress"] < 20:
            assert time.time() < deadline
            time.sleep(0.05)
        server.kill9()  # mid-generation: the job is in_progress under a lease

        server.start()
        deadline = time.time() + 120
        while (video := _get(f"{server.url}/v1/videos/{vid}"))["status"] != "completed":
            assert video["status"] != "failed", video
            assert time.time() < deadline, video
            time.sleep(0.2)

        listing = _get(f"{server.url}/v1/videos?limit=100")
        assert [v["id"] for v in listing["data"]] == [vid]  # no duplicate videos
        media = server.home / "media"
        mp4s = list(media.rglob("*.mp4"))
        assert [p.parent.name for p in mp4s] == [vid]  # one output, no orphans
        staging = media / ".staging"  # the dead process's scratch was removed at restart
        assert not [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else True
        content = httpx.get(f"{server.url}/v1/videos/{vid}/content", timeout=10)
        assert content.status_code == 200 and content.content[4:8] == b"ftyp"
    finally:
        server.stop()


def test_accepted_job_survives_a_kill_before_it_starts(tmp_path):
    server = make_server(tmp_path, MUTOSCOPE_WORKERS="0")
    server.start()
    try:
        vid = httpx.post(
            f"{server.url}/v1/videos", data={"prompt": "queued only", "size": "320x180"}
        ).json()["id"]
        server.kill9()
        server.env["MUTOSCOPE_WORKERS"] = "1"
        server.start()
        deadline = time.time() + 60
        while _get(f"{server.url}/v1/videos/{vid}")["status"] != "completed":
            assert time.time() < deadline
            time.sleep(0.2)
    finally:
        server.stop()
