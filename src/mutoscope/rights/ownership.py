"""Who may change the registry: admins, members of the owning verified organisation, and a
person for their own likeness. Everyone else may only propose (``rights.proposals``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from mutoscope.errors import Forbidden, InvalidRequest
from mutoscope.rights.records import EntityRecord
from mutoscope.rights.registry import EntitySpec
from mutoscope.storage.records import UserRecord
from mutoscope.trust.orgs import verified_org_ids
from mutoscope.trust.records import VERIFIED, OrgRecord
from mutoscope.trust.secret import pseudonym, server_secret

PROPOSE = (
    "only admins and members of a verified organisation may register entities that block "
    "others; propose it instead (POST /v1/rights/proposals, or the rights portal) and an "
    "admin will review it, or claim your organisation (POST /v1/rights/organizations)"
)


class Ownership:
    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def may_manage(self, user: UserRecord, entity: EntityRecord) -> bool:
        if user.is_admin or (entity.subject_user_id and entity.subject_user_id == user.id):
            return True
        if not entity.org_id:
            return False
        with self.sessions() as s:
            return entity.org_id in verified_org_ids(s, user.id)

    def require_manage(self, user: UserRecord, entity: EntityRecord) -> None:
        if not self.may_manage(user, entity):
            raise Forbidden(_not_yours(entity), param="entity_id")

    def prepare(
        self, user: UserRecord, spec: EntitySpec, existing: EntityRecord | None
    ) -> EntitySpec:
        """Check that ``user`` may write ``spec`` directly, then fill in the owner's display
        name and resolve licensee names to ids. ``Forbidden`` teaches how to propose."""
        if existing is not None:
            self.require_manage(user, existing)
        if not user.is_admin:
            if spec.references:
                raise Forbidden(
                    "only admins may register reference files by path", param="references"
                )
            if not self._is_self_likeness(user, spec) and not self._in_org(user, spec.org_id):
                raise Forbidden(PROPOSE, param="org_id")
        return self.complete(spec, strict=True)

    def complete(self, spec: EntitySpec, *, strict: bool) -> EntitySpec:
        """Owner display name from the organisation (or the person); licensees as ids."""
        with self.sessions() as s:
            if spec.org_id:
                org = s.get(OrgRecord, spec.org_id)
                if org is None or org.status != VERIFIED:
                    raise InvalidRequest(
                        f"org_id '{spec.org_id}' is not a verified organisation", param="org_id"
                    )
                spec.owner = org.name
            elif spec.subject_user_id and not spec.owner:
                person = s.get(UserRecord, spec.subject_user_id)
                spec.owner = (person.display_name or person.name) if person else spec.name
            if spec.license is not None:
                spec.license.licensees = [
                    _resolve(s, value, strict) for value in spec.license.licensees
                ]
        spec.owner = spec.owner or "Mutoscope admins"
        return spec

    def managed_ids(self, user: UserRecord, rights: Any) -> list[str] | None:
        """Entity ids the user manages; ``None`` means all of them (admins)."""
        return None if user.is_admin else rights.entities_owned_by(user)

    def _is_self_likeness(self, user: UserRecord, spec: EntitySpec) -> bool:
        if spec.subject_user_id != user.id:
            if spec.subject_user_id:
                raise Forbidden(
                    "subject_user_id may only be your own user id", param="subject_user_id"
                )
            return False
        if spec.kind != "person" or spec.policy != "consent" or spec.org_id:
            raise InvalidRequest(
                "your own likeness is registered with kind: person, policy: consent and no org_id",
                param="subject_user_id",
            )
        short = [n for n in spec.all_names() if len(n.split()) < 2]
        if short:
            raise InvalidRequest(
                f"a person is registered under a full name (two words or more), so common "
                f"words cannot be blocked this way (got '{short[0]}')",
                param="name",
            )
        return True

    def _in_org(self, user: UserRecord, org_id: str | None) -> bool:
        if not org_id:
            return False
        with self.sessions() as s:
            return org_id in verified_org_ids(s, user.id)


def _resolve(session: Any, value: str, strict: bool) -> str:
    """A licensee as an id: user and organisation ids stay, a verified organisation's or a
    user's name becomes their id *now* (later sign-ups under that name gain nothing)."""
    value = value.strip()
    if session.get(UserRecord, value) is not None or session.get(OrgRecord, value) is not None:
        return value
    org = session.scalar(
        select(OrgRecord).where(OrgRecord.name == value, OrgRecord.status == VERIFIED)
    )
    if org is not None:
        return str(org.id)
    user = session.scalar(select(UserRecord).where(UserRecord.name == value))
    if user is not None:
        return str(user.id)
    if strict:
        raise InvalidRequest(
            f"licensee '{value}' is neither a user nor a verified organisation; name them by "
            "user id (user_…), organisation id (org_…) or an existing account's name",
            param="license.licensees",
        )
    return value


def decision_view(settings: Any, user: UserRecord) -> Callable[[Any], dict[str, Any]]:
    """How a user sees audit rows: admins as written; rights holders with pseudonymous user
    ids (``anon_…``, an HMAC under the install's secret), so they can tell repeat attempts
    apart without learning who made them."""
    from mutoscope.rights.audit import as_dict

    if user.is_admin:
        return as_dict
    secret = server_secret(settings)

    def view(row: Any) -> dict[str, Any]:
        body = as_dict(row)
        body["user_id"] = pseudonym(secret, row.user_id)
        return body

    return view


def _not_yours(entity: EntityRecord) -> str:
    """Who may change ``entity``, naming an organisation only when one is verified for it."""
    if entity.org_id:
        return (
            f"'{entity.id}' can be changed only by members of its verified organisation "
            f"({entity.owner or entity.org_id}) and admins; propose a change instead"
        )
    holder = f" (the registry lists {entity.owner} as its rights holder)" if entity.owner else ""
    return (
        f"'{entity.id}' can be changed only by admins: no organisation has claimed it here "
        f"yet{holder}; propose a change instead"
    )
