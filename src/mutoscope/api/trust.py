"""Organisations, their claims and members, entity proposals (under ``/v1/rights``) and
``/v1/users/me``: who holds rights, and how anyone asks for an entity to be protected."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mutoscope.api.deps import CurrentUser, ServicesDep
from mutoscope.api.rights import _entity, _rights
from mutoscope.errors import NotFound
from mutoscope.rights.ownership import Ownership
from mutoscope.rights.proposals import Proposals, proposal_dict
from mutoscope.rights.registry import EntitySpec
from mutoscope.storage.records import UserRecord
from mutoscope.trust.orgs import Organizations
from mutoscope.trust.records import VERIFIED, OrgRecord

router = APIRouter(tags=["rights"])


class ClaimBody(BaseModel):
    name: str = Field(description="The organisation's name, e.g. 'Example Studios'.")
    claim: str = Field(default="", description="Evidence for the admin: website, contact.")


class MemberBody(BaseModel):
    user_id: str
    role: str = "member"


def _orgs(services: Any) -> Organizations:
    return Organizations(services.sessions)


def _proposals(services: Any) -> Proposals:
    return Proposals(services.sessions, _rights(services), Ownership(services.sessions))


def _org(org: OrgRecord, *, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "object": "rights.organization",
        "id": org.id,
        "name": org.name,
        "status": org.status,
    }
    if full:
        body.update(claim=org.claim, created_by=org.created_by, created_at=org.created_at)
    return body


# -- users ---------------------------------------------------------------------------------


@router.get("/v1/users/me")
def me(services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    """The caller: id, role (``admin`` | ``creator``) and organisations."""
    return {
        "object": "user",
        "id": user.id,
        "name": user.name,
        "role": role(user),
        "organizations": [
            {**_org(m.org, full=False), "role": m.role}
            for m in _orgs(services).memberships(user.id)
        ],
    }


def role(user: UserRecord) -> str:
    return "admin" if user.is_admin else "creator"


# -- organisations -------------------------------------------------------------------------


@router.post("/v1/rights/organizations")
def claim_organization(body: ClaimBody, services: ServicesDep, user: CurrentUser) -> dict:
    """Claim to be an organisation; it holds rights once an admin verifies the claim."""
    return _org(_orgs(services).claim(user, body.name, body.claim), full=True)


@router.get("/v1/rights/organizations")
def list_organizations(services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    """Admins: every organisation and claim. Others: verified ones and their own."""
    orgs = _orgs(services)
    mine = {m.org.id for m in orgs.memberships(user.id)}
    rows = [o for o in orgs.find() if user.is_admin or o.status == VERIFIED or o.id in mine]
    return {
        "object": "list",
        "data": [_org(o, full=user.is_admin or o.id in mine) for o in rows],
    }


@router.get("/v1/rights/organizations/{org_id}")
def get_organization(org_id: str, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    orgs = _orgs(services)
    org = orgs.get(org_id)
    member = orgs.role_of(user.id, org_id) is not None
    if not (user.is_admin or member or org.status == VERIFIED):
        raise NotFound(f"No organisation with id '{org_id}'.", param="org_id")
    body = _org(org, full=user.is_admin or member)
    if user.is_admin or member:
        body["members"] = [{"user_id": m.user_id, "role": m.role} for m in orgs.members(org_id)]
    return body


@router.post("/v1/rights/organizations/{org_id}/verify")
def verify_organization(org_id: str, services: ServicesDep, user: CurrentUser) -> dict:
    """Admins: accept the claim; the organisation's members now hold its rights."""
    return _org(_orgs(services).decide(user, org_id, verified=True), full=True)


@router.post("/v1/rights/organizations/{org_id}/reject")
def reject_organization(org_id: str, services: ServicesDep, user: CurrentUser) -> dict:
    return _org(_orgs(services).decide(user, org_id, verified=False), full=True)


@router.post("/v1/rights/organizations/{org_id}/members")
def add_member(
    org_id: str, body: MemberBody, services: ServicesDep, user: CurrentUser
) -> dict[str, Any]:
    """Admins and the organisation's owners add a member by user id."""
    row = _orgs(services).add_member(user, org_id, body.user_id, body.role)
    return {
        "object": "rights.organization.member",
        "org_id": org_id,
        "user_id": row.user_id,
        "role": row.role,
    }


@router.delete("/v1/rights/organizations/{org_id}/members/{member_id}")
def remove_member(
    org_id: str, member_id: str, services: ServicesDep, user: CurrentUser
) -> dict[str, Any]:
    _orgs(services).remove_member(user, org_id, member_id)
    return {
        "object": "rights.organization.member",
        "org_id": org_id,
        "user_id": member_id,
        "deleted": True,
    }


# -- proposals -----------------------------------------------------------------------------


@router.post("/v1/rights/proposals")
def propose(spec: EntitySpec, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    """Anyone may propose an entity; it blocks nothing until an admin approves it."""
    return proposal_dict(_proposals(services).propose(user, spec))


@router.get("/v1/rights/proposals")
def list_proposals(
    services: ServicesDep, user: CurrentUser, status: str | None = None
) -> dict[str, Any]:
    """Admins: every proposal (``?status=pending`` for the queue). Others: their own."""
    rows = _proposals(services).find(user, status=status)
    return {"object": "list", "data": [proposal_dict(r) for r in rows]}


@router.get("/v1/rights/proposals/{proposal_id}")
def get_proposal(proposal_id: str, services: ServicesDep, user: CurrentUser) -> dict:
    return proposal_dict(_proposals(services).get(user, proposal_id))


@router.post("/v1/rights/proposals/{proposal_id}/approve")
def approve_proposal(proposal_id: str, services: ServicesDep, user: CurrentUser) -> dict:
    """Admins: register the proposed entity; prompts are screened against it from now on."""
    return _entity(_proposals(services).approve(user, proposal_id))


@router.post("/v1/rights/proposals/{proposal_id}/reject")
def reject_proposal(proposal_id: str, services: ServicesDep, user: CurrentUser) -> dict:
    return proposal_dict(_proposals(services).reject(user, proposal_id))
