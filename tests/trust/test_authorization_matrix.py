"""Who may do what: every rights, organisation, user, character and social route, for each
kind of caller,
through an API key and through a studio session, in one table.

Columns: anonymous, a creator, another creator, a member (owner) of the verified
organisation that owns the entities, and an admin. ``key`` rows send the caller's API key
(``Authorization: Bearer``); ``ses`` rows send their studio session cookie (and CSRF token).
The /v1 API never accepts the studio cookie (401), and the studio never accepts API keys
(303 to the sign-in page). Public reads answer anonymous callers too: a profile and the
comments of a published video. Characters are private to their owner: others may see one
whose permission is not "only me" and ask for access, never change it; admins have no
say over another account's likeness. Placeholders in paths and bodies are made fresh for every cell,
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
key GET    /v1/videos/characters                             -          401  200  200  200  200
key POST   /v1/videos/characters                             character  401  200  200  200  200
key GET    /v1/videos/characters/{character}                 -          401  200  200  200  200
key GET    /v1/videos/characters/{private_character}         -          401  200  404  404  404
key POST   /v1/videos/characters/{character}                 tier       401  200  403  403  403
key DELETE /v1/videos/characters/{character}                 -          401  200  403  403  403
key POST   /v1/videos/characters/{character}/revoke          -          401  200  403  403  403
key POST   /v1/videos/characters/{character}/restore         -          401  200  403  403  403
key GET    /v1/videos/characters/{character}/requests        -          401  200  403  403  403
key POST   /v1/videos/characters/{character}/requests        -          401  200  200  200  200
key POST   /v1/videos/characters/{requested}/decisions       decision   401  200  403  403  403
key GET    /v1/users/{handle}                                -          200  200  200  200  200
key POST   /v1/users/{handle}/follow                         -          401  400  200  200  200
key DELETE /v1/users/{handle}/follow                         -          401  200  200  200  200
key GET    /v1/videos/{video}/comments                       -          200  200  200  200  200
key POST   /v1/videos/{video}/comments                       comment    401  200  200  200  200
key DELETE /v1/comments/{comment}                            -          401  200  200  403  403
key GET    /v1/notifications                                 -          401  200  200  200  200
key POST   /v1/notifications/read                            -          401  200  200  200  200
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
ses GET    /rights/matches.csv                               -          303  200  200  200  200
ses POST   /characters/{character}/revoke                    -          303  200  403  403  403
ses GET    /cameos                                           -          303  200  200  200  200
ses GET    /characters                                       -          303  200  200  200  200
ses GET    /characters/{character}/reference.png             -          303  200  200  200  200
ses GET    /characters/{private_character}/frames.png        -          303  200  404  404  404
ses GET    /@{handle}                                        -          200  200  200  200  200
ses POST   /@{handle}/follow                                 -          303  400  303  303  303
ses POST   /comments/{comment}/delete                        -          303  303  303  403  403
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
        self.sessions = services.sessions
        from mutoscope.characters.service import CharacterService
        from tests.characters.clips import character_clip

        self.characters = CharacterService(services)
        self.clip = character_clip(seconds=2.5)

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

    def _character(self, tier: str) -> str:
        """A fresh character of the creator's, with the given permission tier."""
        return self.characters.create(
            self.records["creator"],  # type: ignore[arg-type]
            f"Tessellon {next(self.fresh)}",  # unlike the entities: not a protected name
            self.clip,
            kind="object",
            tier=tier,
        ).id

    def _published_video(self) -> str:
        """A finished, published video of the creator's (for comments)."""
        from mutoscope.storage.records import VideoRecord, new_id

        vid = new_id("video")
        with self.sessions.begin() as s:
            s.add(
                VideoRecord(
                    id=vid,
                    owner_id=self.user_id("creator"),
                    model="mutoscope-test",
                    backend="mutoscope-test",
                    status="completed",
                    progress=100,
                    prompt="a paper boat at dawn",
                    size="1280x720",
                    seconds="4",
                    seed=0,
                    mode="create",
                    created_at=1,
                    completed_at=2,
                    published_at=3,
                    attributions=[],
                    provenance={},
                )
            )
        return vid

    def _comment(self, video_id: str) -> str:
        """A comment by the other creator on the creator's video."""
        from mutoscope.storage.records import VideoRecord
        from mutoscope.studio import social

        with self.sessions.begin() as s:
            video = s.get(VideoRecord, video_id)
            return social.add_comment(s, self.user_id("other"), video, "nice boat").id  # type: ignore[arg-type]

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
        if "{character}" in text or "{requested}" in text:
            values["character"] = self._character("approved")
        if "{private_character}" in text:
            values["private_character"] = self._character("only_me")
        if "{requested}" in text:
            values["requested"] = values["character"]
            self.characters.request_access(self.records["other"], values["character"])  # type: ignore[arg-type]
        if "{handle}" in text:
            values["handle"] = "creator"
        if "{video}" in text or "{comment}" in text:
            values["video"] = self._published_video()
        if "{comment}" in text:
            values["comment"] = self._comment(values["video"])
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
            "character": {
                "files": {"video": ("c.mp4", self.clip, "video/mp4")},
                "data": {"name": f"Tessellon Made {n}", "kind": "object"},
            },
            "tier": {"json": {"permission": "everyone"}},
            "decision": {"json": {"user_id": self.user_id("other"), "approve": True}},
            "comment": {"json": {"body": "a fine boat"}},
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


COVERED = (
    "/v1/rights",
    "/v1/users",
    "/rights",
    "/v1/videos/characters",
    "/v1/comments",
    "/v1/notifications",
    "/characters",
    "/comments",
    "/@",
)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every route's path and methods, inside included routers too (FastAPI keeps those
    behind an ``_IncludedRouter`` entry that ``app.routes`` does not open)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif getattr(route, "path", None) is not None:
            yield prefix + route.path, set(getattr(route, "methods", None) or ())


def test_route_listing_sees_inside_included_routers(trust_app: FastAPI) -> None:
    paths = {path for path, _ in _routes(trust_app.routes)}
    # one route of each router, so a listing that misses a router fails here
    for path in ("/v1/rights/entities", "/v1/users/me", "/rights", "/v1/videos/characters"):
        assert path in paths, f"{path} not listed: the route walk misses a router"


def test_the_table_covers_every_rights_organisation_and_user_route(trust_app: FastAPI) -> None:
    listed = {(c.method, c.path.split("{")[0].rstrip("/")) for c in _cells()}
    missing = []
    for path, methods in _routes(trust_app.routes):
        if not path.startswith(COVERED):
            continue
        for method in methods - {"HEAD"}:
            prefix = path.split("{")[0].rstrip("/")
            if (method, prefix) not in listed and not any(
                m == method and p.startswith(prefix) for m, p in listed
            ):
                missing.append(f"{method} {path}")
    assert not missing, f"not in the authorization matrix: {missing}"
