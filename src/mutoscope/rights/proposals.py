"""Proposals: anyone may ask for an entity; it blocks nothing until an admin approves it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import Conflict, Forbidden, NotFound
from mutoscope.rights.ownership import Ownership
from mutoscope.rights.records import EntityRecord
from mutoscope.rights.registry import EntitySpec
from mutoscope.storage.records import UserRecord, new_id, now
from mutoscope.trust.orgs import require_admin
from mutoscope.trust.records import APPROVED, PENDING, REJECTED, ProposalRecord

MAX_PENDING_PER_USER = 50


class Proposals:
    def __init__(self, sessions: sessionmaker, rights: Any, ownership: Ownership):
        self.sessions = sessions
        self.rights = rights
        self.ownership = ownership

    def propose(
        self, user: UserRecord, spec: EntitySpec, *, uploaded: bool = False
    ) -> ProposalRecord:
        """``uploaded``: the references are files the portal stored, not caller-chosen paths."""
        if spec.references and not (user.is_admin or uploaded):
            raise Forbidden("only admins may name reference files by path", param="references")
        if spec.subject_user_id and spec.subject_user_id != user.id and not user.is_admin:
            raise Forbidden("subject_user_id may only be your own user id", param="subject_user_id")
        with self.sessions() as s:
            pending = s.scalars(
                select(ProposalRecord.id).where(
                    ProposalRecord.proposed_by == user.id, ProposalRecord.status == PENDING
                )
            ).all()
            if len(pending) >= MAX_PENDING_PER_USER:
                raise Conflict(
                    f"you have {len(pending)} proposals waiting for review; wait for an admin "
                    "to decide some of them",
                    code="too_many_proposals",
                )
            row = ProposalRecord(
                id=new_id("prop"),
                entity_id=spec.id,
                spec=spec.model_dump(mode="json"),
                proposed_by=user.id,
                status=PENDING,
                created_at=now(),
            )
            s.add(row)
            s.commit()
            return row

    def find(self, user: UserRecord, *, status: str | None = None) -> list[ProposalRecord]:
        """All proposals for admins; one's own for everyone else."""
        query = select(ProposalRecord).order_by(ProposalRecord.created_at, ProposalRecord.id)
        if not user.is_admin:
            query = query.where(ProposalRecord.proposed_by == user.id)
        if status:
            query = query.where(ProposalRecord.status == status)
        with self.sessions() as s:
            return list(s.scalars(query))

    def get(self, user: UserRecord, proposal_id: str) -> ProposalRecord:
        with self.sessions() as s:
            row = s.get(ProposalRecord, proposal_id)
        if row is None or not (user.is_admin or row.proposed_by == user.id):
            raise NotFound(f"No proposal with id '{proposal_id}'.", param="proposal_id")
        return row

    def approve(self, admin: UserRecord, proposal_id: str) -> EntityRecord:
        """Register the proposed entity (it takes effect now) and mark the proposal."""
        require_admin(admin)
        row = self._pending(admin, proposal_id)
        spec = self.ownership.complete(EntitySpec.model_validate(row.spec), strict=False)
        (entity,) = self.rights.import_specs([spec], owner_user_id=row.proposed_by)
        self._decide(admin, proposal_id, APPROVED)
        return entity

    def reject(self, admin: UserRecord, proposal_id: str) -> ProposalRecord:
        require_admin(admin)
        self._pending(admin, proposal_id)
        return self._decide(admin, proposal_id, REJECTED)

    def _pending(self, admin: UserRecord, proposal_id: str) -> ProposalRecord:
        row = self.get(admin, proposal_id)
        if row.status != PENDING:
            raise Conflict(f"proposal '{proposal_id}' was already {row.status}", code="decided")
        return row

    def _decide(self, admin: UserRecord, proposal_id: str, status: str) -> ProposalRecord:
        with self.sessions() as s:
            row = s.get(ProposalRecord, proposal_id)
            assert row is not None
            row.status, row.decided_by, row.decided_at = status, admin.id, now()
            s.commit()
            return row


def proposal_dict(row: ProposalRecord) -> dict[str, Any]:
    return {
        "object": "rights.proposal",
        "id": row.id,
        "entity_id": row.entity_id,
        "status": row.status,
        "entity": row.spec,
        "proposed_by": row.proposed_by,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
    }
