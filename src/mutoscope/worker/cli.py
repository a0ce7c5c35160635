"""``mutoscope worker``: a process that only claims and runs jobs (no API).

Run one per GPU (``CUDA_VISIBLE_DEVICES=N mutoscope worker --models wan-2.2``) on any number of
machines that share the database (``MUTOSCOPE_DATABASE_URL``) and the file store
(``MUTOSCOPE_STORAGE_URL``). SIGTERM/SIGINT stop claiming and let running jobs finish for up to
``--grace`` seconds; a job still running after that is picked up by another worker when its
lease runs out.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated, Any

import typer


def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Jobs this process runs at once (threads).")
    ] = 1,
    models: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated models (or aliases) to serve; default: every installed model."
        ),
    ] = None,
    grace: Annotated[
        float, typer.Option(help="Seconds running jobs get to finish on SIGTERM.")
    ] = 30.0,
    sweep_every: Annotated[
        float,
        typer.Option(help="Seconds between sweeps of orphaned media (0: never)."),
    ] = 3600.0,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Claim and run video jobs from the shared queue (no API; see `serve --workers 0`)."""
    from mutoscope import oneshot
    from mutoscope.cli import calm_openmp

    calm_openmp()
    oneshot.long_running()
    share_cores(concurrency)
    from mutoscope.config import Settings
    from mutoscope.errors import MutoscopeError
    from mutoscope.services import build_services
    from mutoscope.worker.pool import Worker

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    services = build_services(Settings())
    try:
        served = _served_models(services, models)
    except MutoscopeError as exc:
        services.close()
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    _warn_if_signing_is_local(services.settings)
    pool = Worker(services, concurrency=concurrency, models=served)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pool.start()
    typer.echo(
        f"worker {pool.worker_id}: {concurrency} at a time, models {', '.join(sorted(served))}",
        err=True,
    )
    try:
        while not stop.wait(sweep_every or None):
            _sweep(services)
    finally:
        pool.stop(timeout=grace)
        services.close()


THREAD_POOLS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",
)
"""The environment variables that size the thread pools of torch (OpenMP), NumPy's BLAS and
OpenCV; each pool otherwise starts one thread per core."""


def share_cores(concurrency: int) -> None:
    """With several jobs at a time, give each job's thread pools its share of the cores this
    process may run on (``taskset``, cgroup cpusets), so that ``concurrency`` jobs do not
    start ``concurrency`` times as many threads as there are cores. A variable already set
    wins; with one job at a time the libraries' own defaults stand. Must run before those
    libraries are imported (they read the variables once)."""
    if concurrency <= 1:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for name in THREAD_POOLS:
        os.environ.setdefault(name, str(max(1, (cores or 1) // concurrency)))


def _served_models(services: Any, models: str | None) -> set[str]:
    """Installed backend names this worker claims jobs for (aliases resolved, checked)."""
    if not models:
        return {backend.name for backend in services.backends}
    return {services.backends.get(name.strip()).name for name in models.split(",") if name}


def _warn_if_signing_is_local(settings: Any) -> None:
    """Workers on a shared database must sign as one operator, not each with its own key."""
    from mutoscope.provenance.keys import signing_configured

    if not settings.db_url.startswith("sqlite") and not signing_configured(settings):
        logging.getLogger(__name__).warning(
            "no signing identity configured: this worker signs with keys from its own "
            "MUTOSCOPE_HOME, unlike the other processes. Run `mutoscope keys init-signing` "
            "once and give every process MUTOSCOPE_SIGNING_CERT and MUTOSCOPE_SIGNING_KEY."
        )


def _sweep(services: Any) -> None:
    """Delete media of videos and uploads that have no record (older than an hour); never fatal."""
    from mutoscope.files import FileRecord
    from mutoscope.storage.files import sweep_orphans
    from mutoscope.storage.records import VideoRecord

    try:
        with services.sessions() as s:
            # Uploads through /v1/files share the store under their ``file-…`` ids.
            live = set(s.scalars(s.query(VideoRecord.id).statement))
            live |= set(s.scalars(s.query(FileRecord.id).statement))
        gone = sweep_orphans(services.files, live)
    except Exception:
        logging.getLogger(__name__).warning("orphan sweep failed", exc_info=True)
        return
    if gone:
        logging.getLogger(__name__).info("removed media of %d deleted videos", len(gone))
