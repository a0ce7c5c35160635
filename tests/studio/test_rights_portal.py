"""The rights portal and the create page's rights check, with the real rights layer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.studio.conftest import Browser

pytest.importorskip("mutoscope.rights.service", reason="the rights layer is not installed")

REGISTRY = """entities:
  - id: captain-comet
    name: Captain Comet
    kind: character
    owner: Comet Studios
    aliases: [Cap Comet]
    description: a caped space hero with a glowing comet emblem
    policy: block
"""


@pytest.fixture
def rights_app(settings) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance

    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        provenance=NullProvenance(),
    )
    application = create_app(settings, services=services, keyless=True)
    with TestClient(application):
        yield application
    services.close()


def _import(admin: Browser) -> None:
    r = admin.client.post(
        "/rights/import",
        data={"csrf": admin.csrf},
        files={"registry": ("registry.yaml", REGISTRY, "text/yaml")},
    )
    assert r.status_code == 200 and "Imported 1 entity" in r.text, r.text


def test_admin_imports_a_registry_and_blocked_prompts_show_the_reason(rights_app: FastAPI) -> None:
    admin = Browser(rights_app, "admin")
    _import(admin)
    headers = {"x-csrf-token": admin.csrf}
    check = admin.client.post(
        "/studio/check", json={"prompt": "Captain Comet over Paris"}, headers=headers
    ).json()
    assert check["allowed"] is False and "Captain Comet" in check["message"]
    r = admin.post("/create", prompt="Cap Comet at the beach", model="mutoscope-test")
    assert r.status_code == 400
    assert "Blocked by the rights check" in r.text and "may not be generated here" in r.text
    assert "No videos yet" in admin.get("/videos").text


def test_previews_are_not_written_to_the_audit_log_but_submissions_are(
    rights_app: FastAPI,
) -> None:
    admin = Browser(rights_app, "admin")
    _import(admin)
    headers = {"x-csrf-token": admin.csrf}
    admin.client.post("/studio/check", json={"prompt": "Captain Comet"}, headers=headers)
    assert admin.get("/rights/audit").text == ""
    admin.post("/create", prompt="Captain Comet again", model="mutoscope-test")
    lines = admin.get("/rights/audit").text.splitlines()
    assert len(lines) == 1 and '"decision": "block"' in lines[0]
    # The portal's Decisions table names the account (for an admin) and the prompt's hash.
    portal = admin.get("/rights").text
    decisions = portal[portal.index('id="decisions"') :]
    assert '<td class="mono small">admin</td>' in decisions
    assert json.loads(lines[0])["prompt_hash"][:12] in decisions


def _verified_org(rights_app: FastAPI, admin: Browser, member: Browser, name: str) -> str:
    from mutoscope.trust.orgs import Organizations

    r = member.post("/rights/organizations", name=name, claim="https://owner.example")
    assert r.status_code == 200 and "an admin verifies the claim" in r.text, r.text
    (org,) = Organizations(rights_app.state.services.sessions).find(status="pending")
    assert org.id in admin.get("/rights").text  # the admin's review queue lists the claim
    r = admin.post(f"/rights/organizations/{org.id}/verify")
    assert r.status_code == 200 and "is verified" in r.text, r.text
    return str(org.id)


def test_organisation_members_register_licensed_entities_and_see_only_their_decisions(
    rights_app: FastAPI,
) -> None:
    admin, owner, fan, other = (Browser(rights_app, n) for n in ("admin", "owner", "fan", "other"))
    _import(admin)
    admin.post("/create", prompt="Captain Comet", model="mutoscope-test")
    org_id = _verified_org(rights_app, admin, owner, "Owner Co")
    r = owner.post(
        "/rights/entities",
        id="my-hero",
        name="My Hero",
        kind="character",
        policy="license",
        licensees="fan",
        attribution="My Hero by owner",
        org_id=org_id,
        owner="someone-else",  # ignored: the owner is the organisation
    )
    assert r.status_code == 200 and "Registered" in r.text, r.text
    video_id = fan.create("My Hero rides a bike")
    page = fan.get(f"/v/{video_id}").text
    assert "My Hero by owner" in page  # licensed attribution shown on the video page
    blocked = other.post("/create", prompt="My Hero rides a bike", model="mutoscope-test")
    assert blocked.status_code == 400 and "only its licensees may generate" in blocked.text
    portal = owner.get("/rights").text
    assert "my-hero" in portal and "captain-comet" not in portal
    audit = owner.get("/rights/audit").text.splitlines()
    assert audit and all('"entity_id": "my-hero"' in line for line in audit)
    assert all('"user_id": "anon_' in line for line in audit)  # pseudonymous to owners


def test_a_creators_registration_is_only_a_proposal_until_an_admin_approves_it(
    rights_app: FastAPI,
) -> None:
    from mutoscope.rights.proposals import Proposals

    admin, squatter, other = (Browser(rights_app, n) for n in ("admin", "squatter", "other"))
    r = squatter.post("/rights/entities", id="star", name="Star", kind="work", policy="block")
    assert r.status_code == 200 and "Proposed" in r.text, r.text
    assert other.create("a Star over the sea")  # nothing is blocked yet
    services = rights_app.state.services
    (proposal,) = Proposals(services.sessions, services.rights, None).find(admin_user(services))
    assert proposal.entity_id in admin.get("/rights").text
    r = admin.post(f"/rights/proposals/{proposal.id}/approve")
    assert r.status_code == 200 and "Approved" in r.text, r.text
    blocked = other.post("/create", prompt="a Star over the sea", model="mutoscope-test")
    assert blocked.status_code == 400


def admin_user(services):  # type: ignore[no-untyped-def]
    from mutoscope.users import UserService

    user = UserService(services.sessions).by_name("admin")
    assert user is not None and user.is_admin
    return user


def test_others_cannot_take_over_an_entity_id(rights_app: FastAPI) -> None:
    admin, mallory = Browser(rights_app, "admin"), Browser(rights_app, "mallory")
    _import(admin)
    r = mallory.post("/rights/entities", id="captain-comet", name="Mine", policy="block")
    assert r.status_code == 403 and "choose another id" in r.text
    assert mallory.post("/rights/import").status_code == 403


def test_portal_says_when_the_rights_layer_is_missing(app: FastAPI) -> None:
    page = Browser(app, "alice").get("/rights").text
    assert "rights layer is not installed" in page


def test_single_user_decisions_name_the_account_for_keyless_work(rights_app: FastAPI) -> None:
    from mutoscope.users import LOCAL_USER, UserService

    services = rights_app.state.services
    admin = Browser(rights_app, "solo")
    _import(admin)
    # An entry logged as the local user (keyless work from before the account existed).
    local = UserService(services.sessions).get_or_create(LOCAL_USER)
    services.rights.check_prompt("Captain Comet at dawn", user_id=local.id)
    # Keyless API work now: the only account's, as the studio's own.
    with TestClient(rights_app) as keyless:
        refused = keyless.post("/v1/videos", json={"prompt": "Cap Comet at night"})
    assert refused.status_code == 400
    portal = admin.get("/rights").text
    decisions = portal[portal.index('id="decisions"') :]
    assert '<td class="mono small">solo</td>' in decisions
    assert "solo (keyless, logged as local)" in decisions
    assert '<td class="mono small">local</td>' not in decisions


def test_decisions_from_before_the_first_sign_up_stay_the_local_users(
    rights_app: FastAPI,
) -> None:
    import time

    # Keyless work on a fresh install: nobody has signed up, so the local user acted.
    with TestClient(rights_app) as keyless:
        made = keyless.post("/v1/videos", json={"prompt": "a paper boat", "size": "256x256"})
    assert made.status_code == 200, made.text
    time.sleep(1.1)  # account times are whole seconds
    admin = Browser(rights_app, "solo")
    portal = admin.get("/rights").text
    decisions = portal[portal.index('id="decisions"') :]
    assert "local (keyless, before solo signed up)" in decisions
    assert "solo (keyless, logged as local)" not in decisions
