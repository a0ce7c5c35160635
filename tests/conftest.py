"""Shared fixtures: an isolated MUTOSCOPE_HOME, settings with the test backend, services."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

# Keep every test offline and away from the user's real data.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests screen against the registries they import; the packaged starter registry is on by
# default for users, and its own tests turn it on (tests/rights/test_starter.py).
os.environ.setdefault("MUTOSCOPE_RIGHTS_STARTER", "false")
# A crashed job is taken over at once in tests; the back-off itself is tested with its own
# queues (tests/jobs/test_queue_contract.py) and in the multi-host test.
os.environ.setdefault("MUTOSCOPE_CRASH_BACKOFF_SECONDS", "0")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MUTOSCOPE_HOME", str(path))
    return path


@pytest.fixture
def settings(home: Path):  # type: ignore[no-untyped-def]
    from mutoscope.config import Settings

    return Settings(
        home=home,
        enable_test_backend=True,
        default_model="mutoscope-test",
        model_aliases={"sora-2": "mutoscope-test", "sora-2-pro": "mutoscope-test"},
    )


@pytest.fixture
def core_services(settings) -> Iterator:  # type: ignore[no-untyped-def]
    """Services with the test backend and no rights/provenance layers (core unit tests)."""
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance, NullRights

    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    yield services
    services.close()


def _started_or_skipped(start: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    """Yield the URL of a server ``start`` runs for the session; skip where it cannot run."""
    from tests.servers import Unavailable

    try:
        server = start()
        url = server.__enter__()
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback (Debian's postgresql, started by the test)."""
    from tests.servers import postgres

    yield from _started_or_skipped(postgres)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback (moto's standalone server, in its own process)."""
    from tests.servers import s3_server

    yield from _started_or_skipped(s3_server)


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the test S3 server, with the AWS variables pointing at it."""
    import secrets

    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"mutoscope-{secrets.token_hex(6)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket
