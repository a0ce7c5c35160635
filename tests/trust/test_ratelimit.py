"""Rate limits: 429 in the OpenAI shape with Retry-After, then recovery after the window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mutoscope.errors import RateLimited
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.trust.ratelimit import RateLimits, SqlStorage
from tests.studio.conftest import Browser, csrf_of

WINDOW = 6  # seconds: short so the recovery half of each test stays quick, long enough
# that a loaded machine makes its attempts (argon2 takes a while) inside one window


@pytest.fixture
def limited_app(settings, core_services) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app

    settings.rate_limit_signin_account = f"3/{WINDOW}seconds"
    settings.rate_limit_signin_ip = "5/minute"
    settings.rate_limit_signup_ip = "3/minute"
    settings.rate_limit_videos = f"2/{WINDOW}seconds"
    settings.rate_limit_verify_ip = "2/minute"
    application = create_app(settings, services=core_services, keyless=True, run_worker=False)
    with TestClient(application):
        yield application


def _sign_in(browser: Browser, name: str, password: str) -> Any:
    return browser.post("/signin", name=name, password=password)


def _wait_out(response: Any) -> None:
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= WINDOW
    time.sleep(retry + 0.2)


def test_wrong_passwords_lock_the_account_for_a_window_then_the_right_one_works(
    limited_app: FastAPI,
) -> None:
    Browser(limited_app, "alice", password="alice password")
    guest = Browser(limited_app)
    for _ in range(3):
        assert _sign_in(guest, "alice", "wrong guess").status_code == 401
    locked = _sign_in(guest, "alice", "alice password")
    assert locked.status_code == 429 and "too many sign-in attempts" in locked.text
    _wait_out(locked)
    assert _sign_in(guest, "alice", "alice password").status_code == 303


def test_one_address_cannot_spray_passwords_over_many_accounts(limited_app: FastAPI) -> None:
    guest = Browser(limited_app)
    statuses = [_sign_in(guest, f"user{i}", "wrong guess").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]


def test_sign_ups_per_address_are_limited(limited_app: FastAPI) -> None:
    guest = Browser(limited_app)
    form = {"password": "correct horse", "confirm": "correct horse"}
    statuses = []
    for i in range(4):
        guest.client.cookies.clear()
        guest.csrf = csrf_of(guest.get("/signup").text)
        statuses.append(guest.post("/signup", name=f"new{i}", **form).status_code)
    assert statuses == [303, 303, 303, 429]


def test_video_creation_per_key_gets_an_openai_shaped_429_then_recovers(
    limited_app: FastAPI,
) -> None:
    import openai

    from mutoscope.users import UserService

    client = TestClient(limited_app)
    users = UserService(limited_app.state.services.sessions)
    key, other = users.create_key("maker", "k").key, users.create_key("other", "k").key
    sdk = openai.OpenAI(
        base_url="http://testserver/v1", api_key=key, http_client=client, max_retries=0
    )
    for _ in range(2):
        sdk.videos.create(model="sora-2", prompt="a paper boat")
    with pytest.raises(openai.RateLimitError) as info:
        sdk.videos.create(model="sora-2", prompt="a paper boat")
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.body["type"] == "requests"  # type: ignore[index]
    retry_after = info.value.response.headers["retry-after"]
    # Another key has its own allowance.
    r = client.post(
        "/v1/videos", headers={"Authorization": f"Bearer {other}"}, json={"prompt": "a boat"}
    )
    assert r.status_code == 200
    time.sleep(int(retry_after) + 0.2)
    assert sdk.videos.create(model="sora-2", prompt="a paper boat").status == "queued"


def test_verify_is_limited_per_address(limited_app: FastAPI) -> None:
    client = TestClient(limited_app)
    files = {"file": ("clip.mp4", b"not a video", "video/mp4")}
    statuses = [client.post("/v1/provenance/verify", files=files).status_code for _ in range(3)]
    assert 429 not in statuses[:2] and statuses[2] == 429
    limited = client.post("/v1/provenance/verify", files=files)
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def _shared_limits(url: str) -> list[RateLimits]:
    """Two limiters over one database, as two server processes would have."""
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    rules = {"videos": parse("3/minute")}
    return [RateLimits(FixedWindowRateLimiter(SqlStorage(sessions)), rules) for _ in range(2)]


def _spend_across_processes(limits: list[RateLimits]) -> None:
    first, second = limits
    first.hit("videos", "key:a")
    second.hit("videos", "key:a")
    first.hit("videos", "key:a")
    with pytest.raises(RateLimited) as info:
        second.hit("videos", "key:a")
    assert 1 <= info.value.retry_after <= 60
    second.hit("videos", "key:b")  # other callers keep their own allowance


def test_database_storage_shares_counts_between_processes_on_sqlite(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ensure_dirs()
    _spend_across_processes(_shared_limits(settings.db_url))


@pytest.mark.slow
def test_database_storage_shares_counts_between_processes_on_postgres(postgres_url: str) -> None:
    _spend_across_processes(_shared_limits(postgres_url))


def test_database_storage_starts_a_new_window_after_expiry(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    storage = SqlStorage(session_factory(engine))
    assert [storage.incr("k", 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get_expiry("k") > time.time()
    time.sleep(1.1)
    assert storage.get("k") == 0
    assert storage.incr("k", 1) == 1
