"""Who may do what: every rights, organisation and user route, for each kind of caller,
through an API key and through a studio session, in one table.

Columns: anonymous, a creator, another creator, a member (owner) of the verified
organisation that owns the entities, and an admin. ``key`` rows send the caller's API key
(``Authorization: Bearer``); ``ses`` rows send their studio session cookie (and CSRF token).
The /v1 API never accepts the studio cookie (401), and the studio never accepts API keys
(303 to the sign-in page). Placeholders in paths and bodies are made fresh for every cell,
so one cell's change cannot decide another's outcome.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.studio.conftest import Browser

ROLES = ("anon", "creator", "other", "member", "admin")

MATRIX = """
via method path                                              body       anon crea othr memb admn
key GET    /v1/users/me                                      -          401  200  200  200  200
key GET    /v1/rights/entities                               -          401  200  200  200  200
key GET    /v1/rights/entities/{entity}                      -          401  200  200  200  200
key POST   /v1/rights/entities                               org        401  403  403  200  200
key POST   /v1/rights/entities                               free       401  403  403  403  200
key POST   /v1/rights/entities                               self       401  200  200  200  200
key POST   /v1/rights/import                                 yaml       401  403  403  200  200
key DELETE /v1/rights/entities/{entity}                      -          401  403  403  200  200
key POST   /v1/rights/entities/{person}/consents             consent    401  403  403  200  200
key DELETE /v1/rights/entities/{person}/consents/{other_id}  -          401  403  403  200  200
key POST   /v1/rights/check                                  prompt     401  200  200  200  200
key GET    /v1/rights/decisions                              -          401  200  200  200  200
key GET    /v1/rights/audit/export                           -          401  403  403  403  200
key POST   /v1/rights/organizations                          claim      401  200  200  200  200
key GET    /v1/rights/organizations                          -          401  200  200  200  200
key GET    /v1/rights/organizations/{org}                    -          401  200  200  200  200
key GET    /v1/rights/organizations/{pending_org}            -          401  200  404  404  200
key POST   /v1/rights/organizations/{pending_org}/verify     -          401  403  403  403  200
key POST   /v1/rights/organizations/{pending_org}/reject     -          401  403  403  403  200
key POST   /v1/rights/organizations/{org}/members            member     401  403  403  200  200
key DELETE /v1/rights/organizations/{org}/members/{other_in} -          401  403  200  200  200
key POST   /v1/rights/proposals                              free       401  200  200  200  200
key GET    /v1/rights/proposals                              -          401  200  200  200  200
key GET    /v1/rights/proposals/{proposal}                   -          401  200  404  404  200
key POST   /v1/rights/proposals/{proposal}/approve           -          401  403  403  403  200
key POST   /v1/rights/proposals/{proposal}/reject            -          401  403  403  403  200
ses GET    /v1/users/me                                      -          401  401  401  401  401
ses GET    /v1/rights/entities                               -          401  401  401  401  401
ses POST   /v1/rights/entities                               org        401  401  401  401  401
ses DELETE /v1/rights/entities/{entity}                      -          401  401  401  401  401
ses POST   /v1/rights/organizations/{pending_org}/verify     -          401  401  401  401  401
ses POST   /v1/rights/proposals/{proposal}/approve           -          401  401  401  401  401
ses GET    /rights                                           -          303  200  200  200  200
ses POST   /rights/entities                                  org_form   303  403  403  200  200
ses POST   /rights/entities                                  free_form  303  200  200  200  200
ses POST   /rights/import                                    yaml_file  303  403  403  403  200
ses POST   /rights/organizations                             claim_form 303  200  200  200  200
ses POST   /rights/organizations/{pending_org}/verify        -          303  403  403  403  200
ses POST   /rights/organizations/{pending_org}/reject        -          303  403  403  403  200
ses POST   /rights/proposals/{proposal}/approve              -          303  403  403  403  200
ses POST   /rights/proposals/{proposal}/reject               -          303  403  403  403  200
ses GET    /rights/audit                                     -          303  200  200  200  200
ses GET    /settings                                         -          303  200  200  200  200
key GET    /rights                                           -          303  303  303  303  303
key POST   /rights/entities                                  org_form   303  303  303  303  303
key POST   /rights/proposals/{proposal}/approve              -          303  303  303  303  303
"""


@dataclass(frozen=True)
class Cell:
    channel: str
    method: str
    path: str
    body: str
    role: str
    status: int

    def __str__(self) -> str:
        return f"{self.channel} {self.role} {self.method} {self.path} ({self.body})"


def _cells() -> list[Cell]:
    lines = [line.split() for line in MATRIX.strip().splitlines()[1:]]
    return [
        Cell("session" if channel == "ses" else channel, method, path, body, role, int(status))
        for channel, method, path, body, *statuses in lines
        for role, status in zip(ROLES, statuses, strict=True)
    ]


class World:
    """The callers and the fresh objects each cell needs."""

    def __init__(self, app: FastAPI):
        from mutoscope.rights.ownership import Ownership
        from mutoscope.rights.proposals import Proposals
        from mutoscope.trust.orgs import Organizations
        from mutoscope.users import UserService

        services = app.state.services
        self.rights = services.rights
        self.users = UserService(services.sessions)
        self.orgs = Organizations(services.sessions)
        self.proposals = Proposals(services.sessions, self.rights, Ownership(services.sessions))
        self.fresh = itertools.count()
        # The first sign-up on a fresh install is the admin.
        self.browsers = {"anon": Browser(app)}
        for role in ("admin", "creator", "other", "member"):
            self.browsers[role] = Browser(app, role)
        self.records = {role: self.users.by_name(role) for role in ROLES[1:]}
        assert self.records["admin"].is_admin  # type: ignore[union-attr]
        self.keys = {
            role: {"Authorization": f"Bearer {self.users.create_key(role, 'k').key}"}
            for role in ROLES[1:]
        }
        self.keys["anon"] = {}
        self.org = self.orgs.claim(self.records["member"], "Matrix Co")  # type: ignore[arg-type]
        self.orgs.decide(self.records["admin"], self.org.id, verified=True)  # type: ignore[arg-type]
        self.client = TestClient(app)

    def user_id(self, role: str) -> str:
        return self.records[role].id  # type: ignore[union-attr]

    def _entity(self, policy: str) -> str:
        from mutoscope.rights.registry import EntitySpec

        n = next(self.fresh)
        spec = EntitySpec(
            id=f"matrix-{n}",
            name=f"Matrixling {n}",
            kind="person" if policy == "consent" else "character",
            policy=policy,
            org_id=self.org.id,
            owner=self.org.name,
        )
        self.rights.import_specs([spec])
        return spec.id

    def placeholders(self, text: str) -> dict[str, str]:
        """Fresh objects for the placeholders that ``text`` names."""
        from mutoscope.rights.registry import EntitySpec

        values = {"org": self.org.id, "other_id": self.user_id("other"), "n": str(next(self.fresh))}
        if "{entity}" in text:
            values["entity"] = self._entity("block")
        if "{person}" in text:
            values["person"] = self._entity("consent")
            self.rights.grant_consent(values["person"], self.user_id("other"))
        if "{pending_org}" in text:
            org = self.orgs.claim(self.records["creator"], f"Claim {values['n']}")  # type: ignore[arg-type]
            values["pending_org"] = org.id
        if "{other_in}" in text:
            self.orgs.add_member(self.records["admin"], self.org.id, self.user_id("other"))  # type: ignore[arg-type]
            values["other_in"] = self.user_id("other")
        if "{proposal}" in text:
            spec = EntitySpec(id=f"wish-{values['n']}", name=f"Wishling {values['n']}", kind="work")
            values["proposal"] = self.proposals.propose(self.records["creator"], spec).id  # type: ignore[arg-type]
        return values

    def body(self, name: str, role: str, values: dict[str, str]) -> dict[str, Any]:
        n, org = values["n"], self.org.id
        entity = {"id": f"made-{n}", "name": f"Madeling {n}", "kind": "character"}
        me = self.user_id(role) if role != "anon" else "user_nobody"
        bodies: dict[str, dict[str, Any]] = {
            "-": {},
            "org": {"json": {**entity, "org_id": org}},
            "free": {"json": entity},
            "self": {
                "json": {
                    **entity,
                    "name": f"Pat Madeling {n}",
                    "kind": "person",
                    "policy": "consent",
                    "subject_user_id": me,
                }
            },
            "yaml": {
                "content": f"entities:\n  - {{id: yaml-{n}, name: Yamling {n}, kind: brand, "
                f"org_id: {org}}}\n"
            },
            "consent": {"json": {"user_id": self.user_id("creator")}},
            "prompt": {"json": {"prompt": "a paper boat at dawn"}},
            "claim": {"json": {"name": f"Org {n}", "claim": "https://org.example"}},
            "member": {"json": {"user_id": self.user_id("other")}},
            "org_form": {"data": {**entity, "org_id": org, "policy": "block"}},
            "free_form": {"data": {**entity, "policy": "block"}},
            "claim_form": {"data": {"name": f"Form Org {n}", "claim": "https://org.example"}},
            "yaml_file": {
                "files": {
                    "registry": (
                        "r.yaml",
                        f"entities:\n  - {{id: file-{n}, name: Filing {n}, kind: brand}}\n",
                        "text/yaml",
                    )
                }
            },
        }
        return bodies[name]

    def request(self, cell: Cell) -> int:
        values = self.placeholders(cell.path + cell.body)
        path = cell.path.format(**values)
        body = self.body(cell.body, cell.role, values)
        if cell.channel == "key":
            r = self.client.request(
                cell.method,
                path,
                headers=self.keys[cell.role],
                follow_redirects=False,
                **_as_client_args(body),
            )
            return r.status_code
        browser = self.browsers[cell.role]
        if cell.method == "GET":
            return int(browser.client.get(path, follow_redirects=False).status_code)
        if path.startswith("/v1/"):  # the cookie (no key) on the API
            r = browser.client.request(
                cell.method, path, follow_redirects=False, **_as_client_args(body)
            )
            return r.status_code
        data = {"csrf": browser.csrf, **body.get("data", {})}
        r = browser.client.post(path, data=data, files=body.get("files"), follow_redirects=False)
        return r.status_code


def _as_client_args(body: dict[str, Any]) -> dict[str, Any]:
    if "content" in body:
        return {"content": body["content"]}
    if "data" in body:
        return {"data": body["data"], "files": body.get("files")}
    if "files" in body:
        return {"files": body["files"]}
    return {"json": body["json"]} if "json" in body else {}


@pytest.fixture
def world(trust_app: FastAPI) -> Iterator[World]:
    yield World(trust_app)


def test_every_route_answers_each_caller_as_the_table_says(world: World) -> None:
    wrong = []
    for cell in _cells():
        got = world.request(cell)
        if got != cell.status:
            wrong.append(f"{cell}: expected {cell.status}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_the_table_covers_every_rights_organisation_and_user_route(trust_app: FastAPI) -> None:
    listed = {(c.method, c.path.split("{")[0].rstrip("/")) for c in _cells()}
    for route in trust_app.routes:
        path = getattr(route, "path", "")
        if not path.startswith(("/v1/rights", "/v1/users", "/rights")):
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            prefix = path.split("{")[0].rstrip("/")
            assert (method, prefix) in listed or any(
                m == method and p.startswith(prefix) for m, p in listed
            ), f"{method} {path} is not in the authorization matrix"
