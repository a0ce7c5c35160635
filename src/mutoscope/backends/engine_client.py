"""HTTP to an inference engine that speaks the OpenAI Videos API, with its failure policy.

``EngineClient.send`` retries connection errors, 429 and 5xx answers with exponential back-off
and then raises ``EngineUnavailable``; a 4xx answer raises ``EngineRejected`` with the
engine's own message. Both are ``GenerationFailed``: the worker fails the video with their
``code`` at once instead of retrying the whole job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mutoscope.errors import GenerationFailed

log = logging.getLogger(__name__)


class EngineUnavailable(GenerationFailed):
    """The engine did not answer (or answered 5xx) through the whole retry policy."""

    code = "engine_unavailable"


class EngineRejected(GenerationFailed):
    """The engine refused the request (4xx); the message carries the engine's reason."""

    code = "engine_rejected"


class EngineFailed(GenerationFailed):
    """The engine accepted the job, then failed it, lost it or ran past the time limit."""

    code = "engine_failed"


class OutputTooLarge(GenerationFailed):
    code = "engine_output_too_large"


@dataclass(frozen=True)
class RetryOptions:
    """``attempts`` tries in all, waiting ``base_delay * 2**n`` (at most ``max_delay``)."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, tried: int) -> float:
        return float(min(self.max_delay, self.base_delay * 2 ** max(0, tried - 1)))


class EngineClient:
    """One engine's ``/v1`` base URL, its key and retry policy. Safe to share across threads."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retry: RetryOptions | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.name = name
        self.retry = retry or RetryOptions()
        self.sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=True,
        )

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The engine's answer (2xx), after retrying faults; raises ``Engine*`` errors."""
        tried = 0
        while True:
            tried += 1
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                fault = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code != 429 and response.status_code < 500:
                    raise EngineRejected(
                        f"the engine behind model '{self.name}' refused the request "
                        f"({response.status_code}{_code(response)}): {error_message(response)}"
                    )
                fault = f"HTTP {response.status_code}: {error_message(response)}"
            if tried >= self.retry.attempts:
                log.warning(
                    "engine %s %s %s failed %d times: %s", self.name, method, path, tried, fault
                )
                raise EngineUnavailable(
                    f"the engine behind model '{self.name}' is unavailable: it did not answer "
                    f"{tried} tries ({fault[:200]}); try again later"
                )
            wait = self.retry.delay(tried)
            log.info("engine %s: %s; trying again in %.2fs", self.name, fault, wait)
            self.sleep(wait)

    def download(self, path: str, *, max_bytes: int) -> bytes:
        """A streamed GET of at most ``max_bytes`` (retried like ``send`` until it starts)."""
        tried = 0
        while True:
            tried += 1
            try:
                with self.http.stream("GET", path) as response:
                    if response.status_code >= 400:
                        response.read()
                        if response.status_code != 429 and response.status_code < 500:
                            raise EngineRejected(
                                f"the engine behind model '{self.name}' would not hand over the "
                                f"video ({response.status_code}): {error_message(response)}"
                            )
                        fault = f"HTTP {response.status_code}"
                    else:
                        return _read_bounded(response, max_bytes, self.name)
            except httpx.TransportError as exc:
                fault = f"{type(exc).__name__}: {exc}"
            if tried >= self.retry.attempts:
                raise EngineUnavailable(
                    f"the engine behind model '{self.name}' did not hand over the video after "
                    f"{tried} tries ({fault[:200]}); try again later"
                )
            self.sleep(self.retry.delay(tried))

    def discard(self, path: str) -> None:
        """Best effort, one try: tell the engine to drop a job (cancellation, clean-up)."""
        try:
            self.http.delete(path, timeout=5.0)
        except httpx.HTTPError as exc:
            log.warning("engine %s: could not delete %s (%s)", self.name, path, exc)

    def close(self) -> None:
        self.http.close()


def _read_bounded(response: httpx.Response, max_bytes: int, name: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise OutputTooLarge(_too_large(name, max_bytes))
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise OutputTooLarge(_too_large(name, max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(name: str, max_bytes: int) -> str:
    return (
        f"the engine behind model '{name}' returned a video over {max_bytes // 2**20} MiB; "
        "raise max_download_mb for it in models.toml if that is expected"
    )


def error_message(response: httpx.Response) -> str:
    """The engine's reason: OpenAI ``error.message``, FastAPI ``detail``, or the text."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    return _message_from(data)[:300]


def _message_from(data: object) -> str:
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        detail = data.get("detail")
        if detail:
            return detail if isinstance(detail, str) else str(detail)
        if data.get("message"):
            return str(data["message"])
    return str(data)


def _code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    code = error.get("code") if isinstance(error, Mapping) else None
    return f" {code}" if isinstance(code, str) and code else ""


def failure_message(video: Mapping[str, Any]) -> str:
    """What an engine said about a job it failed (``error.message``/``code``, if any)."""
    error = video.get("error")
    if isinstance(error, Mapping):
        code = f" ({error['code']})" if error.get("code") else ""
        return f"{error.get('message') or 'no reason given'}{code}"
    return str(error) if error else "no reason given"
