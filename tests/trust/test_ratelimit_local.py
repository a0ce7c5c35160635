"""The in-process rate-limit counters: fixed windows, lazy expiry, no thread per hit."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from mutoscope.errors import RateLimited
from mutoscope.trust.ratelimit import LocalStorage, RateLimits


def test_a_window_allows_its_amount_then_refuses_until_it_expires() -> None:
    limits = RateLimits(FixedWindowRateLimiter(LocalStorage()), {"videos": parse("3/second")})
    for _ in range(3):
        limits.hit("videos", "key:a")
    with pytest.raises(RateLimited, match="too many videos created with this key") as refused:
        limits.hit("videos", "key:a")
    assert refused.value.retry_after == 1
    limits.hit("videos", "key:b")  # another credential has its own window
    time.sleep(1.05)
    limits.hit("videos", "key:a")  # a new window


def test_counting_starts_no_threads_and_sweeps_expired_keys() -> None:
    storage = LocalStorage()
    before = threading.active_count()
    for i in range(LocalStorage.SWEEP - 1):
        storage.incr(f"k{i}", expiry=0.01)
    assert threading.active_count() == before
    assert storage.get("k0") == 1
    time.sleep(0.02)
    assert storage.get("k0") == 0  # expired, though not yet forgotten
    storage.incr("fresh", expiry=60)  # the SWEEP-th increment forgets the expired keys
    assert storage.reset() == 1
