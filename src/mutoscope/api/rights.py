"""``/v1/rights``: the registry (admins and owners), prompt checks, owners' decisions, audit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from mutoscope.api import openapi
from mutoscope.api.deps import CurrentUser, ServicesDep
from mutoscope.errors import Forbidden, InvalidRequest, NotFound
from mutoscope.rights.audit import as_dict
from mutoscope.rights.ownership import Ownership, decision_view
from mutoscope.rights.registry import EntitySpec, parse_registry
from mutoscope.rights.service import RightsService

router = APIRouter(prefix="/v1/rights", tags=["rights"])


class CheckBody(BaseModel):
    prompt: str


class ConsentBody(BaseModel):
    user_id: str


def _rights(services: Any) -> RightsService:
    rights = services.rights
    if not isinstance(rights, RightsService):
        raise InvalidRequest("the rights layer is not enabled on this server")
    return rights


def _entity(row: Any, user: Any = None, ownership: Ownership | None = None) -> dict[str, Any]:
    body = {
        "object": "rights.entity",
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "owner": row.owner,
        "org_id": row.org_id,
        "aliases": row.aliases,
        "description": row.description,
        "facts": row.facts or [],
        "policy": row.policy,
        "license": row.license,
        "references": row.references,
        "source": row.source,
        "enabled": row.enabled,
    }
    # Which account a likeness belongs to, and who holds a licence, is for those who manage
    # the entity (and the admins) only.
    if user is None or ownership is None or ownership.may_manage(user, row):
        body["subject_user_id"] = row.subject_user_id
    elif row.license:
        body["license"] = {k: v for k, v in row.license.items() if k != "licensees"}
    return body


def _hidden(services: Any, user: Any, ids: list[str]) -> set[str]:
    """Other people's private characters: not listed, and answered as not found."""
    from mutoscope.characters.service import hidden_characters

    with services.sessions() as s:
        return hidden_characters(s, user, ids)


def _visible(services: Any, user: Any, entity_id: str) -> Any:
    rights = _rights(services)
    if _hidden(services, user, [entity_id]):
        # The same answer as for an id that does not exist: its existence is private.
        raise NotFound(
            f"No rights entity with id '{entity_id}'. List them with GET /v1/rights/entities.",
            param="entity_id",
        )
    return rights.get_entity(entity_id)


def _existing(rights: RightsService, entity_id: str) -> Any:
    try:
        return rights.get_entity(entity_id)
    except NotFound:
        return None


@router.get("/entities")
def list_entities(services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    rows = _rights(services).list_entities()
    hidden = _hidden(services, user, [r.id for r in rows])
    ownership = Ownership(services.sessions)
    data = [_entity(r, user, ownership) for r in rows if r.id not in hidden]
    return {"object": "list", "data": data}


@router.post("/entities")
def create_entity(spec: EntitySpec, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    """Create or replace an entity: admins, members of its verified organisation (``org_id``),
    or a person for their own likeness (``subject_user_id`` = your id). Others propose."""
    rights, ownership = _rights(services), Ownership(services.sessions)
    spec = ownership.prepare(user, spec, _existing(rights, spec.id))
    (row,) = rights.import_specs([spec], owner_user_id=user.id)
    return _entity(row)


@router.post("/import", openapi_extra=openapi.RIGHTS_IMPORT)
async def import_registry(
    request: Request, services: ServicesDep, user: CurrentUser
) -> dict[str, Any]:
    """A whole registry file (YAML body), like ``mutoscope rights import FILE``."""
    rights, ownership = _rights(services), Ownership(services.sessions)
    text = (await request.body()).decode("utf-8", errors="replace")
    # Parsing and importing a large file is CPU work: keep it off the event loop.
    return await run_in_threadpool(_import_registry, rights, ownership, user, text)


def _import_registry(
    rights: RightsService, ownership: Ownership, user: Any, text: str
) -> dict[str, Any]:
    specs = parse_registry(text)
    specs = [ownership.prepare(user, spec, _existing(rights, spec.id)) for spec in specs]
    rows = rights.import_specs(specs, owner_user_id=user.id)
    return {"object": "list", "data": [_entity(r) for r in rows]}


@router.get("/entities/{entity_id}")
def get_entity(entity_id: str, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    return _entity(_visible(services, user, entity_id), user, Ownership(services.sessions))


@router.delete("/entities/{entity_id}")
def delete_entity(entity_id: str, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    rights = _rights(services)
    Ownership(services.sessions).require_manage(user, _visible(services, user, entity_id))
    rights.remove_entity(entity_id)
    return {"object": "rights.entity.deleted", "id": entity_id, "deleted": True}


@router.post("/entities/{entity_id}/consents")
def grant_consent(
    entity_id: str, body: ConsentBody, services: ServicesDep, user: CurrentUser
) -> dict[str, Any]:
    rights = _rights(services)
    Ownership(services.sessions).require_manage(user, _visible(services, user, entity_id))
    rights.grant_consent(entity_id, body.user_id)
    return {
        "object": "rights.consent",
        "entity_id": entity_id,
        "user_id": body.user_id,
        "granted": True,
    }


@router.delete("/entities/{entity_id}/consents/{user_id}")
def revoke_consent(
    entity_id: str, user_id: str, services: ServicesDep, user: CurrentUser
) -> dict[str, Any]:
    rights = _rights(services)
    Ownership(services.sessions).require_manage(user, _visible(services, user, entity_id))
    rights.revoke_consent(entity_id, user_id)
    return {
        "object": "rights.consent",
        "entity_id": entity_id,
        "user_id": user_id,
        "granted": False,
    }


@router.post("/check")
def check(body: CheckBody, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    """A preview: the decision a video with this prompt would get. Not recorded in the audit
    log (nothing was made or refused), so rights holders' matches count submissions only."""
    decision = _rights(services).check_prompt(body.prompt, user_id=user.id, record=False)
    return {"object": "rights.decision", **decision.to_dict()}


@router.get("/decisions")
def decisions(services: ServicesDep, user: CurrentUser, limit: int = 100) -> dict[str, Any]:
    """Decisions that involve the caller's entities (all decisions for admins). Rights
    holders see pseudonymous user ids (``anon_…``), stable per person, never the account."""
    rights = _rights(services)
    ids = Ownership(services.sessions).managed_ids(user, rights)
    rows = [] if ids == [] else list(rights.audit.rows(entity_ids=ids))
    view = decision_view(services.settings, user)
    return {"object": "list", "data": [view(r) for r in rows[-max(1, min(limit, 1000)) :]]}


@router.get("/audit/export")
def audit_export(services: ServicesDep, user: CurrentUser) -> Response:
    if not user.is_admin:
        raise Forbidden("only admins may export the whole audit log")
    import json

    body = "".join(
        json.dumps(as_dict(r), ensure_ascii=False) + "\n" for r in _rights(services).audit.rows()
    )
    return Response(body, media_type="application/x-ndjson")
