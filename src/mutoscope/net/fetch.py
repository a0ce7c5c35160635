"""Fetching user-supplied URLs without becoming a proxy into the operator's network (SSRF).

Every URL input (``input_reference.image_url``, verify by URL) goes through ``fetch_url``:

1. http(s) only, no credentials in the URL;
2. the host name is resolved here and each address is checked with ``ipaddress``: loopback,
   private, shared (CGNAT), link-local (cloud metadata), multicast, reserved and unspecified
   addresses are refused (``allow_private`` lets private and loopback through, on premises);
3. the connection goes to the address that was checked (the URL is rewritten to that IP, with
   the original ``Host`` header and TLS server name), so a second DNS answer cannot swap in
   another address between the check and the connect (DNS rebinding);
4. redirects are followed by hand, at most ``max_redirects``, each one checked again;
5. the body is streamed without content decoding and cut off at ``max_bytes``, under
   a deadline for the whole exchange.

Failures raise ``FetchFailed`` (a 400) that says what to change but never echoes the remote
status, the address or the error text, so the endpoint cannot be used to map a network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import anyio
import httpx

from mutoscope.errors import InvalidRequest, PayloadTooLarge

REDIRECTS = (301, 302, 303, 307, 308)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    allow_private: bool = False
    timeout: float = 10.0
    max_redirects: int = 3


class FetchFailed(InvalidRequest):
    code = "fetch_failed"


def address_allowed(address: str, *, allow_private: bool = False) -> bool:
    """Whether a connection to ``address`` (an IP literal) may be made for a user's URL."""
    ip: Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_private
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip.is_link_local:
        return False
    if ip.is_global:
        return True
    return allow_private and (ip.is_private or ip.is_loopback)


async def fetch_url(url: str, policy: FetchPolicy, *, param: str, what: str = "the image") -> bytes:
    """The body at ``url`` (at most ``policy.max_bytes``), fetched under the rules above."""
    chunks: list[bytes] = []
    await _fetch(url, policy, chunks.append, param=param, what=what)
    return b"".join(chunks)


async def fetch_to_file(
    url: str, policy: FetchPolicy, sink: IO[bytes], *, param: str, what: str = "the file"
) -> int:
    """Stream the body at ``url`` into ``sink`` (a temp file); returns the byte count."""
    return await _fetch(url, policy, sink.write, param=param, what=what)


async def _fetch(
    url: str, policy: FetchPolicy, write: Callable[[bytes], object], *, param: str, what: str
) -> int:
    def fail(reason: str) -> FetchFailed:
        return FetchFailed(f"could not fetch {what} from {param}: {reason}", param=param)

    try:
        with anyio.fail_after(policy.timeout):
            async with httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(policy.timeout, connect=min(5.0, policy.timeout)),
            ) as client:
                for _hop in range(policy.max_redirects + 1):
                    target = await _pinned(url, policy, fail)
                    async with client.stream(
                        "GET",
                        target.ip_url,
                        headers={"Host": target.host_header, "Accept-Encoding": "identity"},
                        extensions={"sni_hostname": target.host} if target.https else {},
                    ) as response:
                        if response.status_code in REDIRECTS:
                            location = response.headers.get("location")
                            if not location:
                                raise fail("the server answered with a redirect to nowhere")
                            url = str(httpx.URL(url).join(location))
                            continue
                        if response.status_code != 200:
                            raise fail(
                                "the server did not return the file; use a public URL that "
                                "serves it directly"
                            )
                        return await _stream_body(response, policy.max_bytes, write, param)
                raise fail(f"more than {policy.max_redirects} redirects")
    except TimeoutError:
        raise fail(f"no complete answer within {policy.timeout:g} seconds") from None
    except httpx.HTTPError:
        raise fail(
            "the server could not be reached or broke off; use a public URL that serves "
            "the file directly"
        ) from None


async def _stream_body(
    response: httpx.Response, limit: int, write: Callable[[bytes], object], param: str
) -> int:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(param, limit)
    total = 0
    async for chunk in response.aiter_raw():
        total += len(chunk)
        if total > limit:
            raise _too_large(param, limit)
        write(chunk)
    return total


def _too_large(param: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the file at {param} is larger than the limit of {limit:,} bytes", param=param
    )


@dataclass(frozen=True)
class _Target:
    ip_url: str
    host: str
    host_header: str
    https: bool


async def _pinned(url: str, policy: FetchPolicy, fail: Callable[[str], FetchFailed]) -> _Target:
    """Check ``url`` and resolve it to one allowed address to connect to."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise fail("it is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise fail("only http:// and https:// URLs with a host name can be fetched")
    if parsed.userinfo:
        raise fail("URLs with a user name or password are not accepted")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = await anyio.getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise fail("its host name does not resolve") from None
    addresses = [str(info[4][0]) for info in infos]
    allowed = [a for a in addresses if address_allowed(a, allow_private=policy.allow_private)]
    if not allowed:
        raise fail(
            "its host resolves to a private, loopback or reserved address; only public "
            "addresses are fetched (an operator can allow private ones with "
            "MUTOSCOPE_FETCH_ALLOW_PRIVATE)"
        )
    ip = allowed[0]
    ip_url = parsed.copy_with(host=ip, port=port)
    host_header = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
    if ":" in parsed.host:
        host_header = f"[{parsed.host}]" + (f":{parsed.port}" if parsed.port else "")
    return _Target(str(ip_url), parsed.host, host_header, parsed.scheme == "https")
