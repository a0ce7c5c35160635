"""Keyless loopback mode answers only loopback Host names (DNS rebinding stays out)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mutoscope.trust.hosts import LOOPBACK_HOSTS, host_allowed, host_name
from tests.e2e.conftest import make_server


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8000", "127.0.0.1"),
        ("LOCALHOST.", "localhost"),
        ("[::1]:8000", "::1"),
        ("evil.example:80", "evil.example"),
        ("localhost.evil.example", "localhost.evil.example"),
    ],
)
def test_host_names_are_read_without_port_or_brackets(header: str, name: str) -> None:
    assert host_name(header) == name


def test_only_listed_hosts_and_wildcard_subdomains_are_allowed() -> None:
    assert host_allowed("::1", LOOPBACK_HOSTS)
    assert not host_allowed("localhost.evil.example", LOOPBACK_HOSTS)
    assert host_allowed("a.video.example", ["*.video.example"])
    assert not host_allowed("video.example.evil", ["*.video.example"])


@pytest.mark.slow
def test_keyless_server_refuses_foreign_host_headers(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.start()
    try:
        url = f"{server.url}/v1/videos"
        for host in ("127.0.0.1", f"localhost:{server.port}", f"[::1]:{server.port}"):
            r = httpx.get(url, headers={"Host": host})
            assert r.status_code == 200, (host, r.text)
        for host in ("evil.example", f"rebind.evil.example:{server.port}", ""):
            r = httpx.post(url, headers={"Host": host}, json={"prompt": "a boat"})
            assert r.status_code == 400, (host, r.text)
            assert r.json()["error"]["code"] == "invalid_host"
        # Keyless requests run as a creator, not an admin.
        me = httpx.get(f"{server.url}/v1/users/me").json()
        assert me["name"] == "local" and me["role"] == "creator"
    finally:
        server.stop()
