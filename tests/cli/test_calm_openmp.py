"""On a machine busier than its cores, CLI processes let OpenMP threads sleep, not spin."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import os, sys
os.getloadavg = lambda: (float(sys.argv[1]), 0.0, 0.0)
from mutoscope.cli import calm_openmp
calm_openmp()
print(os.environ.get("OMP_WAIT_POLICY", "unset"))
"""


def _policy(load: float, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(load)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout.strip()


@pytest.mark.parametrize(
    "load, env, expected",
    [
        (1000.0, {}, "PASSIVE"),  # more runnable processes than any machine has cores
        (0.0, {}, "unset"),  # quiet: spinning is faster, nothing changes
        (1000.0, {"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE"),  # the operator's choice stands
    ],
)
def test_openmp_waits_passively_only_when_the_cores_are_oversubscribed(load, env, expected):
    assert _policy(load, **env) == expected
