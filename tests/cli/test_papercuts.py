"""What a newcomer meets in the terminal: models list on a fresh install, readable verify times,
whole paths when piped, a truthful banner, and a studio that shows the first videos."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner


@pytest.fixture
def env(home, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MUTOSCOPE_ENABLE_TEST_BACKEND", "1")
    monkeypatch.setenv("MUTOSCOPE_RETRY_BASE_DELAY", "0")
    return home


def _generate(tmp_path, name: str = "clip.mp4", *extra: str):  # type: ignore[no-untyped-def]
    from mutoscope.cli import app

    out = tmp_path / name
    args = ["generate", "a red circle", "--model", "mutoscope-test", "--size", "256x256"]
    return out, CliRunner().invoke(app, [*args, "-o", str(out), *extra])


def test_models_list_shows_the_built_in_model_without_a_models_file(home, monkeypatch):
    from mutoscope.cli import app

    monkeypatch.setenv("COLUMNS", "250")
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "mutoscope-tiny" in line)
    assert "(default)" in row and "sora-2" in row and "1280x720" in row
    assert "No models file at" in result.output and "docs/models.md" in result.output


def test_verify_prints_dates_not_unix_timestamps():
    from mutoscope.provenance.cli import render

    created = 1_764_500_000
    report = {
        "verdict": "Provenance valid",
        "c2pa": {"state": "Trusted", "present": True, "failures": [], "summary": {}},
        "watermark": {"found": True, "payload": "ab12"},
        "record": {
            "video_id": "video_1",
            "matched_by": "watermark",
            "exists": True,
            "model": "mutoscope-tiny",
            "owner": "ada",
            "created_at": created,
            "published": False,
            "remixed_from_video_id": None,
            "mode": "create",
        },
        "notes": [],
    }
    text = render(report)
    assert str(created) not in text
    assert re.search(r"created 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d", text)


def test_the_success_line_keeps_a_long_path_whole_when_piped(env, tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "first-video.mp4"
    out, result = _generate(deep.parent, deep.name)
    assert result.exit_code == 0, result.output
    assert any(str(out) in line and "✓" in line for line in result.output.splitlines())


def test_serve_banner_says_keys_are_needed_once_one_exists(env, monkeypatch):
    import uvicorn

    from mutoscope.cli import app

    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    before = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert "Keyless on loopback until the first API key is created" in before.output
    assert CliRunner().invoke(app, ["keys", "create", "--user", "ada"]).exit_code == 0
    after = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert "Keyless" not in after.output and "API requests need one" in after.output


def test_the_first_account_owns_the_videos_made_before_and_after_it(env, tmp_path):
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.storage.records import VideoRecord
    from mutoscope.studio.accounts import create_account

    _, first = _generate(tmp_path, "one.mp4", "--json")
    assert first.exit_code == 0, first.output
    before = json.loads(first.stdout.strip().splitlines()[-1])["id"]

    services = build_services(Settings())
    try:
        ada = create_account(services.sessions, "ada", "correct horse", first_admin=True)
        assert ada.is_admin
        _, second = _generate(tmp_path, "two.mp4", "--json")
        assert second.exit_code == 0, second.output
        after = json.loads(second.stdout.strip().splitlines()[-1])["id"]
        with services.sessions() as s:
            owners = {s.get(VideoRecord, v).owner_id for v in (before, after)}  # type: ignore[union-attr]
        assert owners == {ada.id}
        # A second account ends single-user mode: new CLI videos go back to the local user.
        create_account(services.sessions, "bob", "correct horse", first_admin=True)
        _, third = _generate(tmp_path, "three.mp4", "--json")
        later = json.loads(third.stdout.strip().splitlines()[-1])["id"]
        with services.sessions() as s:
            assert s.get(VideoRecord, later).owner_id != ada.id  # type: ignore[union-attr]
    finally:
        services.close()


def test_a_placeholder_key_is_the_local_user_until_a_real_key_exists(env):
    from fastapi.testclient import TestClient

    from mutoscope.api.app import create_app
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import UserService

    placeholder = {"Authorization": "Bearer mts_..."}
    services = build_services(Settings())
    try:
        keyless = create_app(services.settings, services=services, keyless=True, run_worker=False)
        keyed = create_app(services.settings, services=services, run_worker=False)
        with TestClient(keyless) as client, TestClient(keyed) as other:
            me = client.get("/v1/users/me", headers=placeholder)
            assert me.status_code == 200, me.text
            assert me.json()["role"] == "creator"
            # A server that is not keyless never reads a token as no key.
            assert other.get("/v1/users/me", headers=placeholder).status_code == 401
            new = UserService(services.sessions).create_key("ada", "laptop")
            assert client.get("/v1/users/me", headers=placeholder).status_code == 401
            real = client.get("/v1/users/me", headers={"Authorization": f"Bearer {new.key}"})
            assert real.status_code == 200
    finally:
        services.close()


def test_keys_create_without_user_keeps_the_first_sign_up_the_admin(env, tmp_path):
    from mutoscope.cli import app
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.storage.records import VideoRecord
    from mutoscope.studio.accounts import create_account, would_be_first_admin
    from mutoscope.users import LOCAL_USER

    _, made = _generate(tmp_path, "one.mp4", "--json")
    video = json.loads(made.stdout.strip().splitlines()[-1])["id"]
    created = CliRunner().invoke(app, ["keys", "create", "--json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["user"] == LOCAL_USER
    services = build_services(Settings())
    try:
        # Only a keyless loopback server lets the local user's own keys leave it fresh.
        assert not would_be_first_admin(services.sessions)
        assert would_be_first_admin(services.sessions, local_keys_ok=True)
        ada = create_account(
            services.sessions, "ada", "correct horse", first_admin=True, local_keys_ok=True
        )
        assert ada.is_admin
        with services.sessions() as s:
            assert s.get(VideoRecord, video).owner_id == ada.id  # type: ignore[union-attr]
    finally:
        services.close()


def test_models_list_piped_at_80_columns_keeps_the_id_whole(home, monkeypatch):
    from mutoscope.cli import app

    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "mutoscope-tiny" in line)
    assert row.startswith("mutoscope-tiny (default) ") and "…" not in row
    assert "procedural" in row  # the description stays on the model's line
    assert not any(line.endswith(" ") for line in result.output.splitlines())


def test_the_cannot_draw_message_is_one_unpadded_line_when_piped(env, tmp_path, monkeypatch):
    from mutoscope.cli import app

    monkeypatch.setenv("COLUMNS", "80")
    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(
        app, ["generate", "an astronaut on mars", "--model", "mutoscope-tiny", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    line = next(line for line in lines if "cannot draw this prompt" in line)
    assert "docs/models.md" in line and len(line) > 80
    assert not any(line.endswith(" ") for line in lines)


def test_help_names_the_prompt_plainly_and_fits_each_command_on_a_line():
    from mutoscope.cli import app

    usage = CliRunner().invoke(app, ["generate", "--help"], prog_name="mutoscope").output
    assert "Usage: mutoscope generate [OPTIONS] PROMPT\n" in usage
    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}).output
    commands = listing.split("Commands:")[1].splitlines()
    assert not any(line.rstrip().endswith("...") for line in commands), listing
    assert all(len(line) <= 80 for line in commands)
    assert any(line.split()[:1] == ["serve"] for line in commands)


def test_keyless_sdk_videos_belong_to_the_only_account_as_cli_videos_do(env, tmp_path):
    import openai
    from fastapi.testclient import TestClient

    from mutoscope.api.app import create_app
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.storage.records import VideoRecord
    from mutoscope.users import LOCAL_USER, UserService
    from tests.studio.conftest import Browser

    _, made = _generate(tmp_path, "one.mp4", "--json")
    cli_video = json.loads(made.stdout.strip().splitlines()[-1])["id"]
    services = build_services(Settings())
    try:
        app = create_app(services.settings, services=services, keyless=True, run_worker=False)
        with TestClient(app) as http:
            ada = Browser(app, "ada")  # the first sign-up: single-user mode
            # A video the local user made after the sign-up (installs from before this rule).
            local = UserService(services.sessions).get_or_create(LOCAL_USER)
            with services.sessions.begin() as s:
                stray = s.get(VideoRecord, cli_video)
                assert stray is not None
                stray.owner_id = local.id
            sdk = openai.OpenAI(
                base_url="http://testserver/v1", api_key="mts_...", http_client=http
            )
            video = sdk.videos.create(prompt="a red circle moving left", model="mutoscope-test")
            listed = {v.id for v in sdk.videos.list()}
            assert listed == {cli_video, video.id}
            me = http.get("/v1/users/me").json()
            assert me["name"] == "ada" and me["role"] == "creator"  # never the admin
            studio = ada.get("/videos").text
            assert video.id in studio and cli_video in studio
    finally:
        services.close()


def test_keys_create_and_list_print_whole_lines_when_piped(env):
    from mutoscope.cli import app

    name = "a-rather-long-label-for-the-laptop-in-the-back-office-" * 2
    created = CliRunner().invoke(app, ["keys", "create", "--user", "ada", "--name", name])
    assert created.exit_code == 0, created.output
    line = created.output.splitlines()[-1]
    assert line.startswith(f"Key '{name}' for ada (") and line.endswith("shown only once.")
    listed = CliRunner().invoke(app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split("\t")[0] == "id"
    key_id, user, label = row.split("\t")[:3]
    assert (user, label) == ("ada", name) and key_id in created.output and "…" not in key_id
