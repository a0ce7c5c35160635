"""The audit log against someone who can rewrite the database but not read the keys."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mutoscope.config import Settings
from mutoscope.rights.audit import GENESIS, AuditLog, row_hash
from mutoscope.rights.audit_keys import AuditKeys
from mutoscope.storage.db import make_engine, session_factory, upgrade

PROMPTS = ["a cat", "a dog", "a bird", "a fish", "a fox", "an owl"]


@pytest.fixture
def keyed(settings: Settings) -> tuple[AuditLog, Path]:
    settings.ensure_dirs()
    settings.audit_checkpoint_every = 2
    engine = make_engine(settings.db_url)
    upgrade(engine)
    log = AuditLog(session_factory(engine), keys=AuditKeys.from_settings(settings))
    for i, prompt in enumerate(PROMPTS):
        log.append(
            user_id="u",
            subject_id=f"video_{i}",
            check="prompt",
            prompt_hash=prompt,
            decision="block" if i == 2 else "allow",
            entity_id=None,
            method=None,
            score=None,
            evidence={},
        )
    return log, settings.home / "mutoscope.db"


def _rechain_from(db: Path, seq: int) -> None:
    """What an attacker with database access does: edit a row, recompute every public hash."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    conn.execute("UPDATE rights_audit SET decision = 'allow', user_id = 'x' WHERE seq = ?", (seq,))
    rows = conn.execute("SELECT * FROM rights_audit ORDER BY seq").fetchall()
    prev = GENESIS
    for row in rows:
        fields = {
            k: row[k]
            for k in (
                "seq",
                "created_at",
                "user_id",
                "subject_id",
                "check",
                "prompt_hash",
                "decision",
                "entity_id",
                "method",
                "score",
            )
        }
        fields["evidence"] = json.loads(row["evidence"])
        new = row_hash(prev, fields)
        conn.execute(
            "UPDATE rights_audit SET prev_hash = ?, row_hash = ? WHERE seq = ?",
            (prev, new, row["seq"]),
        )
        prev = new
    conn.commit()
    conn.close()


def test_an_untouched_keyed_log_verifies_with_its_checkpoints(keyed) -> None:  # type: ignore[no-untyped-def]
    log, _ = keyed
    report = log.report()
    assert report.ok, report.problems
    assert (report.rows, report.keyed_rows, report.head_seq, report.checkpoints) == (6, 6, 6, 3)


def test_a_rewrite_with_recomputed_hashes_is_detected(keyed) -> None:  # type: ignore[no-untyped-def]
    log, db = keyed
    _rechain_from(db, 3)
    broken = log.verify()
    assert broken is not None and broken.seq == 3 and "keyed MAC" in broken.reason


def test_a_truncated_tail_is_detected(keyed) -> None:  # type: ignore[no-untyped-def]
    log, db = keyed
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM rights_audit WHERE seq > 4")
    conn.commit()
    conn.close()
    reasons = [p.reason for p in log.report().problems]
    assert any("truncated" in r and "ends at row 4" in r for r in reasons), reasons


def test_stripping_the_macs_is_detected(keyed) -> None:  # type: ignore[no-untyped-def]
    log, db = keyed
    conn = sqlite3.connect(db)
    conn.execute("UPDATE rights_audit SET mac = NULL")
    conn.commit()
    conn.close()
    assert not log.report().ok


def test_a_forged_checkpoint_is_refused(keyed) -> None:  # type: ignore[no-untyped-def]
    log, _ = keyed
    assert log.keys is not None
    head = json.loads(log.keys.head_path.read_text())
    log.keys.head_path.write_text(json.dumps({**head, "seq": 4}))
    reasons = [p.reason for p in log.report().problems]
    assert any("invalid signature" in r for r in reasons), reasons


def test_cli_audit_verify_reports_rewrite_and_truncation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mutoscope.rights.cli import app

    runner = CliRunner()
    monkeypatch.setenv("MUTOSCOPE_HOME", str(tmp_path / "home"))
    for prompt in PROMPTS[:4]:
        runner.invoke(app, ["check", prompt, "--record"])
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "4 rows chained (4 with keyed MACs)" in ok.output, ok.output
    db = tmp_path / "home" / "mutoscope.db"
    _rechain_from(db, 2)
    rewritten = runner.invoke(app, ["audit", "verify"])
    assert rewritten.exit_code == 1 and "row 2 fails its keyed MAC" in rewritten.output
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM rights_audit WHERE seq >= 2")
    conn.commit()
    conn.close()
    truncated = runner.invoke(app, ["audit", "verify"])
    assert truncated.exit_code == 1 and "truncated" in truncated.output, truncated.output
