"""The rights portal: rights holders register entities and review decisions about them.

It drives the rights layer's own service (``mutoscope.rights.service.RightsService``) with
the same permissions as ``/v1/rights`` (``mutoscope.rights.ownership``): admins manage
everything; members of a verified organisation manage its entities; a person manages their
own likeness; everyone else's registrations become proposals for an admin to review. When
the layer is not installed the page says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from mutoscope.errors import Forbidden, InvalidRequest
from mutoscope.services import Services
from mutoscope.storage.records import UserRecord

NOT_INSTALLED = (
    "The rights layer is not installed in this server, so prompts are not screened and there "
    "is nothing to manage here."
)
REFERENCE_TYPES = {".png", ".jpg", ".jpeg", ".webp", ".mp4", ".mov", ".webm"}
RECENT = 100


def rights_service(services: Services) -> Any | None:
    try:
        from mutoscope.rights.service import RightsService
    except ImportError:
        return None
    return services.rights if isinstance(services.rights, RightsService) else None


def context(services: Services, user: UserRecord, org: str | None = None) -> dict[str, Any]:
    rights = rights_service(services)
    if rights is None:
        return {"installed": False, "not_installed": NOT_INSTALLED}
    return {**_registry_context(services, user, rights), **insights(services, user, rights, org)}


def _user_names(services: Services, ids: set[str]) -> Callable[[str, float], str]:
    """``who(user_id, at)``: the account name that acted (the id for unknown users)."""
    from mutoscope.storage.records import UserRecord

    if not ids:
        return lambda user_id, at: user_id
    from mutoscope.studio.accounts import sole_account
    from mutoscope.users import LOCAL_USER

    with services.sessions() as s:
        rows = s.query(UserRecord.id, UserRecord.name).filter(UserRecord.id.in_(ids))
        names = {row.id: row.name for row in rows}
    sole = sole_account(services.sessions)

    def who(user_id: str, at: float) -> str:
        name = names.get(user_id, user_id)
        if sole is None or name != LOCAL_USER:
            return name
        # Single-user mode: keyless work logged as the local user since the account existed
        # (an older version) was the only account's. Before it existed nobody had signed up:
        # that was the keyless local user, whoever adopted its videos later. The log itself
        # is never rewritten; only its reading names the actor of the time.
        if at < (sole.created_at or 0):
            return f"{LOCAL_USER} (keyless, before {sole.name} signed up)"
        return f"{sole.name} (keyless, logged as {LOCAL_USER})"

    return who


def _registry_context(services: Services, user: UserRecord, rights: Any) -> dict[str, Any]:
    from mutoscope.rights.ownership import decision_view
    from mutoscope.trust.orgs import Organizations
    from mutoscope.trust.records import PENDING

    owned = None if user.is_admin else set(rights.entities_owned_by(user))
    # The starter registry's hundreds of entries are summarised, not listed, for admins.
    entities = [
        e
        for e in rights.list_entities()
        if (owned is None and e.source != "starter") or (owned is not None and e.id in owned)
    ]
    ids = None if owned is None else sorted(owned)
    rows = [] if ids == [] else list(rights.audit.rows(entity_ids=ids))
    view = decision_view(services.settings, user)
    decisions = [view(r) for r in rows[-RECENT:]][::-1]
    if user.is_admin:  # admins see who by account name; rights holders keep the anon_ form
        who = _user_names(services, {d["user_id"] for d in decisions if d["user_id"]})
        for d in decisions:
            d["who"] = who(d["user_id"], float(d["created_at"] or 0)) if d["user_id"] else ""
    orgs = Organizations(services.sessions)
    proposals = _proposals(services, rights)
    return {
        "installed": True,
        "entities": entities,
        "decisions": decisions,
        "is_admin": user.is_admin,
        "memberships": orgs.memberships(user.id),
        "proposals": proposals.find(user)[-RECENT:][::-1],
        "pending_orgs": orgs.find(status=PENDING) if user.is_admin else [],
        "pending_proposals": proposals.find(user, status=PENDING) if user.is_admin else [],
        "starter": rights.starter.status() if user.is_admin else None,
    }


def insights(
    services: Services, user: UserRecord, rights: Any, org: str | None = None
) -> dict[str, Any]:
    """The holder's view of the last 30 days: a chart, top phrasings, licences."""
    from mutoscope.rights import insights as ins
    from mutoscope.studio.charts import matches_chart

    orgs = _viewable_orgs(services, user)
    org = org if org in orgs else None
    ids, entities = _scope(rights, user, org)
    rows = [] if ids == [] else list(ins.rows_for(services.sessions, ids, since=ins.since_days()))
    summary = ins.summarise(rows, entities, _pseudonyms(services), _names(services, entities))
    title = f"Matches per day, last {ins.DAYS} days" + (f" ({orgs[org]})" if org else "")
    return {
        "insights": summary,
        "chart": matches_chart(summary.days, title=title),
        "scope_orgs": orgs,
        "org": org,
    }


