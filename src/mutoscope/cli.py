"""``mutoscope``: generate locally, serve the API and studio, manage keys, users and layers."""

from __future__ import annotations

import errno
import json
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer

from mutoscope.clilazy import LazyConsole, LazyGroup, PlainTyper

if TYPE_CHECKING:
    from mutoscope.config import Settings


class _MainGroup(LazyGroup):
    # Sub-commands contributed by other layers, imported only when run (or asked for help):
    # name -> (module, attribute, one-line help shown by `mutoscope --help`).
    lazy: ClassVar[dict[str, tuple[str, str, str]]] = {
        "rights": (
            "mutoscope.rights.cli",
            "app",
            "Rights registry, prompt screening and the audit log.",
        ),
        "models": ("mutoscope.backends.models_cli", "app", "Installed models and models.toml."),
        "train": ("mutoscope.models.tiny.cli", "app", "Train and evaluate mutoscope-tiny."),
        "verify": (
            "mutoscope.provenance.cli",
            "verify",
            "Check a video's Content Credentials and watermark.",
        ),
        "worker": (
            "mutoscope.worker.cli",
            "worker",
            "Claim and run video jobs from the shared queue (no API).",
        ),
    }


class _KeysGroup(LazyGroup):
    lazy: ClassVar[dict[str, tuple[str, str, str]]] = {
        "init-signing": (
            "mutoscope.provenance.cli",
            "init_signing",
            "Create the local root CA and ES256 signing certificate used for C2PA.",
        ),
    }


# Plain (click) help: rich's help renderer alone takes ~0.35 s per `--help`.
app = PlainTyper(
    help="Mutoscope: open, self-hostable AI video.",
    no_args_is_help=True,
    cls=_MainGroup,
    rich_markup_mode=None,
)
keys_app = PlainTyper(
    help="API keys (and the C2PA signing key).", no_args_is_help=True, cls=_KeysGroup
)
users_app = PlainTyper(help="Studio accounts.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
console = LazyConsole(stderr=True)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def calm_openmp() -> None:
    """On a machine busier than its cores, let idle OpenMP threads sleep instead of spin.

    torch's CPU kernels (the embedded model) run on OpenMP threads that, by default, spin at
    every barrier waiting for the others. When other processes hold the cores those spins
    are the work: at load 13 on 2 cores, 16 keyframes took 5.5-11 s (2-3 s of CPU) spinning
    and 0.4-0.8 s (0.3 s of CPU) sleeping. On a quiet machine spinning is the faster choice,
    so nothing changes there; nor when ``OMP_WAIT_POLICY`` is set. Must run before torch is
    imported (OpenMP reads it once).
    """
    import os

    cores = os.cpu_count() or 1
    if "torch" not in sys.modules and os.getloadavg()[0] >= cores:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _services(settings: Settings | None = None) -> Any:
    from mutoscope.config import Settings
    from mutoscope.services import build_services

    return build_services(settings or Settings())


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What the video shows.", metavar="PROMPT")],
    model: Annotated[str | None, typer.Option(help="Model or alias (default: settings).")] = None,
    seconds: Annotated[str | None, typer.Option(help='Duration: "4", "8" or "12".')] = None,
    size: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT, e.g. 1280x720.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for a reproducible result.")] = None,
    image: Annotated[Path | None, typer.Option(help="Reference image (image-to-video).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the MP4.")] = Path(
        "mutoscope.mp4"
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the video object as JSON.")
    ] = False,
    anyway: Annotated[
        bool,
        typer.Option("--anyway", help="Generate even if the model cannot draw the prompt."),
    ] = False,
    steps: Annotated[
        int | None, typer.Option(help="Denoising steps (default: the model's).")
    ] = None,
    guidance: Annotated[
        float | None, typer.Option(help="Classifier-free guidance scale (default: the model's).")
    ] = None,
    negative_prompt: Annotated[
        str | None, typer.Option("--negative-prompt", help="What to steer away from.")
    ] = None,
    lora: Annotated[
        list[str] | None,
        typer.Option(
            help="A LoRA the model declares in models.toml, as NAME or NAME:SCALE (repeatable)."
        ),
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help='A named preset of the model, e.g. "fast".')
    ] = None,
    audio: Annotated[
        bool,
        typer.Option(
            "--audio/--no-audio", help="Give the video the model's soundtrack (AAC) or none."
        ),
    ] = True,
) -> None:
    """Make a video from a prompt on this machine, without a server."""
    calm_openmp()
    from mutoscope.backends.request_options import lora_arg, parse_options
    from mutoscope.errors import MutoscopeError
    from mutoscope.storage.records import FAILED
    from mutoscope.studio.accounts import single_user_owner
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService

    services = _services()
    try:
        # Single-user mode: once the studio has exactly one account, videos made here are its.
        user = single_user_owner(services.sessions) or UserService(services.sessions).get_or_create(
            LOCAL_USER
        )
        options = parse_options(
            {
                "steps": steps,
                "guidance": guidance,
                "negative_prompt": negative_prompt,
                "loras": [lora_arg(x) for x in lora or ()] or None,
                "preset": preset,
                "audio": None if audio else False,
            }
        )
        body = VideoCreate(
            prompt=prompt,
            model=model,
            seconds=seconds,
            size=size,
            seed=seed,
            image=_open_image(image) if image else None,
            options=options,
        )
        videos = VideoService(services)
        videos.check(body)  # a wrong value is the answer, before any note on the prompt
        if not _prompt_fits(services, user, prompt, model, anyway=anyway, quiet=as_json):
            raise typer.Exit(2)
        record = videos.create(user, body)
        final = _run_here(services, record.id, quiet=as_json)
        if final.status == FAILED:
            raise typer.Exit(_fail(f"{final.error_code}: {final.error_message}"))
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(services.files.path(final.id, "video"), output)
        if as_json:
            from mutoscope.api.schemas import video_dict

            typer.echo(json.dumps({**video_dict(final), "path": str(output)}))
        else:
            console.print(  # soft_wrap: the path stays whole when piped
                f"[green]✓[/] {final.id}: {final.duration:.1f}s {final.size} "
                f"({final.backend}) → [bold]{output}[/]",
                soft_wrap=True,
            )
    except MutoscopeError as exc:
        flag = _FLAGS.get(exc.param or "")
        raise typer.Exit(_fail(f"{flag}: {exc.message}" if flag else exc.message)) from exc
    finally:
        services.close()


