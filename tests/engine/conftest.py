"""A fake OpenAI-Videos engine on a loopback port, shared by this folder's contract tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine.fake_engine import FakeEngine, running_engine


@pytest.fixture(scope="module")
def engine_server() -> Iterator[FakeEngine]:
    with running_engine() as engine:
        yield engine


@pytest.fixture
def engine(engine_server: FakeEngine) -> FakeEngine:
    engine_server.reset()
    return engine_server
