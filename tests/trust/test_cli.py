"""The operator decides organisation claims and proposals from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mutoscope.config import Settings
from mutoscope.rights.cli import app
from mutoscope.rights.registry import EntitySpec
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.trust.orgs import Organizations
from mutoscope.users import UserService

runner = CliRunner()


def test_operator_verifies_a_claim_and_approves_a_proposal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mutoscope.rights.proposals import Proposals

    monkeypatch.setenv("MUTOSCOPE_HOME", str(tmp_path / "home"))
    settings = Settings()
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    claimant = UserService(sessions).get_or_create("nova-staff")
    org = Organizations(sessions).claim(claimant, "Nova Studios", "https://nova.example")
    spec = EntitySpec(id="nova-knight", name="Nova Knight", kind="character")
    proposal = Proposals(sessions, None, None).propose(claimant, spec)  # type: ignore[arg-type]
    engine.dispose()

    listed = runner.invoke(app, ["orgs", "list", "--status", "pending"]).output
    assert org.id in listed and "https://nova.example" in listed
    verified = runner.invoke(app, ["orgs", "verify", org.id])
    assert verified.exit_code == 0 and "is verified" in verified.output
    assert runner.invoke(app, ["check", "Nova Knight rides"]).exit_code == 0  # not yet
    pending = [
        json.loads(x) for x in runner.invoke(app, ["proposals", "list"]).output.split("\n") if x
    ]
    assert [p["id"] for p in pending] == [proposal.id]
    approved = runner.invoke(app, ["proposals", "approve", proposal.id])
    assert approved.exit_code == 0, approved.output
    assert runner.invoke(app, ["check", "Nova Knight rides"]).exit_code == 1  # blocked now
    again = runner.invoke(app, ["proposals", "approve", proposal.id])
    assert again.exit_code == 2 and "already approved" in again.output