_FLAGS = {
    "input_reference": "--image",
    "seconds": "--seconds",
    "size": "--size",
    "seed": "--seed",
    "model": "--model",
}
"""The generate flag that set a request field, to name it in an error about that field."""


def _open_image(path: Path) -> Any:
    """``--image`` as RGB, or an ``InvalidRequest`` naming the flag's problem."""
    from PIL import Image, UnidentifiedImageError

    from mutoscope.errors import InvalidRequest

    try:
        return Image.open(path).convert("RGB")
    except FileNotFoundError:
        raise InvalidRequest(f"no such file: {path}", param="input_reference") from None
    except PermissionError:
        raise InvalidRequest(f"no permission to read {path}", param="input_reference") from None
    except (UnidentifiedImageError, IsADirectoryError, OSError) as exc:
        raise InvalidRequest(
            f"{path} is not an image PIL can read ({type(exc).__name__})",
            param="input_reference",
        ) from None


def _prompt_fits(
    services: Any, user: Any, prompt: str, model: str | None, *, anyway: bool, quiet: bool
) -> bool:
    """Say, before generating, what the model cannot draw; False stops a hopeless prompt.

    A prompt the rights check blocks raises ``PromptRejected`` first: that is the answer."""
    from rich.markup import escape

    from mutoscope.errors import MutoscopeError

    try:
        backend = services.backends.get(model)
    except MutoscopeError:
        return True  # an unknown model: creating the video reports it
    fit = backend.fit_prompt(prompt)
    if fit is None:
        return True
    # Piped (a log, a CI job): whole lines, not hard-wrapped at 80 columns with padding.
    piped = not console.is_terminal
    if not fit.drawable or fit.warning:
        from mutoscope.studio.pages import submission_screening

        # Rights first: a blocked prompt gets the block (recorded once), not a drawing note.
        submission_screening(services, user, prompt, backend.name)
    if not fit.drawable:
        console.print(f"[yellow]{escape(fit.warning or '')}[/]", soft_wrap=piped)
        if not anyway:
            console.print(
                "Nothing generated. Rephrase the prompt, or pass --anyway to try it.",
                soft_wrap=piped,
            )
            return False
    elif fit.warning:
        console.print(f"[yellow]note:[/] {escape(fit.warning)}", soft_wrap=piped)
    elif not quiet and fit.will_draw and fit.will_draw != prompt.strip():
        console.print(f"[dim]drawing: {escape(fit.will_draw)}[/]", soft_wrap=piped)
    return True


