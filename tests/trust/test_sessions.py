"""Studio sessions: sign out everywhere; a password change ends the other sessions."""

from __future__ import annotations

from fastapi import FastAPI

from tests.studio.conftest import Browser, csrf_of

PASSWORD = "alice password"


def _second_browser(app: FastAPI) -> Browser:
    other = Browser(app)
    r = other.post("/signin", name="alice", password=PASSWORD)
    assert r.status_code == 303, r.text
    other.csrf = csrf_of(other.get("/create").text)
    return other


def _signed_in(browser: Browser) -> bool:
    return browser.get("/settings", follow_redirects=False).status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_account(app: FastAPI) -> None:
    laptop = Browser(app, "alice", password=PASSWORD)
    phone, bob = _second_browser(app), Browser(app, "bob")
    assert _signed_in(phone)
    r = laptop.post("/signout", everywhere="1")
    assert r.status_code == 303
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(bob)  # other accounts are untouched


def test_plain_sign_out_ends_only_this_session(app: FastAPI) -> None:
    laptop = Browser(app, "alice", password=PASSWORD)
    phone = _second_browser(app)
    laptop.post("/signout")
    assert not _signed_in(laptop) and _signed_in(phone)


def test_a_password_change_signs_out_the_other_sessions(app: FastAPI) -> None:
    laptop = Browser(app, "alice", password=PASSWORD)
    phone = _second_browser(app)
    wrong = laptop.post(
        "/settings/password", current="not it", password="new password 1", confirm="new password 1"
    )
    assert wrong.status_code == 401 and _signed_in(phone)
    r = laptop.post(
        "/settings/password", current=PASSWORD, password="new password 1", confirm="new password 1"
    )
    assert r.status_code == 200 and "other sessions are signed out" in r.text
    assert _signed_in(laptop) and not _signed_in(phone)
    assert phone.post("/signin", name="alice", password=PASSWORD).status_code == 401
    assert phone.post("/signin", name="alice", password="new password 1").status_code == 303
