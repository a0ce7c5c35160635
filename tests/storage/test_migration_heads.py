"""A database already at every head is opened without running (or importing) Alembic."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from mutoscope.storage.db import at_heads, make_engine, migration_heads, upgrade

PROBE = (
    "import sys; from mutoscope.storage.db import make_engine, upgrade; "
    "upgrade(make_engine(sys.argv[1])); print('alembic' in sys.modules)"
)


def test_heads_read_from_the_files_are_what_alembic_records(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    assert not at_heads(engine)  # no version table yet: Alembic decides
    upgrade(engine)
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert stored == migration_heads()
    assert at_heads(engine)
    engine.dispose()


def test_a_second_process_skips_alembic_and_a_missing_head_still_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    first = subprocess.run([sys.executable, "-c", PROBE, url], capture_output=True, text=True)
    assert first.stdout.strip() == "True", first.stderr[-800:]
    second = subprocess.run([sys.executable, "-c", PROBE, url], capture_output=True, text=True)
    assert second.stdout.strip() == "False", second.stderr[-800:]


def test_a_database_behind_the_heads_is_still_migrated(tmp_path):
    from alembic import command

    from mutoscope.storage.db import alembic_config

    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:  # as an older version of Mutoscope left it
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_core")
    assert not at_heads(engine)
    upgrade(engine)
    assert at_heads(engine)
    engine.dispose()
