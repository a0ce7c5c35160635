"""``mutoscope train tiny``: train (or resume, or export) the embedded model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from mutoscope.clilazy import PlainTyper

app = PlainTyper(help="Train the embedded models.", no_args_is_help=True)


@app.callback()
def _train() -> None:
    """Train the embedded models (a callback keeps ``tiny`` a named subcommand)."""


@app.command()
def tiny(
    out: Annotated[
        Path, typer.Option(help="Run folder; training resumes from its checkpoint.")
    ] = Path("runs/tiny"),
    minutes: Annotated[float, typer.Option(help="Wall-clock budget for this run.")] = 120.0,
    ae_steps: Annotated[int, typer.Option(help="Autoencoder steps (stage 1).")] = 500,
    steps: Annotated[int, typer.Option(help="Total denoiser steps (stage 2).")] = 1_000_000,
    batch: Annotated[int, typer.Option(help="Denoiser batch size.")] = 32,
    device: Annotated[str, typer.Option(help="cpu or cuda (default: cuda when available).")] = "",
    threads: Annotated[
        int, typer.Option(help="torch CPU threads (1 is best on a busy machine).")
    ] = 2,
    export: Annotated[
        Path | None, typer.Option(help="Write safetensors from the checkpoint and exit.")
    ] = None,
    note: Annotated[str, typer.Option(help="Free text stored in the exported metadata.")] = "",
    finetune_decoder: Annotated[
        bool, typer.Option(help="Stage 1b: sharpen the decoder for --minutes (encoder frozen).")
    ] = False,
    prior_only: Annotated[
        bool, typer.Option(help="Train only the layout prior (fast; the UNet stays put).")
    ] = False,
    decay: Annotated[
        bool, typer.Option(help="Cosine-decay the learning rate over --minutes (final stretch).")
    ] = False,
    init_from: Annotated[
        Path | None,
        typer.Option(help="Warm-start a new --out from another run's checkpoint."),
    ] = None,
    caption_decoder: Annotated[
        bool,
        typer.Option(
            help="Stage 3: train the caption decoder for --minutes against --weights; "
            "with --export, attach it to --weights."
        ),
    ] = False,
    weights: Annotated[
        Path | None, typer.Option(help="Stage 3: the model it works with (default: shipped).")
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(help="Stage 3: peak learning rate (default 5e-4; lower to continue a run)."),
    ] = None,
    focus: Annotated[
        float, typer.Option(help="Stage 3: share of scenes drawn from the hard ones.")
    ] = 0.0,
    ghosts: Annotated[
        float, typer.Option(help="Stage 3: share of inputs given a stray blob to drop.")
    ] = 0.0,
) -> None:
    """Train mutoscope-tiny on the procedural shapes world (resumable; logs loss)."""
    import torch

    from mutoscope.models.tiny.train import TrainConfig, train
    from mutoscope.models.tiny.train import export as export_weights
    from mutoscope.models.tiny.train import finetune_decoder as finetune

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if caption_decoder:
        from mutoscope.models.tiny import train_decoder
        from mutoscope.models.tiny.pipeline import WEIGHTS

        if export is not None:
            ck = out / "caption_decoder.pt"
            typer.echo(train_decoder.attach(ck, weights or WEIGHTS, export))
        else:
            path = train_decoder.train_caption_decoder(
                out,
                minutes,
                weights,
                device or "cpu",
                threads,
                init_from=init_from,
                lr=lr or train_decoder.LR,
                focus=focus,
                ghosts=ghosts,
            )
            typer.echo(path)
        return
    if finetune_decoder:
        typer.echo(finetune(out, minutes, device or "cpu", threads))
        return
    if export is not None:
        typer.echo(export_weights(out / "checkpoint.pt", export, note))
        return
    cfg = TrainConfig(
        out=out,
        minutes=minutes,
        ae_steps=ae_steps,
        steps=steps,
        batch=batch,
        device=device or ("cuda" if torch.cuda.is_available() else "cpu"),
        threads=threads,
        prior_only=prior_only,
        decay=decay,
        init_from=init_from,
    )
    typer.echo(f"checkpoint: {train(cfg)}")
