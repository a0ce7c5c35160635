from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient


def _services_on_test_backend(home: Path, rights_file: Path | None = None) -> tuple[Any, Any]:
    """Settings and services for the deterministic test backend, no provenance."""
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance

    settings = Settings(
        home=home,
        enable_test_backend=True,
        default_model="mutoscope-test",
        model_aliases={"sora-2": "mutoscope-test"},
        rights_file=rights_file,
    )
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        provenance=NullProvenance(),
    )
    return settings, services


@pytest.fixture
def rights_client(tmp_path: Path, registry_dir: Path) -> Iterator[tuple[TestClient, object]]:
    from mutoscope.api.app import create_app

    settings, services = _services_on_test_backend(
        tmp_path / "home", registry_dir / "registry.yaml"
    )
    app = create_app(settings, services=services, keyless=True, run_worker=False)
    with TestClient(app) as client:
        yield client, services
    services.close()


def test_blocked_prompt_is_refused_by_the_videos_api(rights_client) -> None:
    client, _ = rights_client
    r = client.post("/v1/videos", json={"prompt": "Exmoose dancing", "model": "sora-2"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "moderation_blocked"
    assert "Example Mouse" in error["message"]


def test_check_endpoint_returns_the_decision(rights_client) -> None:
    client, _ = rights_client
    body = client.post("/v1/rights/check", json={"prompt": "Sonic the Hedgehog racing"}).json()
    assert body["decision"] == "block" and body["entity"]["id"] == "sonic"


def _key(services: Any, name: str, *, admin: bool = False) -> dict[str, str]:
    from mutoscope.users import UserService

    users = UserService(services.sessions)
    if admin:
        users.get_or_create(name, is_admin=True)
    return {"Authorization": f"Bearer {users.create_key(name, 'k').key}"}


def _verified_org(client: TestClient, member: dict, admin: dict, name: str) -> str:
    org = client.post("/v1/rights/organizations", headers=member, json={"name": name}).json()
    assert org["status"] == "pending"
    r = client.post(f"/v1/rights/organizations/{org['id']}/verify", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text
    return str(org["id"])


ZORBLAX = {
    "id": "mine",
    "name": "Zorblax",
    "kind": "character",
    "description": "A purple zorblax",
    "policy": "block",
}


def test_members_of_a_verified_organisation_manage_its_entities_and_others_may_not(
    rights_client,
) -> None:
    client, services = rights_client
    admin = _key(services, "root", admin=True)
    sega, stranger = _key(services, "sega-staff"), _key(services, "someone")
    org = client.post("/v1/rights/organizations", headers=sega, json={"name": "Zorb Co"}).json()
    # An unverified claim holds no rights, and only admins verify claims.
    entity = {**ZORBLAX, "org_id": org["id"]}
    assert client.post("/v1/rights/entities", headers=sega, json=entity).status_code == 403
    verify = f"/v1/rights/organizations/{org['id']}/verify"
    assert client.post(verify, headers=sega).status_code == 403
    assert client.post(verify, headers=admin).status_code == 200
    created = client.post("/v1/rights/entities", headers=sega, json=entity)
    assert created.status_code == 200, created.text
    assert created.json()["owner"] == "Zorb Co"
    # A submitted prompt is recorded (a rights check preview is not).
    check = client.post("/v1/videos", headers=stranger, json={"prompt": "Zorblax"})
    assert check.status_code == 400 and check.json()["error"]["code"] == "moderation_blocked"
    decisions = client.get("/v1/rights/decisions", headers=sega).json()["data"]
    assert [d["entity_id"] for d in decisions] == ["mine"]
    stranger_id = client.get("/v1/users/me", headers=stranger).json()["id"]
    assert decisions[0]["user_id"].startswith("anon_") and decisions[0]["user_id"] != stranger_id
    admin_view = client.get("/v1/rights/decisions", headers=admin).json()["data"]
    assert [d["user_id"] for d in admin_view if d["entity_id"] == "mine"] == [stranger_id]
    assert client.delete("/v1/rights/entities/mine", headers=stranger).status_code == 403
    # Entities the operator imported without an organisation are the admins' to manage.
    assert client.delete("/v1/rights/entities/sonic", headers=sega).status_code == 403
    assert client.delete("/v1/rights/entities/sonic", headers=admin).status_code == 200
    assert client.delete("/v1/rights/entities/mine", headers=sega).status_code == 200
    assert client.get("/v1/rights/entities/mine", headers=sega).status_code == 404


@pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
def test_openai_sdk_sees_a_moderation_error_with_the_reason(rights_client) -> None:
    import openai

    from mutoscope.users import UserService

    client, services = rights_client
    key = UserService(services.sessions).create_key("sdk-user", "k").key
    sdk = openai.OpenAI(base_url="http://testserver/v1", api_key=key, http_client=client)
    with pytest.raises(openai.BadRequestError) as info:
        sdk.videos.create(model="sora-2", prompt="Sonic the Hedgehog racing through a loop")
    assert info.value.code == "moderation_blocked"
    assert "Sonic the Hedgehog (character, Sega)" in info.value.message


def test_registry_yaml_can_be_imported_over_http_by_its_organisation(rights_client) -> None:
    client, services = rights_client
    acme, admin = _key(services, "acme-staff"), _key(services, "root", admin=True)
    org_id = _verified_org(client, acme, admin, "Acme")
    body = f"entities:\n  - {{id: acme-bot, name: Acme Bot, kind: brand, org_id: {org_id}}}\n"
    r = client.post("/v1/rights/import", content=body, headers=acme)
    assert r.status_code == 200, r.text
    assert [(e["id"], e["owner"]) for e in r.json()["data"]] == [("acme-bot", "Acme")]
    other = "entities:\n  - {id: x, name: X, kind: brand, owner: Acme}\n"
    assert client.post("/v1/rights/import", content=other, headers=acme).status_code == 403


def test_generated_video_is_indexed_and_found_by_reverse_search(
    tmp_path: Path, registry_dir: Path
) -> None:
    from mutoscope.api.app import create_app
    from mutoscope.media.video import decode_mp4
    from tests.api.conftest import wait_done

    settings, services = _services_on_test_backend(
        tmp_path / "home", registry_dir / "registry.yaml"
    )
    try:
        with TestClient(create_app(settings, services=services, keyless=True)) as client:
            # Seeded: the test pattern is a square on a flat colour, and about one random pair
            # in fifty draws two clips that perceptual hashes cannot tell apart (``other`` was
            # found too). These two share no frame hash with each other.
            created = client.post(
                "/v1/videos", json={"prompt": "a lighthouse in a storm", "seed": 11}
            ).json()
            other = client.post(
                "/v1/videos", json={"prompt": "a red tulip field", "seed": 12}
            ).json()
            for video in (created, other):
                done = wait_done(client, video["id"], timeout=300)
                assert done["status"] == "completed", done
            frames = {
                v["id"]: decode_mp4(services.files.path(v["id"], "video")) for v in (created, other)
            }
            # A video is completed before the worker indexes it (step 8): wait until both are.
            for video_id, clip in frames.items():
                _wait_until_indexed(services, video_id, clip)
        found = services.rights.match_outputs(frames[created["id"]])
        assert [m.video_id for m in found] == [created["id"]]
        checks = [r.check for r in services.rights.audit.rows()]
        assert sorted(checks) == ["output", "output", "prompt", "prompt"]
    finally:
        services.close()


def _wait_until_indexed(services: Any, video_id: str, frames: Any, timeout: float = 300) -> None:
    """Until reverse search finds ``video_id`` from its own frames (a hang guard, not a pace)."""
    import time

    deadline = time.monotonic() + timeout
    while video_id not in {m.video_id for m in services.rights.match_outputs(frames)}:
        assert time.monotonic() < deadline, f"{video_id} was never indexed for reverse search"
        time.sleep(0.05)


def test_job_whose_output_copies_a_registered_reference_fails_with_evidence(
    tmp_path: Path, registry_dir: Path
) -> None:
    from mutoscope.api.app import create_app
    from mutoscope.rights.registry import EntitySpec
    from tests.api.conftest import wait_done

    settings, services = _services_on_test_backend(tmp_path / "home")
    try:
        with TestClient(create_app(settings, services=services, keyless=True)) as client:
            body = {"prompt": "a bouncing square", "seed": 7}
            first = wait_done(client, client.post("/v1/videos", json=body).json()["id"])
            assert first["status"] == "completed"
            # The deterministic test backend will draw the same clip again: register it.
            reference = services.files.path(first["id"], "video")
            services.rights.import_specs(
                [
                    EntitySpec(
                        id="square-co",
                        name="Quadrata",
                        kind="work",
                        owner="Square Co",
                        references=[str(reference)],
                    )
                ]
            )
            resp = client.post("/v1/videos", json=body)
            assert resp.status_code == 200, resp.text
            second = wait_done(client, resp.json()["id"])
        assert second["status"] == "failed"
        assert second["error"]["code"] == "moderation_blocked"
        assert "Quadrata (work, Square Co)" in second["error"]["message"]
        (row,) = [r for r in services.rights.audit.rows() if r.decision == "block"]
        assert row.check == "output" and row.entity_id == "square-co"
        assert row.evidence["evidence"]["matched_fraction"] >= 0.3
    finally:
        services.close()
