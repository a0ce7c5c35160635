"""Shared fixtures: an isolated MUTOSCOPE_HOME, settings with the test backend, services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keep every test offline and away from the user's real data.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
