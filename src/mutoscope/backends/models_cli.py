"""``mutoscope models list | check ID``: what models.toml declares, what is installed, and
what a model costs in memory once loaded."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.diffusers_models import (
    CheckpointMissing,
    DiffusersBackend,
    ModelsFile,
    ModelsFileError,
    ModelSpec,
    PipelinePool,
    backend_class,
    read_models_file,
    resolve_checkpoint,
)
from mutoscope.clilazy import PlainTyper
from mutoscope.config import Settings

app = PlainTyper(help="Open-weight models declared in models.toml.", no_args_is_help=True)
console = Console()

FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="models.toml (default: MUTOSCOPE_HOME/models.toml)"),
]


@app.command("list")
def list_models(models_file: FileOption = None) -> None:
    """Show the built-in models, then every models.toml entry and whether its weights are here."""
    settings = Settings()
    path = models_file or settings.models_path
    _list_builtin(settings, path)
    if not path.is_file():
        console.print(
            f"No models file at {path}: add open-weight models (Wan, LTX-Video, LTX-2, "
            "HunyuanVideo 1.5, CogVideoX) there as docs/models.md shows.",
            soft_wrap=True,
        )
        return
    path, declared = _read(path)
    table = Table(title=str(path))
    table.add_column(
        "id", no_wrap=True, min_width=max((len(m.id) for m in declared.models), default=2)
    )
    for column in ("family", "source", "installed", "modes", "sizes", "seconds", "aliases"):
        table.add_column(column)
    for spec in declared.models:
        try:
            backend = _backend(spec)
        except CheckpointMissing:
            table.add_row(spec.id, spec.family, spec.source, "[red]missing[/red]", "", "", "", "")
            continue
        text = not getattr(backend, "image_only", False)
        modes = (
            ["text"] * text
            + ["image"] * backend.accepts_image
            + ["video"] * backend.accepts_video
            + ["references"] * backend.accepts_references
            + ["audio"] * getattr(backend, "makes_audio", False)
        )
        table.add_row(
            spec.id,
            spec.family,
            spec.source,
            "[green]yes[/green]",
            ", ".join(modes),
            ", ".join(backend.native_sizes),
            ", ".join(backend.seconds) or "-",
            ", ".join(spec.aliases),
        )
    console.print(table)


def _print_plain(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell, the last one left whole (no trailing spaces)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    typer.echo(title)
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())


def _list_builtin(settings: Settings, models_path: Path) -> None:
    """The models installed without models.toml (the embedded model, plugins), with aliases."""
    from mutoscope.backends.registry import load_backends

    registry = load_backends(settings.model_copy(update={"models_file": models_path}))
    aliases = registry.aliases()
    rows: list[tuple[str, ...]] = []
    for backend in registry:
        if isinstance(backend, DiffusersBackend):
            continue  # listed with models.toml below
        modes = ["text"] + ["image"] * backend.accepts_image + ["video"] * backend.accepts_video
        default = " (default)" if backend.name == settings.default_model else ""
        rows.append(
            (
                backend.name + default,
                ", ".join(modes),
                ", ".join(backend.sizes),
                ", ".join(backend.seconds),
                ", ".join(sorted(a for a, name in aliases.items() if name == backend.name)),
                backend.description,
            )
        )
    header = ("id", "modes", "sizes", "seconds", "aliases", "description")
    if not console.is_terminal:  # piped: one plain line per model, nothing wrapped or cut
        _print_plain("built-in and plugin models", header, rows)
        return
    table = Table(title="built-in and plugin models")
    # The id is what users copy: never wrapped or cut; the other columns wrap instead.
    table.add_column("id", no_wrap=True, min_width=max((len(r[0]) for r in rows), default=2))
    for column in header[1:]:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("check")
def check_model(
    model_id: Annotated[str, typer.Argument(help="A model id from models.toml")],
    generate: Annotated[
        bool, typer.Option("--generate", help="Also make the shortest clip with 2 steps")
    ] = False,
    models_file: FileOption = None,
    connect: Annotated[
        bool, typer.Option(help="Engine entries: also ask the engine for its models")
    ] = True,
    timeout: Annotated[
        float, typer.Option(help="Engine entries: seconds to wait for the engine")
    ] = 5.0,
) -> None:
    """Load one model with its memory options and report load time and memory use; for an
    engine entry (family = "openai-videos"), check its settings, API key and engine."""
    path, declared = _read(models_file)
    spec = next((m for m in declared.models if m.id == model_id), None)
    if spec is None:
        _check_engine_entry(path, model_id, [m.id for m in declared.models], connect, timeout)
        if generate:
            console.print(
                f"(--generate loads local models; try: mutoscope generate --model {model_id})"
            )
        return
    try:
        backend = _backend(spec)
    except CheckpointMissing as exc:
        _fail(exc.message)
    import torch

    pool = PipelinePool(budget_bytes=sys.maxsize)
    backend.pool = pool
    started = time.perf_counter()
    with pool.use(spec) as model:
        seconds = time.perf_counter() - started
        console.print(
            f"loaded [bold]{spec.id}[/bold] ({type(model.pipeline).__name__}) in {seconds:.1f} s"
        )
        for name, component in model.pipeline.components.items():
            if isinstance(component, torch.nn.Module):
                size = sum(
                    t.numel() * t.element_size()
                    for t in (*component.parameters(), *component.buffers())
                )
                console.print(f"  {name:<14} {size / 2**20:10.1f} MiB")
        console.print(f"  {'weights':<14} {model.bytes / 2**20:10.1f} MiB")
    if generate:
        if not backend.seconds:
            _fail(
                f"model '{spec.id}' cannot make even a 4 s clip (max_frames={backend.max_frames})"
            )
        request = GenerationRequest(
            prompt="a lighthouse on a cliff at sunset, waves crashing",
            size=backend.native_sizes[0],
            seconds=backend.seconds[0],
            options={"steps": 2},
        )
        started = time.perf_counter()
        video = backend.generate(request, lambda fraction: None)
        console.print(
            f"generated {len(video.frames)} frames at {backend.native_sizes[0]} with 2 steps "
            f"in {time.perf_counter() - started:.1f} s"
        )
    _report_memory()
    pool.close()


def _check_engine_entry(
    path: Path, model_id: str, declared: list[str], connect: bool, timeout: float
) -> None:
    from mutoscope.backends.engine_check import check_engine
    from mutoscope.backends.openai_videos import EngineSpecError, read_engine_specs

    try:
        engines = read_engine_specs(path)
    except EngineSpecError as exc:
        _fail(str(exc))
    spec = next((e for e in engines if e.id == model_id), None)
    if spec is None:
        _fail(
            f"no model '{model_id}' in models.toml; declared: {declared + [e.id for e in engines]}"
        )
    findings = check_engine(spec, connect=connect, timeout=timeout)
    for finding in findings:
        mark = "[green]ok[/green]   " if finding.ok else "[red]error[/red]"
        console.print(f"{mark} {escape(finding.message)}", highlight=False)
    if not all(f.ok for f in findings):
        raise typer.Exit(code=1)


def _report_memory() -> None:
    import torch

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"peak host memory (RSS): {peak_rss:.0f} MiB")
    if torch.cuda.is_available():
        console.print(
            f"GPU memory: {torch.cuda.memory_allocated() / 2**20:.0f} MiB allocated, "
            f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB peak"
        )


def _read(models_file: Path | None) -> tuple[Path, ModelsFile]:
    path = models_file or Settings().models_path
    if not path.is_file():
        _fail(f"no models file at {path}; see docs/models.md for the format")
    try:
        return path, read_models_file(path)
    except ModelsFileError as exc:
        _fail(str(exc))


def _backend(spec: ModelSpec) -> DiffusersBackend:
    """The backend without loading weights (checks only that the checkpoint is here)."""
    return backend_class(spec.family)(spec, PipelinePool(budget_bytes=0), resolve_checkpoint(spec))


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {escape(message)}")  # "[[models]]" is not markup
    raise typer.Exit(code=1)
