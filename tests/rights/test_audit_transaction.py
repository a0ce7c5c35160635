"""A create's audit rows commit in the create's own transaction: all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from mutoscope.rights.records import AuditRecord
from mutoscope.rights.service import RightsService
from mutoscope.storage.records import JobRecord, VideoRecord
from tests.rights.test_api import rights_client  # noqa: F401 (fixture)


def _counts(services: Any) -> tuple[int, int, int]:
    with services.sessions() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t)) or 0
            for t in (VideoRecord, JobRecord, AuditRecord)
        )


def test_accepted_video_commits_with_its_audit_row_and_signed_head(rights_client) -> None:  # noqa: F811
    client, services = rights_client
    r = client.post("/v1/videos", json={"prompt": "a red circle moving left", "model": "sora-2"})
    assert r.status_code == 200, r.text
    video_id = r.json()["id"]
    with services.sessions() as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.subject_id == video_id)))
    assert [(row.check, row.decision) for row in rows] == [("prompt", "allow")]
    report = services.rights.audit.report()
    assert report.ok, report.problems
    assert report.head_seq == rows[0].seq  # the head moved once the create committed


def test_failure_after_the_audit_append_rolls_back_video_job_and_audit_row(
    rights_client,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, services = rights_client
    assert client.post("/v1/videos", json={"prompt": "a blue square", "model": "sora-2"}).is_success
    before = _counts(services)
    head_before = services.rights.audit.report().head_seq
    original = RightsService._write_audit

    def append_then_fail(self: RightsService, session: Any, pending: Any) -> None:
        original(self, session, pending)
        session.flush()  # the audit row is really written inside the transaction...
        raise RuntimeError("disk full")  # ...and then the create fails before its commit

    monkeypatch.setattr(RightsService, "_write_audit", append_then_fail)
    r = client.post("/v1/videos", json={"prompt": "a green star", "model": "sora-2"})
    assert r.status_code == 500
    assert _counts(services) == before  # no video, no job, no audit row
    report = services.rights.audit.report()
    assert report.ok, report.problems
    assert report.head_seq == head_before  # nothing signed for the rolled-back row

    monkeypatch.setattr(RightsService, "_write_audit", original)
    assert client.post("/v1/videos", json={"prompt": "a green star", "model": "sora-2"}).is_success
    videos, jobs, audits = _counts(services)
    assert (videos, jobs, audits) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert services.rights.audit.report().ok


def test_blocked_create_records_its_block_and_queues_nothing(rights_client) -> None:  # noqa: F811
    client, services = rights_client
    before = _counts(services)
    r = client.post("/v1/videos", json={"prompt": "Exmouse dancing", "model": "sora-2"})
    assert r.status_code == 400
    videos, jobs, audits = _counts(services)
    assert (videos, jobs, audits) == (before[0], before[1], before[2] + 1)
    with services.sessions() as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
    assert last.decision == "block"
    assert services.rights.audit.report().ok


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from sqlalchemy import text

    from mutoscope.storage.db import make_engine, session_factory, upgrade

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as conn:  # a clean schema per test
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_appends_inside_concurrent_transactions_keep_one_chain(sessions: Any, tmp_path) -> None:
    """Appenders in their own transactions (threads here; processes take the same database
    lock) never fork the chain: each reads the tail only once it holds the writer's lock."""
    import threading
    import time

    from mutoscope.rights.audit import AuditLog
    from mutoscope.rights.audit_keys import AuditKeys
    from mutoscope.rights.audit_keys import _signing_key as signing_key

    keys = AuditKeys(b"k" * 32, signing_key(tmp_path / "signing.pem"), tmp_path / "audit")
    log = AuditLog(sessions, keys=keys)
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            with sessions.begin() as s:
                log.append(s, user_id=f"u{i}", check="prompt", decision="allow")
                time.sleep(0.01)  # other appenders are waiting for the lock meanwhile
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = log.report()
    assert report.ok, report.problems
    assert report.rows == 12 and report.head_seq == 12
