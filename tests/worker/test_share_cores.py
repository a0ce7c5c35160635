"""A worker running several jobs at a time sizes its libraries' thread pools to its share."""

from __future__ import annotations

import os

import pytest

from mutoscope.worker.cli import THREAD_POOLS, share_cores


@pytest.fixture
def pools(monkeypatch):
    for name in THREAD_POOLS:  # set, then unset: the test's own settings are undone too
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    return monkeypatch


def test_each_of_four_jobs_gets_a_quarter_of_the_cores(pools):
    share_cores(4)
    assert {os.environ[name] for name in THREAD_POOLS} == {"4"}


def test_more_jobs_than_cores_still_get_one_thread_each(pools):
    share_cores(32)
    assert {os.environ[name] for name in THREAD_POOLS} == {"1"}


def test_one_job_at_a_time_keeps_the_libraries_defaults(pools):
    share_cores(1)
    assert not any(name in os.environ for name in THREAD_POOLS)


def test_an_operators_setting_wins(pools):
    pools.setenv("OMP_NUM_THREADS", "3")
    share_cores(4)
    assert os.environ["OMP_NUM_THREADS"] == "3" and os.environ["OPENBLAS_NUM_THREADS"] == "4"
