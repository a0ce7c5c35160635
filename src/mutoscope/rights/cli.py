"""``mutoscope rights``: manage the registry, check prompts, verify and export the audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mutoscope.config import Settings
from mutoscope.errors import MutoscopeError
from mutoscope.rights.audit import as_dict
from mutoscope.rights.service import RightsService

app = typer.Typer(help="Rights registry, prompt screening and the audit log.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained decision log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _service() -> RightsService:
    from mutoscope.services import build_services

    rights = build_services(Settings()).rights
    if not isinstance(rights, RightsService):
        typer.echo("error: the rights layer is not enabled", err=True)
        raise typer.Exit(2)
    return rights


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
                    }
                )
            )
        else:
            typer.echo(f"{r.id}\t{r.kind}\t{r.policy}\t{r.owner}\t{r.name}")
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
) -> None:
    """Screen a prompt (or every line of --file). Exits 1 if any prompt is blocked."""
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
        d = service.check_prompt(p, user_id=user)
        blocked |= d.decision == "block"
        if as_json or file is not None:
            typer.echo(json.dumps(d.to_dict(), ensure_ascii=False))
        elif d.decision == "block":
            typer.echo(f"block: {d.reason}")
        else:
            extra = (
                f" ({'; '.join(a['attribution'] for a in d.attributions)})"
                if d.attributions
                else ""
            )
            typer.echo(f"allow{extra}")
    raise typer.Exit(1 if blocked else 0)


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
