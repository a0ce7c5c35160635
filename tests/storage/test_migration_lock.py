"""Processes starting together on an empty database: the schema is created exactly once."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect, text

UPGRADE = (
    "import sys; from mutoscope.storage.db import make_engine, upgrade; "
    "upgrade(make_engine(sys.argv[1]))"
)


def start_together(url: str, n: int) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(n)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in procs]


def assert_migrated_once(url: str) -> None:
    engine = create_engine(url)
    try:
        assert {"videos", "jobs", "users"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(heads) == len(set(heads)) and "0001_core" not in heads
    finally:
        engine.dispose()


@pytest.mark.slow
def test_processes_migrate_one_sqlite_database_together(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    results = start_together(url, 4)
    assert [r.returncode for r in results] == [0] * 4, [r.stderr[-800:] for r in results]
    assert_migrated_once(url)


@pytest.mark.slow
def test_ten_processes_migrate_one_postgres_database_together(postgres_url):
    name = f"m_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    results = start_together(url, 10)
    assert [r.returncode for r in results] == [0] * 10, [r.stderr[-800:] for r in results]
    assert_migrated_once(url)
