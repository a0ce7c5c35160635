"""``mutoscope rights``: manage the registry, check prompts, verify and export the audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mutoscope.clilazy import PlainTyper
from mutoscope.config import Settings
from mutoscope.errors import MutoscopeError
from mutoscope.rights.audit import as_dict
from mutoscope.rights.service import RightsService
from mutoscope.trust.cli import orgs_app, proposals_app

app = PlainTyper(help="Rights registry, prompt screening and the audit log.", no_args_is_help=True)
audit_app = PlainTyper(help="The hash-chained decision log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(orgs_app, name="orgs")
app.add_typer(proposals_app, name="proposals")
starter_app = PlainTyper(
    help="The starter registry packaged with Mutoscope (on by default).", no_args_is_help=True
)
app.add_typer(starter_app, name="starter")
consent_app = PlainTyper(help="Consents of real people (policy: consent).", no_args_is_help=True)
app.add_typer(consent_app, name="consent")


def _service() -> RightsService:
    """Only the rights layer and its database: no backends (importing them costs seconds)."""
    from mutoscope.storage.db import make_engine, session_factory, upgrade

    settings = Settings()
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return RightsService(settings, session_factory(engine))


def _fail(exc: MutoscopeError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="Registry YAML (entities: [...])")]) -> None:
    """Create or replace the entities in FILE (the operator's path: no ownership checks).

    Licensees named by an existing account's or verified organisation's name are stored
    as that id; other values are kept as ids."""
    from mutoscope.rights.ownership import Ownership
    from mutoscope.rights.registry import load_registry

    try:
        service = _service()
        ownership = Ownership(service.sessions)
        specs = [ownership.complete(spec, strict=False) for spec in load_registry(file)]
        rows = service.import_specs(specs)
    except MutoscopeError as exc:
        _fail(exc)
    typer.echo(f"imported {len(rows)} entities: {', '.join(r.id for r in rows)}")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Registered entities."""
    rows = _service().list_entities()
    for r in rows:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "id": r.id,
                        "name": r.name,
                        "kind": r.kind,
                        "owner": r.owner,
                        "policy": r.policy,
                        "aliases": r.aliases,
                        "facts": r.facts or [],
                        "source": r.source,
                        "enabled": r.enabled,
                    }
                )
            )
        else:
            source = r.source if r.enabled else f"{r.source} (disabled)"
            typer.echo(f"{r.id}\t{r.kind}\t{r.policy}\t{r.owner}\t{r.name}\t{source}")
    if not rows and not as_json:
        typer.echo("no entities registered (add some with `mutoscope rights import FILE`)")