def _run_here(services: Any, video_id: str, *, quiet: bool) -> Any:
    """Run one video's job in this process (with its retries) and return its final record."""
    from mutoscope.storage.records import COMPLETED, FAILED, VideoRecord
    from mutoscope.worker.pool import Worker

    worker = Worker(services)
    while True:
        with services.sessions() as s:
            record = s.get(VideoRecord, video_id)
        if record is None or record.status in (COMPLETED, FAILED):
            return record
        job = services.queue.claim(worker.worker_id, video_id=video_id)
        if job is None:  # waiting out a retry back-off
            worker.fail_exhausted()
            time.sleep(0.2)
            continue
        thread = threading.Thread(target=worker.run_one, args=(job,), daemon=True)
        thread.start()
        _watch(services, video_id, thread, quiet=quiet)


#: Seconds between progress reads while a job runs here. Each read competes with the job
#: for the interpreter; the bar's clock still ticks ten times a second.
WATCH_EVERY = 0.25


def _watch(services: Any, video_id: str, thread: threading.Thread, *, quiet: bool) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy import select

    from mutoscope.storage.records import VideoRecord

    # Two columns, not the whole row through the ORM (1-3 ms a read at load, on the job's time)
    state = select(VideoRecord.status, VideoRecord.progress).where(VideoRecord.id == video_id)

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console.rich, disable=quiet, transient=False) as bar:
        task = bar.add_task("generating", total=100)
        while thread.is_alive():
            with services.sessions() as s:
                row = s.execute(state).first()
            if row is not None:
                status, progress = row
                bar.update(task, completed=progress, description=status.replace("_", " "))
            thread.join(WATCH_EVERY)  # returns as soon as the job ends
        bar.update(task, completed=100, description="done")


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _fail(message: str) -> int:
    from rich.markup import escape

    # Escaped: a message's own brackets ("[starter registry]") are text, not markup.
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    return 1


