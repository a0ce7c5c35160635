"""The first admin: decided in one transaction, never by accident."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.records import UserRecord
from mutoscope.studio import accounts
from mutoscope.users import UserService


def _sessions(url: str) -> Any:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    return session_factory(engine)


def _concurrent_sign_ups(sessions: Any, names: list[str]) -> dict[str, bool]:
    barrier = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def sign_up(name: str) -> None:
        try:
            barrier.wait()
            accounts.create_account(
                sessions, name, "correct horse", claim_existing=False, first_admin=True
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with sessions() as s:
        return dict(s.execute(select(UserRecord.name, UserRecord.is_admin)).all())


def test_four_concurrent_first_sign_ups_make_exactly_one_admin_on_sqlite(settings) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(3):  # several fresh installs: the race must never go wrong
        sessions = _sessions(f"sqlite:///{settings.home}/race{attempt}.db")
        names = [f"user{attempt}{i}" for i in range(4)]
        admins = _concurrent_sign_ups(sessions, names)
        assert sorted(admins) == sorted(names)
        assert sum(admins.values()) == 1, admins


@pytest.mark.slow
def test_four_concurrent_first_sign_ups_make_exactly_one_admin_on_postgres(
    postgres_url: str,
) -> None:
    from sqlalchemy import text

    base = make_engine(postgres_url)
    with base.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS first_admin"))
        conn.execute(text("CREATE DATABASE first_admin"))
    base.dispose()
    sessions = _sessions(postgres_url.rsplit("/", 1)[0] + "/first_admin")
    admins = _concurrent_sign_ups(sessions, ["pa", "pb", "pc", "pd"])
    assert sum(admins.values()) == 1, admins


def test_a_server_used_through_api_keys_does_not_make_its_first_web_visitor_admin(
    settings,  # type: ignore[no-untyped-def]
) -> None:
    sessions = _sessions(settings.db_url)
    UserService(sessions).create_key("scripts", "ci")
    assert not accounts.would_be_first_admin(sessions)
    user = accounts.create_account(
        sessions, "visitor", "correct horse", claim_existing=False, first_admin=True
    )
    assert user.is_admin is False


def test_the_cli_admin_takes_the_first_admin_place(settings) -> None:  # type: ignore[no-untyped-def]
    sessions = _sessions(settings.db_url)
    accounts.create_account(sessions, "root", "correct horse", is_admin=True)
    later = accounts.create_account(
        sessions, "visitor", "correct horse", claim_existing=False, first_admin=True
    )
    assert later.is_admin is False
