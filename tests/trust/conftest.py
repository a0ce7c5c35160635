"""Trust fixtures: an app with the real rights layer, and API keys for each kind of caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

REGISTRY = """entities:
  - id: sonic
    name: Sonic the Hedgehog
    kind: character
    owner: Sega
    aliases: [Sonic]
    description: A blue hedgehog who runs at supersonic speed and collects golden rings.
    policy: block
  - id: licensed-cat
    name: Licensed Cat
    kind: character
    owner: Cat Co
    aliases: [Lycat]
    description: An orange tabby cat in a tuxedo.
    policy: license
    license:
      licensees: [partner]
      attribution: Licensed Cat is a trademark of Cat Co
"""


@pytest.fixture
def trust_app(settings, tmp_path) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    from mutoscope.api.app import create_app
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance

    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY)
    settings.rights_file = registry
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        provenance=NullProvenance(),
    )
    application = create_app(settings, services=services, keyless=True, run_worker=False)
    with TestClient(application):
        yield application
    services.close()


@pytest.fixture
def app(settings, core_services) -> Iterator[FastAPI]:  # type: ignore[no-untyped-def]
    """The studio and API without the rights layer."""
    from mutoscope.api.app import create_app

    application = create_app(settings, services=core_services, keyless=True, run_worker=False)
    with TestClient(application):
        yield application


@pytest.fixture
def client(trust_app: FastAPI) -> TestClient:
    return TestClient(trust_app)


def api_key(app: FastAPI, name: str, *, admin: bool = False) -> dict[str, str]:
    """An Authorization header for a (new) user ``name``."""
    from mutoscope.users import UserService

    users = UserService(app.state.services.sessions)
    if admin:
        users.get_or_create(name, is_admin=True)
    return {"Authorization": f"Bearer {users.create_key(name, 'k').key}"}


def user_id(app: FastAPI, name: str) -> str:
    from mutoscope.users import UserService

    user = UserService(app.state.services.sessions).by_name(name)
    assert user is not None
    return user.id


def verified_org(client: Any, member: dict, admin: dict, name: str) -> str:
    org = client.post("/v1/rights/organizations", headers=member, json={"name": name}).json()
    r = client.post(f"/v1/rights/organizations/{org['id']}/verify", headers=admin)
    assert r.status_code == 200, r.text
    return str(org["id"])