def matches_csv(services: Services, user: UserRecord, org: str | None) -> tuple[bytes, str]:
    """Every decision about the holder's entities (an organisation's, with ``org``) as CSV;
    users are pseudonyms except for admins."""
    rights = _require(services)
    from mutoscope.rights import insights as ins

    orgs = _viewable_orgs(services, user)
    if org and org not in orgs:
        raise Forbidden(f"you are not a member of a verified organisation '{org}'", param="org")
    ids, entities = _scope(rights, user, org or None)
    who = (lambda u: u) if user.is_admin else _pseudonyms(services)
    rows = [] if ids == [] else ins.rows_for(services.sessions, ids)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", orgs.get(org or "", "") or user.name)[:60]
    return ins.to_csv(rows, entities, who).encode(), f"mutoscope-matches-{name}.csv"


def _viewable_orgs(services: Services, user: UserRecord) -> dict[str, str]:
    """Organisation id -> name: every verified one for admins, else the user's verified ones."""
    from mutoscope.trust.orgs import Organizations
    from mutoscope.trust.records import VERIFIED

    orgs = Organizations(services.sessions)
    if user.is_admin:
        return {o.id: o.name for o in orgs.find(status=VERIFIED)}
    return {m.org.id: m.org.name for m in orgs.memberships(user.id) if m.org.status == VERIFIED}


def _scope(rights: Any, user: UserRecord, org: str | None) -> tuple[list[str] | None, dict]:
    """The entity ids a view covers (``None``: all, for admins) and those entities."""
    everything = {e.id: e for e in rights.list_entities()}
    if org is not None:
        ids = [i for i, e in everything.items() if e.org_id == org]
    elif user.is_admin:
        return None, everything
    else:
        ids = sorted(rights.entities_owned_by(user))
    return ids, {i: everything[i] for i in ids if i in everything}


def _pseudonyms(services: Services) -> Any:
    from mutoscope.trust.secret import pseudonym, server_secret

    secret = server_secret(services.settings)
    return lambda user_id: pseudonym(secret, user_id)


def _names(services: Services, entities: dict[str, Any]) -> dict[str, str]:
    """Display names of the users and organisations that licences name by id."""
    from sqlalchemy import select

    from mutoscope.trust.records import OrgRecord

    wanted = {x for e in entities.values() for x in (e.license or {}).get("licensees", [])}
    if not wanted:
        return {}
    with services.sessions() as s:
        users = s.execute(select(UserRecord.id, UserRecord.name).where(UserRecord.id.in_(wanted)))
        orgs = s.execute(select(OrgRecord.id, OrgRecord.name).where(OrgRecord.id.in_(wanted)))
        return {i: n for i, n in [*users, *orgs]}


async def register(services: Services, user: UserRecord, form: FormData) -> str:
    """Create or replace one entity from the portal form (reference files are uploaded).

    Admins, members of the chosen verified organisation and a person registering their own
    likeness write the registry directly; anyone else's entry becomes a proposal."""
    rights = _require(services)
    from mutoscope.rights.ownership import Ownership
    from mutoscope.rights.registry import EntitySpec

    myself = _text(form, "myself") == "1"
    fields: dict[str, Any] = {
        "id": _text(form, "id"),
        "name": _text(form, "name"),
        "kind": "person" if myself else _text(form, "kind") or "character",
        "owner": _text(form, "owner") if user.is_admin else "",
        "org_id": _text(form, "org_id") or None,
        "subject_user_id": user.id if myself else None,
        "aliases": _list(form, "aliases"),
        "description": _text(form, "description"),
        "policy": "consent" if myself else _text(form, "policy") or "block",
    }
    if fields["policy"] == "license":
        fields["license"] = {
            "licensees": _list(form, "licensees"),
            "forbidden_themes": _list(form, "forbidden_themes"),
            "attribution": _text(form, "attribution"),
        }
    spec = _validate(EntitySpec, fields)
    ownership = Ownership(services.sessions)
    existing = {e.id: e for e in rights.list_entities()}.get(spec.id)
    direct = user.is_admin or myself or bool(spec.org_id)
    if existing is not None and not ownership.may_manage(user, existing):
        raise Forbidden(
            f"'{spec.id}' is registered by '{existing.owner}'; choose another id", param="id"
        )
    if direct:
        spec = ownership.prepare(user, spec, existing)
    spec.references = await _save_references(services, spec.id, form.getlist("references"))
    if not direct:
        await run_in_threadpool(_proposals(services, rights).propose, user, spec, uploaded=True)
        return f"Proposed '{spec.name}' ({spec.id}); it takes effect when an admin approves it."
    await run_in_threadpool(rights.import_specs, [spec], owner_user_id=user.id)
    return f"Registered '{spec.name}' ({spec.id}); prompts are screened against it from now on."


