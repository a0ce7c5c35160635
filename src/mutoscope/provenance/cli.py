"""``mutoscope verify FILE [--json]`` and ``mutoscope keys init-signing [--force]``.

The coordinator mounts ``verify`` at the top level and ``init_signing`` under ``keys``; ``app``
also works on its own (``python -m mutoscope.provenance.cli verify FILE``).
"""

from __future__ import annotations

import json as jsonlib
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mutoscope.clilazy import PlainTyper
from mutoscope.config import Settings
from mutoscope.errors import MutoscopeError

app = PlainTyper(help="Provenance: verify files, manage C2PA signing keys.", no_args_is_help=True)


@app.command("verify")
def verify(
    file: Annotated[
        Path,
        typer.Argument(help="A video file to check.", exists=True, dir_okay=False, readable=True),
    ],
    json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Check a video's Content Credentials, Mutoscope watermark and our records."""
    from mutoscope.services import build_services

    services = build_services(Settings())
    try:
        provenance: Any = services.provenance
        if not hasattr(provenance, "verify"):
            typer.echo("The provenance layer is not installed; nothing to verify with.", err=True)
            raise typer.Exit(2)
        report = provenance.verify(
            file, match_outputs=getattr(services.rights, "match_outputs", None)
        )
    except MutoscopeError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        services.close()
    if json:
        typer.echo(jsonlib.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(render(report.to_dict()))


@app.command("init-signing")
def init_signing(
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys.")] = False,
) -> None:
    """Create the local root CA and ES256 signing certificate used for C2PA (0600 files)."""
    from mutoscope.provenance.keys import init_signing as create
    from mutoscope.provenance.keys import key_paths

    settings = Settings()
    existed = all(p.exists() for p in key_paths(settings.keys_dir).values())
    paths = create(settings.keys_dir, force=force)
    if existed and not force:
        typer.echo(f"Signing keys already exist in {settings.keys_dir} (use --force to replace).")
    else:
        typer.echo(f"Created C2PA signing keys in {settings.keys_dir}:")
    for path in paths.values():
        typer.echo(f"  {path}")
    typer.echo(f"Give verifiers the root certificate as a trust anchor: {paths['c2pa-root.pem']}")
    typer.echo(
        "Give every serve and worker process the same signing identity (copy the files, or "
        "put their contents in MUTOSCOPE_SIGNING_CERT_PEM / MUTOSCOPE_SIGNING_KEY_PEM):\n"
        f"  MUTOSCOPE_SIGNING_CERT={paths['c2pa-signing-chain.pem']}\n"
        f"  MUTOSCOPE_SIGNING_KEY={paths['c2pa-signing.key']}"
    )


def when(timestamp: float | None) -> str:
    """A Unix time as local date and time with its zone (``--json`` keeps the number)."""
    if timestamp is None:
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(timestamp))


def streams_line(streams: dict[str, Any]) -> str:
    """``video h264 1280x720 4.00 s; audio aac 48 kHz 1 ch 4.00 s`` (or ``no audio``)."""

    def length(stream: dict[str, Any]) -> str:
        return f"{stream['duration']:.2f} s" if stream.get("duration") is not None else "? s"

    video, audio = streams.get("video"), streams.get("audio")
    parts = []
    if video:
        parts.append(f"video {video['codec']} {video['width']}x{video['height']} {length(video)}")
    if audio:
        rate = f"{audio['sample_rate'] / 1000:g} kHz" if audio.get("sample_rate") else "? kHz"
        parts.append(f"audio {audio['codec']} {rate} {audio['channels']} ch {length(audio)}")
    else:
        parts.append("no audio")
    return "; ".join(parts)


def render(report: dict[str, Any]) -> str:
    """The report as a few readable lines."""
    c2pa, wm, rec = report["c2pa"], report["watermark"], report["record"]
    lines = [report["verdict"], ""]
    state = c2pa["state"] or ("absent" if not c2pa["present"] else "unreadable")
    lines.append(f"C2PA:       {state}" + (f" — {c2pa['failures'][0]}" if c2pa["failures"] else ""))
    summary = c2pa.get("summary") or {}
    for action in summary.get("actions", []):
        lines.append(
            f"            {action['action']} by {action.get('software_agent') or '?'}"
            f" ({'AI-generated' if action.get('digital_source_type') else 'no source type'})"
        )
    for ing in summary.get("ingredients", []):
        lines.append(f"            ingredient {ing['title']} ({ing['relationship']})")
    for ent in summary.get("attributions", []):
        lines.append(f"            attribution: {ent.get('attribution') or ent.get('name')}")
    for char in summary.get("characters", []):
        lines.append(
            f"            character: {char.get('name')} ({char.get('kind')}, owner "
            f"{char.get('owner')}, {char.get('id')})"
        )
    lines.append(f"Watermark:  {'found, payload ' + wm['payload'] if wm['found'] else 'not found'}")
    lines.append(f"Streams:    {streams_line(report.get('streams') or {})}")
    if rec:
        lines.append(f"Record:     {rec['video_id']} (matched by {rec['matched_by']})")
        if rec["exists"]:
            lines.append(
                f"            model {rec['model']}, owner {rec['owner']}, created "
                f"{when(rec['created_at'])}, {'published' if rec['published'] else 'private'}"
            )
            if rec["remixed_from_video_id"]:
                lines.append(f"            {rec['mode']} of {rec['remixed_from_video_id']}")
    else:
        lines.append("Record:     none on this server")
    lines.extend(f"Note:       {n}" for n in report["notes"])
    return "\n".join(lines)


if __name__ == "__main__":
    app()
