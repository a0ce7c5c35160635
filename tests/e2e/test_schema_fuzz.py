"""Schemathesis against a real ``mutoscope serve`` process, on the schema it publishes.

At least 1,000 generated requests (valid and invalid) across every documented operation, with
an admin API key so they reach the handlers: no 5xx, every status documented, every error body
in the OpenAI shape the schema declares.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import make_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def test_fuzzing_the_published_schema_finds_no_server_errors_or_undocumented_answers(
    tmp_path: Path,
):
    pytest.importorskip("schemathesis")
    server = make_server(tmp_path, MUTOSCOPE_WORKERS="0")
    server.cli("users", "create", "fuzz", "--admin", "--password", "fuzz-password-1")
    key = json.loads(server.cli("keys", "create", "--user", "fuzz", "--json"))["key"]
    server.start()
    report = tmp_path / "report.json"
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {key}",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "30",
                "--workers",
                "1",
                "--seed",
                "14",
                "--no-shrink",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            cwd=tmp_path,
            env=server.env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        server.stop()
    assert report.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(report.read_text())
    summary = run.stdout[-6000:]
    assert result["operations"]["tested"] >= 20, summary
    assert result["test_cases"]["generated"] >= 1000, summary
    assert result["failures"] == [], summary
    assert result["errors"] == [], summary
