"""``mutoscope models check ID`` for an engine entry (``family = "openai-videos"``).

An engine entry has no weights here to load, so the check is what a first job would need:
the entry parses, its API key is in the environment it names, and (unless told not to) the
engine answers ``GET {base_url}/models`` within a short timeout, with the key accepted and
``upstream_model`` among its models.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from mutoscope.backends.engine_client import error_message
from mutoscope.backends.openai_videos import EngineSpec


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str


def check_engine(
    spec: EngineSpec,
    *,
    connect: bool = True,
    timeout: float = 5.0,
    environ: Mapping[str, str] = os.environ,
    transport: httpx.BaseTransport | None = None,
) -> list[Finding]:
    """What is right and wrong with ``spec``, in order; the first failure ends the list."""
    target = f"{spec.upstream_model or 'its default model'} on a {spec.engine} engine"
    findings = [Finding(True, f"{spec.id}: {target} at {spec.base_url}")]
    # 1. The API key: named, and present in this environment
    key = None
    if spec.api_key_env:
        key = environ.get(spec.api_key_env)
        if not key:
            findings.append(
                Finding(
                    False,
                    f"{spec.api_key_env} is not set: export the engine's API key as "
                    f"{spec.api_key_env} (the server's environment too), or drop api_key_env "
                    "for an engine without keys",
                )
            )
            return findings
        findings.append(Finding(True, f"API key from {spec.api_key_env}"))
    else:
        findings.append(Finding(True, "no api_key_env: the engine is called without a key"))
    if not connect:
        return findings
    # 2. Reachability, the key accepted, the model served
    findings.append(_reach(spec, key, timeout, transport))
    return findings


def _reach(
    spec: EngineSpec, key: str | None, timeout: float, transport: httpx.BaseTransport | None
) -> Finding:
    url = spec.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            response = client.get(url, headers=headers)
    except httpx.TimeoutException:
        return Finding(
            False,
            f"{url} did not answer within {timeout:g} s: is the engine up, and base_url "
            "reachable from this machine? (--timeout waits longer, --no-connect skips this)",
        )
    except httpx.HTTPError as exc:
        return Finding(
            False,
            f"could not reach {url} ({type(exc).__name__}: {exc}): is the engine running, "
            "and is base_url right (http(s)://host:port/v1)?",
        )
    if response.status_code in (401, 403):
        refused = f"was refused ({spec.api_key_env} is sent)" if key else "needs one"
        return Finding(
            False,
            f"the engine answered {response.status_code}: its API key {refused}; "
            f"{error_message(response)}",
        )
    if response.status_code == 404:
        return Finding(True, f"reachable (it has no {url}, so the model list is not checked)")
    if response.status_code >= 400:
        return Finding(False, f"{url} answered {response.status_code}: {error_message(response)}")
    return _served(spec, response)


def _served(spec: EngineSpec, response: httpx.Response) -> Finding:
    try:
        served = [str(m["id"]) for m in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        return Finding(True, "reachable (its model list is not in the OpenAI shape)")
    if spec.upstream_model and spec.upstream_model not in served:
        return Finding(
            False,
            f"the engine does not serve upstream_model '{spec.upstream_model}'; it serves "
            f"{', '.join(served) or 'nothing'}",
        )
    return Finding(True, f"reachable; it serves {', '.join(served) or 'no models'}")
