"""The URL fetcher against real HTTP servers this test starts on loopback addresses."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import anyio
import pytest

from mutoscope.errors import PayloadTooLarge
from mutoscope.net import fetch as fetch_module
from mutoscope.net.fetch import FetchFailed, FetchPolicy, address_allowed, fetch_url

PUBLIC = "127.0.0.2"
"""A loopback address the tests treat as public (Linux routes all of 127/8 to lo)."""


@dataclass
class Site:
    host: str
    port: int
    hits: list[str] = field(default_factory=list)
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


def _serve(host: str) -> tuple[Site, http.server.ThreadingHTTPServer]:
    site = Site(host, 0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits.append(self.path)
            status, headers, body = site.routes.get(self.path, (404, {}, b"missing"))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if "Transfer-Encoding" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if headers.get("Transfer-Encoding") == "chunked":
                for i in range(0, len(body), 65536):
                    part = body[i : i + 65536]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    site.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site, server


@pytest.fixture
def internal() -> Iterator[Site]:
    site, server = _serve("127.0.0.1")
    site.routes["/secret"] = (200, {}, b"internal data")
    yield site
    server.shutdown()


@pytest.fixture
def public(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    try:
        site, server = _serve(PUBLIC)
    except OSError:
        pytest.skip("cannot bind 127.0.0.2 here")
    real = fetch_module.address_allowed
    monkeypatch.setattr(
        fetch_module,
        "address_allowed",
        lambda a, allow_private=False: a == PUBLIC or real(a, allow_private=allow_private),
    )
    yield site
    server.shutdown()


def fetch(url: str, **policy: object) -> bytes:
    settings = FetchPolicy(**{"max_bytes": 1000, **policy})  # type: ignore[arg-type]
    return anyio.run(lambda: fetch_url(url, settings, param="u"))


def test_loopback_private_and_metadata_addresses_are_refused():
    for address in ("127.0.0.1", "::1", "10.1.2.3", "192.168.0.1", "172.16.0.1", "fd00::1"):
        assert not address_allowed(address)
        assert address_allowed(address, allow_private=True)
    for address in ("169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0", "240.0.0.1", "::"):
        assert not address_allowed(address, allow_private=True)
    assert not address_allowed("::ffff:127.0.0.1")
    assert address_allowed("93.184.215.14") and address_allowed("2606:4700::6810:84e5")


def test_direct_loopback_url_is_refused_without_connecting(internal: Site):
    with pytest.raises(FetchFailed) as info:
        fetch(internal.url("/secret"))
    assert "could not fetch the image" in info.value.message
    assert "private, loopback" in info.value.message
    assert str(internal.port) not in info.value.message
    assert internal.hits == []


def test_name_that_resolves_to_loopback_is_refused(internal: Site):
    with pytest.raises(FetchFailed):
        fetch(internal.url("/secret", host="localhost"))
    assert internal.hits == []


def test_redirect_into_loopback_is_refused(public: Site, internal: Site):
    public.routes["/img"] = (302, {"Location": internal.url("/secret")}, b"")
    with pytest.raises(FetchFailed):
        fetch(public.url("/img"))
    assert public.hits == ["/img"] and internal.hits == []


def test_redirect_to_name_resolving_to_loopback_is_refused(public: Site, internal: Site):
    public.routes["/img"] = (307, {"Location": internal.url("/secret", host="localhost")}, b"")
    with pytest.raises(FetchFailed):
        fetch(public.url("/img"))
    assert internal.hits == []


def test_at_most_three_redirects_are_followed(public: Site):
    for n in range(5):
        public.routes[f"/r{n}"] = (302, {"Location": f"/r{n + 1}"}, b"")
    public.routes["/r5"] = (200, {}, b"ok")
    public.routes["/s0"] = (302, {"Location": "/s1"}, b"")
    public.routes["/s1"] = (302, {"Location": "/s2"}, b"")
    public.routes["/s2"] = (302, {"Location": "/r5"}, b"")
    with pytest.raises(FetchFailed, match="more than 3 redirects"):
        fetch(public.url("/r0"))
    assert fetch(public.url("/s0")) == b"ok"  # exactly three redirects


def test_connection_goes_to_the_address_that_was_checked(
    public: Site, internal: Site, monkeypatch: pytest.MonkeyPatch
):
    # DNS rebinding: the first answer is public, any later one points inside.
    answers = iter([PUBLIC, "127.0.0.1", "127.0.0.1"])
    real = anyio.getaddrinfo

    async def rebinding(host, port, **kw):  # type: ignore[no-untyped-def]
        if host != "rebind.test":
            return await real(host, port, **kw)
        ip = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(fetch_module.anyio, "getaddrinfo", rebinding)
    public.routes["/same"] = (200, {}, b"public bytes")
    internal.routes["/same"] = (200, {}, b"internal bytes")
    url = f"http://rebind.test:{public.port}/same"
    assert fetch(url) == b"public bytes"
    assert internal.hits == []


def test_body_is_capped_while_streaming(public: Site):
    public.routes["/big"] = (200, {"Transfer-Encoding": "chunked"}, b"x" * 300_000)
    public.routes["/declared"] = (200, {}, b"x" * 5000)
    with pytest.raises(PayloadTooLarge):
        fetch(public.url("/big"), max_bytes=100_000)
    with pytest.raises(PayloadTooLarge):
        fetch(public.url("/declared"), max_bytes=1000)


def test_errors_do_not_echo_the_remote_status(public: Site):
    public.routes["/gone"] = (503, {}, b"upstream internals")
    with pytest.raises(FetchFailed) as info:
        fetch(public.url("/gone"))
    assert "503" not in info.value.message and "internals" not in info.value.message


def test_operator_can_allow_private_addresses(internal: Site):
    assert fetch(internal.url("/secret"), allow_private=True) == b"internal data"
    assert fetch(internal.url("/secret", host="localhost"), allow_private=True) == b"internal data"


def test_only_http_and_https_are_fetched():
    for url in ("file:///etc/passwd", "ftp://example.com/a.png", "gopher://x", "http://"):
        with pytest.raises(FetchFailed):
            fetch(url)
