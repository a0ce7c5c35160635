"""A running `mutoscope serve` sees `mutoscope rights import` (another process) within 1 s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.conftest import Server, make_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]

REGISTRY = """
entities:
  - id: mickey-mouse
    name: Mickey Mouse
    kind: character
    owner: The Walt Disney Company
    aliases: [Mickey]
    description: A cartoon mouse with round black ears, red shorts and white gloves.
  - id: jane-star
    name: Jane Star
    kind: person
    owner: Jane Star
    policy: consent
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("live"), MUTOSCOPE_RIGHTS_STARTER="false")
    srv.start()
    yield srv
    srv.stop()


def _decision(server: Server, key: str, prompt: str) -> str:
    r = httpx.post(
        f"{server.url}/v1/rights/check",
        json={"prompt": prompt},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["decision"])


def _seconds_until(server: Server, key: str, prompt: str, expected: str) -> float:
    start = time.perf_counter()
    while _decision(server, key, prompt) != expected:
        assert time.perf_counter() - start < 1.0, f"{prompt!r} not {expected} after 1 s"
        time.sleep(0.02)
    return time.perf_counter() - start


def test_cli_import_reaches_the_running_server_within_a_second(
    server: Server, tmp_path: Path
) -> None:
    key = server.cli("keys", "create", "--user", "alice", "--name", "sdk")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
    empty = httpx.post(
        f"{server.url}/v1/rights/check",
        json={"prompt": "Mickey Mouse dancing"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert empty["decision"] == "allow" and "registry is empty" in empty["note"]
    assert client.videos.create(prompt="Mickey Mouse dancing", model="sora-2").status

    (tmp_path / "registry.yaml").write_text(REGISTRY)
    server.cli("rights", "import", str(tmp_path / "registry.yaml"))
    assert _seconds_until(server, key, "Mickey Mouse dancing", "block") < 1.0
    with pytest.raises(openai.BadRequestError) as blocked:
        client.videos.create(prompt="Mickey Mouse dancing", model="sora-2")
    assert blocked.value.code == "moderation_blocked" and "Mickey Mouse" in blocked.value.message

    # Consent: granted and then revoked from the command line, while the server runs.
    server.cli("rights", "consent", "grant", "jane-star", _user_id(server, key))
    _seconds_until(server, key, "Jane Star singing", "allow")
    server.cli("rights", "consent", "revoke", "jane-star", _user_id(server, key))
    assert _seconds_until(server, key, "Jane Star singing", "block") < 1.0


def _user_id(server: Server, key: str) -> str:
    """The id of the user a key belongs to (consents are granted to user ids)."""
    import sqlite3

    db = sqlite3.connect(server.home / "mutoscope.db")
    try:
        (user_id,) = db.execute("SELECT id FROM users WHERE name = 'alice'").fetchone()
    finally:
        db.close()
    return str(user_id)
