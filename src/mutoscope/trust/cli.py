"""``mutoscope rights orgs`` and ``mutoscope rights proposals``: the operator decides claims
and proposals from the shell (the CLI acts as an admin, like ``mutoscope rights import``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mutoscope.clilazy import PlainTyper
from mutoscope.errors import MutoscopeError
from mutoscope.storage.records import UserRecord

orgs_app = PlainTyper(help="Organisations and their claims.", no_args_is_help=True)
proposals_app = PlainTyper(help="Proposed entities waiting for review.", no_args_is_help=True)

OPERATOR = UserRecord(id="operator", name="operator", is_admin=True)
"""Who the shell acts as (recorded as ``decided_by``)."""


def _sessions() -> Any:
    from mutoscope.config import Settings
    from mutoscope.services import build_services

    return build_services(Settings())


def _run(action: Any) -> Any:
    try:
        return action()
    except MutoscopeError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@orgs_app.command("list")
def orgs_list(
    status: Annotated[str | None, typer.Option(help="pending | verified | rejected")] = None,
) -> None:
    """Organisations (with the claimant's evidence)."""
    from mutoscope.trust.orgs import Organizations

    services = _sessions()
    try:
        for org in Organizations(services.sessions).find(status=status):
            typer.echo(f"{org.id}\t{org.status}\t{org.name}\t{org.claim}")
    finally:
        services.close()


def _decide(org_id: str, verified: bool) -> None:
    from mutoscope.trust.orgs import Organizations

    services = _sessions()
    try:
        org = _run(
            lambda: Organizations(services.sessions).decide(OPERATOR, org_id, verified=verified)
        )
    finally:
        services.close()
    typer.echo(f"{org.name} ({org.id}) is {org.status}")


@orgs_app.command("verify")
def orgs_verify(org_id: Annotated[str, typer.Argument(metavar="ORG_ID")]) -> None:
    """Accept a claim: the organisation's members hold its rights from now on."""
    _decide(org_id, True)


@orgs_app.command("reject")
def orgs_reject(org_id: Annotated[str, typer.Argument(metavar="ORG_ID")]) -> None:
    """Refuse a claim."""
    _decide(org_id, False)


@orgs_app.command("add-member")
def orgs_add_member(
    org_id: Annotated[str, typer.Argument(metavar="ORG_ID")],
    user: Annotated[str, typer.Argument(help="User id or name")],
    owner: Annotated[bool, typer.Option("--owner", help="May manage members too")] = False,
) -> None:
    """Add a user to an organisation."""
    from mutoscope.trust.orgs import Organizations
    from mutoscope.users import UserService

    services = _sessions()
    try:
        users = UserService(services.sessions)
        found = users.by_name(user)
        user_id = found.id if found is not None else user
        role = "owner" if owner else "member"
        _run(lambda: Organizations(services.sessions).add_member(OPERATOR, org_id, user_id, role))
    finally:
        services.close()
    typer.echo(f"{user_id} is a {role} of {org_id}")


@proposals_app.command("list")
def proposals_list(
    status: Annotated[str, typer.Option(help="pending | approved | rejected")] = "pending",
) -> None:
    """Proposals (JSON lines: id, status, who proposed it, the entity)."""
    services = _sessions()
    try:
        for row in _proposals(services).find(OPERATOR, status=status):
            typer.echo(
                json.dumps(
                    {
                        "id": row.id,
                        "status": row.status,
                        "proposed_by": row.proposed_by,
                        "entity": row.spec,
                    }
                )
            )
    finally:
        services.close()


@proposals_app.command("approve")
def proposals_approve(proposal_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Register the proposed entity: prompts are screened against it from now on."""
    services = _sessions()
    try:
        entity = _run(lambda: _proposals(services).approve(OPERATOR, proposal_id))
    finally:
        services.close()
    typer.echo(f"approved: {entity.id} ({entity.name}) is in the registry")


@proposals_app.command("reject")
def proposals_reject(proposal_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Refuse a proposal."""
    services = _sessions()
    try:
        _run(lambda: _proposals(services).reject(OPERATOR, proposal_id))
    finally:
        services.close()
    typer.echo(f"rejected {proposal_id}")


def _proposals(services: Any) -> Any:
    from mutoscope.rights.ownership import Ownership
    from mutoscope.rights.proposals import Proposals

    return Proposals(services.sessions, services.rights, Ownership(services.sessions))