@app.command("remove")
def remove(entity_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Remove one entity (its references and consents go with it)."""
    try:
        _service().remove_entity(entity_id)
    except MutoscopeError as exc:
        _fail(exc)
    typer.echo(f"removed {entity_id}")


@app.command("check")
def check(
    prompt: Annotated[str | None, typer.Argument(help="The prompt to screen")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Screen as this user id or name")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per prompt")] = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="One prompt per line; JSON lines out")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Write each decision to the audit log (a preview is not recorded)"
        ),
    ] = False,
) -> None:
    """Screen a prompt (or every line of --file). Exits 1 if any prompt is blocked.

    A preview: unless --record, nothing is written to the audit log, so rights holders'
    matches count only prompts that were submitted."""
    if (prompt is None) == (file is None):
        typer.echo("error: give either a PROMPT or --file PROMPTS.txt", err=True)
        raise typer.Exit(2)
    if file is not None:
        prompts = [ln for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    else:
        prompts = [prompt or ""]
    service = _service()
    blocked = False
    for p in prompts:
        d = service.check_prompt(p, user_id=user, record=record)
        blocked |= d.decision == "block"
        if as_json or file is not None:
            typer.echo(json.dumps(d.to_dict(), ensure_ascii=False))
        elif d.decision == "block":
            typer.echo(f"block: {d.reason} [{_registry_label(d.registry)}]")
        else:
            extra = (
                f" ({'; '.join(a['attribution'] for a in d.attributions)})"
                if d.attributions
                else ""
            )
            typer.echo(f"allow{extra}")
            if d.note:
                typer.echo(f"note: {d.note}")
    raise typer.Exit(1 if blocked else 0)


def _registry_label(source: str | None) -> str:
    return {"starter": "starter registry", "operator": "operator registry"}.get(
        source or "", f"{source} registry"
    )


@starter_app.command("status")
def starter_status() -> None:
    """Whether the starter registry is screened, its version and how many entries are off."""
    st = _service().starter.status()
    typer.echo(f"screened: {'yes' if st.screened else 'no'}")
    setting = "true" if st.setting else "false (this process does not load or screen it)"
    typer.echo(f"setting MUTOSCOPE_RIGHTS_STARTER: {setting}")
    typer.echo(f"switch: {'on' if st.enabled else 'off (`starter enable --all` turns it on)'}")
    typer.echo(f"file: {st.path}{'' if st.packaged_version else ' (missing)'}")
    typer.echo(f"packaged version: {st.packaged_version or '-'}")
    typer.echo(f"loaded version: {st.loaded_version or '-'}")
    typer.echo(f"entries: {st.entries} ({st.disabled} disabled)")


@starter_app.command("list")
def starter_list(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="Only entries switched off")] = False,
) -> None:
    """The starter registry's entries, with their switch."""
    rows = [r for r in _service().starter.entries() if not disabled or not r.enabled]
    for r in rows:
        state = "on" if r.enabled else "off"
        if as_json:
            fields = {"id": r.id, "name": r.name, "kind": r.kind, "owner": r.owner}
            body = {**fields, "policy": r.policy, "aliases": r.aliases, "enabled": r.enabled}
            typer.echo(json.dumps(body, ensure_ascii=False))
        else:
            typer.echo(f"{r.id}\t{state}\t{r.kind}\t{r.policy}\t{r.owner}\t{r.name}")
    if not rows and not as_json:
        typer.echo("no starter entries loaded (see `mutoscope rights starter status`)")


def _switch(ids: list[str] | None, everything: bool, enabled: bool) -> None:
    if bool(ids) == everything:
        typer.echo("error: give entry ids (see `mutoscope rights starter list`) or --all", err=True)
        raise typer.Exit(2)
    service = _service()
    try:
        done = service.starter.set_enabled(None if everything else ids, enabled)
    except MutoscopeError as exc:
        _fail(exc)
    verb = "enabled" if enabled else "disabled"
    if everything:
        typer.echo(f"starter registry {verb} ({len(done)} entries)")
    else:
        typer.echo(f"{verb}: {', '.join(done)}")
    if enabled and not service.starter.status().screened:
        typer.echo(
            "note: the starter registry as a whole is off; `mutoscope rights starter enable "
            "--all` (and MUTOSCOPE_RIGHTS_STARTER=true) turns it on",
            err=True,
        )


IdsArg = Annotated[list[str] | None, typer.Argument(metavar="[ID]...", show_default=False)]
AllOpt = Annotated[bool, typer.Option("--all", help="The whole starter registry")]


@starter_app.command("disable")
def starter_disable(ids: IdsArg = None, everything: AllOpt = False) -> None:
    """Stop screening single entries, or the whole starter registry (--all). Kept across
    upgrades; takes effect in running servers within a second."""
    _switch(ids, everything, enabled=False)


@starter_app.command("enable")
def starter_enable(ids: IdsArg = None, everything: AllOpt = False) -> None:
    """Screen single entries again, or the whole starter registry with every entry (--all)."""
    _switch(ids, everything, enabled=True)


@consent_app.command("grant")
def consent_grant(
    entity_id: Annotated[str, typer.Argument(metavar="ID")],
    user: Annotated[str, typer.Argument(metavar="USER", help="The user id allowed")],
) -> None:
    """A real person (policy: consent) allows USER to generate their likeness."""
    try:
        _service().grant_consent(entity_id, user)
    except MutoscopeError as exc:
        _fail(exc)
    typer.echo(f"{user} may now generate {entity_id}")


@consent_app.command("revoke")
def consent_revoke(
    entity_id: Annotated[str, typer.Argument(metavar="ID")],
    user: Annotated[str, typer.Argument(metavar="USER")],
) -> None:
    """Withdraw a consent; running servers block USER within a second."""
    try:
        _service().revoke_consent(entity_id, user)
    except MutoscopeError as exc:
        _fail(exc)
    typer.echo(f"{user} may no longer generate {entity_id}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain, the keyed MACs and the signed checkpoints; exits 1 naming the
    first problems (a rewritten row, a missing row, a truncated tail)."""
    report = _service().audit.report()
    if not report.ok:
        for problem in report.problems[:10]:
            typer.echo(f"audit log broken at row {problem.seq}: {problem.reason}", err=True)
        if len(report.problems) > 10:
            typer.echo(f"... and {len(report.problems) - 10} more problems", err=True)
        raise typer.Exit(1)
    legacy = f", {report.legacy_rows} from before keying" if report.legacy_rows else ""
    typer.echo(
        f"audit log ok: {report.rows} rows chained ({report.keyed_rows} with keyed MACs"
        f"{legacy}); signed head at row {report.head_seq or 0}, "
        f"{report.checkpoints} checkpoints match"
    )


@audit_app.command("export")
def audit_export(
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="Only these entity ids")
    ] = None,
) -> None:
    """Every decision as JSON lines (with the chain hashes) on stdout."""
    for row in _service().audit.rows(entity_ids=entity or None):
        sys.stdout.write(json.dumps(as_dict(row), ensure_ascii=False) + "\n")