@app.command(short_help="Run the OpenAI-compatible API, the studio and a worker.")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Jobs generated at once in this process (0: API only; run "
            "`mutoscope worker` processes)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the OpenAI-compatible API, the studio and the in-process worker.

    Binds 127.0.0.1:8000 by default (keyless there until the first API key exists).
    """
    calm_openmp()
    from mutoscope import oneshot

    oneshot.long_running()
    import uvicorn

    from mutoscope.config import Settings

    settings = Settings()
    if workers is not None:
        settings.workers = workers
    keyless = host in LOOPBACK
    _check_can_listen(host, port)  # before the banner says where it runs
    console.print(f"Mutoscope on [bold]http://{host}:{port}[/]  (studio: /, API: /v1, docs: /docs)")
    if keyless and _keys_exist(settings):
        console.print("API keys exist: API requests need one (Authorization: Bearer mts_…).")
    elif keyless:
        console.print("Keyless on loopback until the first API key is created.")
    # The event loop shares the GIL with the worker, import and verify threads: a 2 ms switch
    # interval (default 5 ms) bounds how long /healthz and small requests wait behind them.
    sys.setswitchinterval(0.002)
    uvicorn.run(
        serve_app(settings, keyless=keyless),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
    )


def _check_can_listen(host: str, port: int) -> None:
    """Exit with a plain message when ``host:port`` cannot be bound (in use, no such
    address, a privileged port)."""
    import socket

    try:
        # the family and options uvicorn binds with
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        hint = (
            "another server is using it; stop it or choose another --port"
            if exc.errno == errno.EADDRINUSE
            else "check --host and --port"
        )
        raise typer.Exit(
            _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; {hint}")
        ) from None


def _keys_exist(settings: Settings) -> bool:
    """Whether any API key exists yet (then keyless loopback use is over)."""
    from sqlalchemy.exc import SQLAlchemyError

    from mutoscope.storage.db import make_engine, session_factory
    from mutoscope.users import UserService

    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    try:
        return UserService(session_factory(engine)).any_key()
    except SQLAlchemyError:  # a new database without tables: no keys
        return False
    finally:
        engine.dispose()


def serve_app(settings: Settings, *, keyless: bool) -> Any:
    """The app ``serve`` runs. Keyless on loopback it answers only loopback ``Host`` names
    (and ``MUTOSCOPE_ALLOWED_HOSTS``, e.g. for a reverse proxy), against DNS rebinding."""
    from mutoscope.api.app import create_app
    from mutoscope.trust.hosts import LOOPBACK_HOSTS

    hosts = [*LOOPBACK_HOSTS, *settings.allowed_hosts] if keyless else None
    return create_app(settings, keyless=keyless, allowed_hosts=hosts)


@keys_app.command("create")
def keys_create(
    user: Annotated[
        str | None,
        typer.Option(
            help="Owner (created if new). Default: the single user, who owns the videos "
            "made by `mutoscope generate`."
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API key and print it once."""
    from mutoscope.studio.accounts import sole_account
    from mutoscope.users import LOCAL_USER, UserService

    services = _services()
    try:
        if user is None:
            # The same owner as `generate`: the studio's only account, else the local user.
            sole = sole_account(services.sessions)
            user = sole.name if sole is not None else LOCAL_USER
        users = UserService(services.sessions)
        user = user.strip()  # as the user is looked up and created
        is_new = users.by_name(user) is None
        new = users.create_key(user, name)
    finally:
        services.close()
    if as_json:
        made = {"id": new.record.id, "key": new.key, "user": user, "name": name}
        typer.echo(json.dumps({**made, "new_user": is_new}))
    else:
        typer.echo(new.key)
        if is_new:  # a mistyped --user would otherwise pass unnoticed
            console.print(f"New user '{escape_markup(user)}' created.", soft_wrap=True)
        console.print(  # soft_wrap: one whole line when piped (a log, a script)
            f"Key '{escape_markup(name)}' for {escape_markup(user)} ({new.record.id}). "
            "It is shown only once.",
            soft_wrap=not console.is_terminal,
        )


@keys_app.command("list")
def keys_list(
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List API keys (never their secrets)."""
    from mutoscope.users import UserService

    services = _services()
    try:
        rows = UserService(services.sessions).list_keys(user)
    finally:
        services.close()
    items: list[dict[str, Any]] = [
        {
            "id": k.id,
            "user": u,
            "name": k.name,
            "prefix": k.prefix,
            "created_at": k.created_at,
            "last_used_at": k.last_used_at,
            "revoked": k.revoked_at is not None,
        }
        for k, u in rows
    ]
    if as_json:
        typer.echo(json.dumps(items))
        return
    rows_out = [
        (
            i["id"],
            i["user"],
            i["name"],
            i["prefix"] + "…",
            time.strftime("%Y-%m-%d %H:%M", time.localtime(i["created_at"])),
            "yes" if i["revoked"] else "",
        )
        for i in items
    ]
    header = ("id", "user", "name", "prefix", "created", "revoked")
    if not sys.stdout.isatty():
        # Piped: tab-separated whole values (a table would truncate ids to the width).
        typer.echo("\t".join(header))
        for row in rows_out:
            typer.echo("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*header)
    for row in rows_out:
        table.add_row(*row)
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id or prefix.", metavar="KEY_ID")],
) -> None:
    """Revoke an API key; requests with it fail from now on."""
    from mutoscope.errors import MutoscopeError
    from mutoscope.users import UserService

    services = _services()
    try:
        record = UserService(services.sessions).revoke_key(key_id)
    except MutoscopeError as exc:
        raise typer.Exit(_fail(exc.message)) from exc
    finally:
        services.close()
    console.print(f"revoked {record.id}")


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="Login name.", metavar="NAME")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    password: Annotated[
        str | None, typer.Option(help="Studio password (prompted if omitted).")
    ] = None,
) -> None:
    """Create a studio account (the first one usually with --admin)."""
    from mutoscope.errors import MutoscopeError
    from mutoscope.studio.accounts import create_account
    from mutoscope.users import UserService

    services = _services()
    try:
        existing = UserService(services.sessions).by_name(name)
        if existing is not None and existing.password_hash:  # before asking for a password
            raise typer.Exit(_fail(f"the name '{name}' is taken; choose another"))
        pw = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        create_account(services.sessions, name, pw, is_admin=admin)
    except MutoscopeError as exc:
        raise typer.Exit(_fail(exc.message)) from exc
    finally:
        services.close()
    console.print(f"user {name} created{' (admin)' if admin else ''}")


def main() -> None:
    from mutoscope import oneshot

    oneshot.defer_full_collections()
    try:
        app()
    except SystemExit as exc:
        oneshot.exit_now(exc.code)  # returns only where the usual teardown is wanted
        raise
