"""What the keyed audit log costs: appends per second with and without the MAC chain and the
signed head (SQLite in a temporary folder), and the time ``audit verify`` takes per 1,000 rows.

    python bench/audit.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mutoscope.config import Settings
from mutoscope.rights.audit import AuditLog
from mutoscope.rights.audit_keys import AuditKeys
from mutoscope.storage.db import make_engine, session_factory, upgrade


def _log(home: Path, keyed: bool) -> AuditLog:
    settings = Settings(home=home)
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    keys = AuditKeys.from_settings(settings) if keyed else None
    return AuditLog(session_factory(engine), keys=keys)


def _append(log: AuditLog, n: int) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        log.append(
            user_id="user_bench",
            subject_id=f"video_{i}",
            check="prompt",
            prompt_hash="0" * 64,
            decision="allow",
            entity_id=None,
            method=None,
            score=None,
            evidence={"matches": []},
        )
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    for keyed in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            log = _log(Path(tmp), keyed)
            times = sorted(_append(log, args.rows))
            started = time.perf_counter()
            report = log.report()
            verify_s = time.perf_counter() - started
            assert report.ok, report.problems
            p99 = times[int(len(times) * 0.99)]
            print(
                f"{'keyed (MAC + signed head)' if keyed else 'hash chain only':26s} "
                f"append median {statistics.median(times):.2f} ms, p99 {p99:.2f} ms; "
                f"verify {verify_s / args.rows * 1000 * 1000:.0f} ms per 1,000 rows"
            )


if __name__ == "__main__":
    main()
