"""Organisations: a user claims one, an admin verifies the claim, and only then do its
members hold rights (entities that block others belong to a verified organisation by id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.errors import Conflict, Forbidden, InvalidRequest, NotFound
from mutoscope.storage.records import UserRecord, new_id, now
from mutoscope.trust.records import (
    PENDING,
    REJECTED,
    VERIFIED,
    OrgMemberRecord,
    OrgRecord,
)

ROLES = ("owner", "member")


@dataclass(frozen=True)
class Membership:
    org: OrgRecord
    role: str


def verified_org_ids(session: Session, user_id: str) -> set[str]:
    """Ids of the verified organisations a user belongs to (their rights-holder hats)."""
    query = (
        select(OrgRecord.id)
        .join(OrgMemberRecord, OrgMemberRecord.org_id == OrgRecord.id)
        .where(OrgMemberRecord.user_id == user_id, OrgRecord.status == VERIFIED)
    )
    return set(session.scalars(query))


class Organizations:
    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    # -- claims ------------------------------------------------------------------------------
    def claim(self, user: UserRecord, name: str, claim: str = "") -> OrgRecord:
        """A pending claim to be organisation ``name``; the claimant becomes its owner."""
        name = " ".join((name or "").split())
        if not 2 <= len(name) <= 300:
            raise InvalidRequest(
                "organisation name must be 2 to 300 characters, such as 'Example Studios'",
                param="name",
            )
        org = OrgRecord(
            id=new_id("org"),
            name=name,
            status=PENDING,
            claim=(claim or "")[:4000],
            created_by=user.id,
            created_at=now(),
        )
        with self.sessions() as s:
            # A rejected claim does not reserve the name.
            s.execute(delete(OrgRecord).where(OrgRecord.name == name, OrgRecord.status == REJECTED))
            s.add(org)
            s.flush()
            s.add(OrgMemberRecord(org_id=org.id, user_id=user.id, role="owner", created_at=now()))
            try:
                s.commit()
            except IntegrityError as exc:
                raise Conflict(
                    f"'{name}' is already claimed; if it is yours, ask an admin to add you to "
                    "it, or claim it under a more precise name",
                    param="name",
                    code="name_taken",
                ) from exc
        return org

    def decide(self, admin: UserRecord, org_id: str, *, verified: bool) -> OrgRecord:
        """An admin verifies (or rejects) a claim."""
        require_admin(admin)
        with self.sessions() as s:
            org = s.get(OrgRecord, org_id)
            if org is None:
                raise _missing(org_id)
            org.status = VERIFIED if verified else REJECTED
            org.decided_by, org.decided_at = admin.id, now()
            s.commit()
            return org

    # -- reading -----------------------------------------------------------------------------
    def get(self, org_id: str) -> OrgRecord:
        with self.sessions() as s:
            org = s.get(OrgRecord, org_id)
        if org is None:
            raise _missing(org_id)
        return org

    def find(self, *, status: str | None = None) -> list[OrgRecord]:
        query = select(OrgRecord).order_by(OrgRecord.created_at, OrgRecord.id)
        if status:
            query = query.where(OrgRecord.status == status)
        with self.sessions() as s:
            return list(s.scalars(query))

    def memberships(self, user_id: str) -> list[Membership]:
        query = (
            select(OrgRecord, OrgMemberRecord.role)
            .join(OrgMemberRecord, OrgMemberRecord.org_id == OrgRecord.id)
            .where(OrgMemberRecord.user_id == user_id)
            .order_by(OrgRecord.name)
        )
        with self.sessions() as s:
            return [Membership(org, role) for org, role in s.execute(query).all()]

    def members(self, org_id: str) -> list[OrgMemberRecord]:
        with self.sessions() as s:
            q = select(OrgMemberRecord).where(OrgMemberRecord.org_id == org_id)
            return list(s.scalars(q.order_by(OrgMemberRecord.created_at)))

    def verified_org_ids(self, user_id: str) -> set[str]:
        with self.sessions() as s:
            return verified_org_ids(s, user_id)

    def role_of(self, user_id: str, org_id: str) -> str | None:
        with self.sessions() as s:
            row = s.get(OrgMemberRecord, (org_id, user_id))
            return row.role if row is not None else None

    # -- members -----------------------------------------------------------------------------
    def add_member(
        self, actor: UserRecord, org_id: str, user_id: str, role: str = "member"
    ) -> OrgMemberRecord:
        """Admins and the organisation's owners add members (by user id)."""
        self._require_org_owner(actor, org_id)
        if role not in ROLES:
            raise InvalidRequest(
                f"role must be one of {', '.join(ROLES)} (got '{role}')", param="role"
            )
        with self.sessions() as s:
            if s.get(UserRecord, user_id) is None:
                raise NotFound(f"No user with id '{user_id}'.", param="user_id")
            row = s.get(OrgMemberRecord, (org_id, user_id))
            if row is None:
                row = OrgMemberRecord(org_id=org_id, user_id=user_id, created_at=now())
                s.add(row)
            row.role = role
            s.commit()
            return row

    def remove_member(self, actor: UserRecord, org_id: str, user_id: str) -> None:
        """Admins and owners remove anyone; members may leave."""
        if actor.id != user_id:
            self._require_org_owner(actor, org_id)
        with self.sessions.begin() as s:
            s.execute(
                delete(OrgMemberRecord).where(
                    OrgMemberRecord.org_id == org_id, OrgMemberRecord.user_id == user_id
                )
            )

    def _require_org_owner(self, actor: UserRecord, org_id: str) -> None:
        self.get(org_id)
        if actor.is_admin or self.role_of(actor.id, org_id) == "owner":
            return
        raise Forbidden("only admins and the organisation's owners may change its members")


def require_admin(user: UserRecord) -> None:
    if not user.is_admin:
        raise Forbidden("only admins may do this (`mutoscope users create NAME --admin`)")


def _missing(org_id: str) -> NotFound:
    return NotFound(
        f"No organisation with id '{org_id}'. GET /v1/rights/organizations lists yours.",
        param="org_id",
    )