async def claim_organization(services: Services, user: UserRecord, form: FormData) -> str:
    from mutoscope.trust.orgs import Organizations

    org = await run_in_threadpool(
        Organizations(services.sessions).claim, user, _text(form, "name"), _text(form, "claim")
    )
    return f"Claimed '{org.name}'; an admin verifies the claim before it holds any rights."


async def decide(services: Services, user: UserRecord, what: str, item_id: str, ok: bool) -> str:
    """Admins: verify or reject an organisation's claim; approve or reject a proposal."""
    from mutoscope.trust.orgs import Organizations

    if what == "organizations":
        org = await run_in_threadpool(
            Organizations(services.sessions).decide, user, item_id, verified=ok
        )
        return f"'{org.name}' is {org.status}."
    proposals = _proposals(services, _require(services))
    if ok:
        entity = await run_in_threadpool(proposals.approve, user, item_id)
        return f"Approved: '{entity.name}' ({entity.id}) is in the registry now."
    await run_in_threadpool(proposals.reject, user, item_id)
    return "Proposal rejected."


def _proposals(services: Services, rights: Any) -> Any:
    from mutoscope.rights.ownership import Ownership
    from mutoscope.rights.proposals import Proposals

    return Proposals(services.sessions, rights, Ownership(services.sessions))


async def import_registry(services: Services, user: UserRecord, form: FormData) -> str:
    """Admins: import a whole registry YAML (reference paths must be absolute)."""
    rights = _require(services)
    if not user.is_admin:
        raise Forbidden("only admins may import a registry file")
    upload = form.get("registry")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidRequest("choose a registry YAML file to import", param="registry")
    from mutoscope.rights.registry import parse_registry

    text = (await upload.read()).decode("utf-8", errors="replace")
    specs = await run_in_threadpool(parse_registry, text)  # CPU work: off the event loop
    await run_in_threadpool(rights.import_specs, specs, owner_user_id=user.id)
    noun = "entity" if len(specs) == 1 else "entities"
    return f"Imported {len(specs)} {noun} from {upload.filename}."


def audit_export(services: Services, user: UserRecord) -> tuple[bytes, str]:
    """The hash-chained audit log as JSON lines: all of it for admins, else your entities'
    (with pseudonymous user ids)."""
    rights = _require(services)
    from mutoscope.rights.ownership import decision_view

    ids = None if user.is_admin else rights.entities_owned_by(user)
    rows = [] if ids == [] else rights.audit.rows(entity_ids=ids)
    view = decision_view(services.settings, user)
    body = "".join(json.dumps(view(r), ensure_ascii=False) + "\n" for r in rows)
    name = "mutoscope-audit.jsonl" if user.is_admin else f"mutoscope-audit-{user.name}.jsonl"
    return body.encode(), name


# -- helpers -------------------------------------------------------------------------------


def _require(services: Services) -> Any:
    rights = rights_service(services)
    if rights is None:
        raise InvalidRequest(NOT_INSTALLED)
    return rights


def _validate(model: Any, fields: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "entity"
        raise InvalidRequest(f"{where}: {first['msg']}", param=where) from exc


async def _save_references(services: Services, entity_id: str, uploads: list[Any]) -> list[str]:
    """Store uploaded reference images/clips under ``home/rights/<entity>/``; their paths."""
    folder = services.settings.home / "rights" / entity_id
    paths: list[str] = []
    for upload in uploads:
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(upload.filename).name)[-100:]
        if Path(name).suffix.lower() not in REFERENCE_TYPES:
            raise InvalidRequest(
                f"reference '{upload.filename}' must be an image (PNG, JPEG, WebP) or a clip "
                "(MP4, MOV, WebM)",
                param="references",
            )
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(await upload.read())
        paths.append(str(path))
    return paths


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _list(form: FormData, name: str) -> list[str]:
    return [x.strip() for x in re.split(r"[,\n]", _text(form, name)) if x.strip()]
