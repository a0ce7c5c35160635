"""models.toml parsing, registration, the warm LRU pool, cancellation and memory options."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from mutoscope.backends.diffusers_models import (
    ModelsFileError,
    build_backends,
    read_models_file,
    register_backends,
)
from mutoscope.backends.registry import load_backends
from mutoscope.config import Settings
from mutoscope.errors import JobCancelled
from tests.backends.conftest import Progress, request


def test_no_models_file_registers_nothing(home: Path) -> None:
    registered: list = []
    register_backends(registered.append, Settings(home=home))
    assert registered == []


def test_one_backend_per_entry_with_aliases_and_missing_weights_skipped(
    home: Path, write_models, caplog: pytest.LogCaptureFixture
) -> None:
    write_models(
        ("wan-small", "wan", {"aliases": ["sora-2"], "description": "Wan tiny"}),
        ("cog-small", "cogvideox", {}),
        ("gone", "ltx", {"path": str(home / "not-downloaded")}),
    )
    settings = Settings(home=home, model_aliases={})

    with caplog.at_level(logging.WARNING):
        registry = load_backends(settings, hooks=[register_backends])

    assert sorted(b.name for b in registry) == ["cog-small", "wan-small"]
    assert registry.get("sora-2").name == "wan-small"
    assert registry.get("wan-small").description == "Wan tiny"
    assert "not-downloaded" in caplog.text and "docs/models.md" in caplog.text


def test_checkpoint_loads_offline_from_the_hugging_face_cache(
    tmp_path: Path, write_models, tiny_checkpoints, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    snapshot = cache / "models--acme--tiny-wan" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_checkpoints["wan"], snapshot)
    (cache / "models--acme--tiny-wan" / "refs").mkdir()
    (cache / "models--acme--tiny-wan" / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    path = write_models(("cached", "wan", {}))
    path.write_text(
        path.read_text().replace(f'path = "{tiny_checkpoints["wan"]}"', 'repo = "acme/tiny-wan"')
    )

    (backend,) = build_backends(read_models_file(path))
    video = backend.generate(request(size="16x16"), Progress())

    assert backend.checkpoint == snapshot
    assert video.frames.shape == (8, 16, 16, 3)


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ('id = "x"\nfamily = "sora"\npath = "."', "family must be one of"),
        ('id = "x"\nfamily = "wan"', "exactly one of 'path'"),
        ('id = "x"\nfamily = "wan"\npath = "."\nrepo = "a/b"', "exactly one of 'path'"),
        ('id = "x"\nfamily = "wan"\npath = "."\nsteps_count = 3', "unknown keys ['steps_count']"),
        ('id = "x"\nfamily = "wan"\npath = "."\ndtype = "fp8"', "dtype must be one of"),
        ('id = "x"\nfamily = "wan"\npath = "."\nsizes = ["big"]', "sizes must look like"),
        (
            'id = "x"\nfamily = "wan"\npath = "."\ndevice = "cpu"\n'
            '[models.memory]\noffload = "model"',
            "needs a GPU",
        ),
        ('id = "x"\nfamily = "wan"\npath = "."\n[models.memory]\ncache = "mag"', "mag_ratios"),
        ('id = "x"\nfamily = "wan"\npath = "."\n[models.memory]\nattention = "fast"', "'flash'"),
    ],
)
def test_models_file_errors_name_the_entry_and_fix(tmp_path: Path, entry: str, needle: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(f"[[models]]\n{entry}\n")
    with pytest.raises(ModelsFileError, match=r"#1 \(x\)") as err:
        read_models_file(path)
    assert needle in str(err.value)


def test_second_job_reuses_the_warm_pipeline(load_backend) -> None:
    backend = load_backend("wan")
    backend.generate(request(size="16x16"), Progress())
    backend.generate(
        request(size="16x16", mode="remix", source_video=np.zeros((5, 16, 16, 3), np.uint8)),
        Progress(),
    )
    assert backend.pool.loads == {"tiny-wan": 1}
    assert backend.pool.loaded() == ["tiny-wan"]


def test_least_recently_used_model_is_evicted_over_budget(write_models) -> None:
    path = write_models(
        ("a", "wan", {}), ("b", "cogvideox", {}), pool="[pool]\nbudget_gb = 0.0001\n"
    )
    wan, cog = build_backends(read_models_file(path))
    assert wan.pool is cog.pool

    wan.generate(request(size="16x16"), Progress())
    cog.generate(request(size="16x16"), Progress())
    assert wan.pool.loaded() == ["b"]
    wan.generate(request(size="16x16"), Progress())

    assert wan.pool.loaded() == ["a"]
    assert wan.pool.loads == {"a": 2, "b": 1}
    assert wan.pool.evictions == {"a": 1, "b": 1}


def test_models_within_budget_stay_warm_together(write_models) -> None:
    path = write_models(("a", "wan", {}), ("b", "cogvideox", {}), pool="[pool]\nbudget_gb = 1\n")
    wan, cog = build_backends(read_models_file(path))
    wan.generate(request(size="16x16"), Progress())
    cog.generate(request(size="16x16"), Progress())
    wan.generate(request(size="16x16"), Progress())
    assert wan.pool.loaded() == ["b", "a"] and wan.pool.loads == {"a": 1, "b": 1}
    assert 0 < wan.pool.used_bytes() < 10 * 2**20


def test_cancelling_stops_denoising_at_the_next_step(load_backend) -> None:
    backend = load_backend("wan", steps=6)
    progress = Progress(cancel_at=2, exc=JobCancelled)

    with pytest.raises(JobCancelled):
        backend.generate(request(size="16x16"), progress)

    assert len(progress.values) == 2  # not 6 steps + decode
    after = Progress()
    video = backend.generate(request(size="16x16"), after)  # the warm pipeline still works
    assert video.frames.shape == (8, 16, 16, 3) and len(after.values) == 7
    assert backend.pool.loads == {"tiny-wan": 1}


def test_close_releases_the_warm_pipeline(load_backend) -> None:
    backend = load_backend("cogvideox")
    backend.generate(request(size="16x16"), Progress())
    backend.close()
    assert backend.pool.loaded() == []


def test_group_offload_and_first_block_cache_run_and_offload_is_exact(load_backend) -> None:
    plain = load_backend("wan", "plain").generate(request(size="16x16"), Progress()).frames
    offloaded = load_backend(
        "wan", "offloaded", memory={"offload": "group-leaf", "vae_tiling": True}
    )
    cached = load_backend("wan", "cached", memory={"cache": "first-block", "cache_threshold": 0.2})

    assert np.array_equal(offloaded.generate(request(size="16x16"), Progress()).frames, plain)
    assert cached.generate(request(size="16x16"), Progress()).frames.shape == plain.shape


def test_fp8_storage_keeps_denoiser_weights_in_float8(load_backend) -> None:
    import torch

    backend = load_backend("ltx", memory={"fp8_storage": True, "attention": "native"})
    video = backend.generate(request(size="32x32"), Progress())
    with backend.pool.use(backend.spec) as model:
        dtypes = {p.dtype for p in model.pipeline.transformer.parameters()}
    assert torch.float8_e4m3fn in dtypes
    assert video.frames.shape == (8, 32, 32, 3)


def test_models_list_shows_installed_and_missing_models(
    home: Path, write_models, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mutoscope.backends.models_cli import app

    write_models(
        ("wan-small", "wan", {"aliases": ["sora-2"]}),
        ("gone", "ltx", {"path": str(home / "not-downloaded")}),
    )
    monkeypatch.setenv("COLUMNS", "250")
    result = CliRunner().invoke(app, ["list"])

    assert result.exit_code == 0, result.output
    wan_row = next(line for line in result.output.splitlines() if "wan-small" in line)
    gone_row = next(line for line in result.output.splitlines() if "gone" in line)
    assert "yes" in wan_row and "text, video" in wan_row and "sora-2" in wan_row
    assert "missing" in gone_row


def test_models_check_loads_and_reports_memory(write_models, monkeypatch) -> None:
    from typer.testing import CliRunner

    from mutoscope.backends.models_cli import app

    write_models(("cog-small", "cogvideox", {}))
    monkeypatch.setenv("COLUMNS", "250")
    result = CliRunner().invoke(app, ["check", "cog-small", "--generate"])

    assert result.exit_code == 0, result.output
    assert "loaded cog-small (CogVideoXPipeline)" in result.output
    assert "transformer" in result.output and "MiB" in result.output
    assert "generated 8 frames at 16x16" in result.output
    unknown = CliRunner().invoke(app, ["check", "nope"])
    assert unknown.exit_code == 1 and "cog-small" in unknown.output


@pytest.mark.weights
@pytest.mark.gpu
def test_real_checkpoints_make_a_short_clip() -> None:
    """Every installed model in ``$MUTOSCOPE_TEST_WEIGHTS`` (a models.toml) makes a clip."""
    import os

    import torch
    from PIL import Image

    path = os.environ.get("MUTOSCOPE_TEST_WEIGHTS")
    if not path:
        pytest.skip("set MUTOSCOPE_TEST_WEIGHTS to a models.toml listing downloaded checkpoints")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    backends = build_backends(read_models_file(Path(path)))
    if not backends:
        pytest.skip("none of the declared checkpoints are on this machine")
    for backend in backends:
        size = backend.native_sizes[0]
        width, height = (int(v) for v in size.split("x"))
        image = Image.new("RGB", (width, height), (200, 60, 30)) if backend.accepts_image else None
        video = backend.generate(
            request(size=size, seconds=backend.seconds[0], image=image, options={"steps": 4}),
            Progress(),
        )
        assert video.frames.shape == (backend.output_frames(backend.seconds[0]), height, width, 3)
        assert video.frames.std() > 1
        backend.close()


def test_warm_model_keeps_serving_while_another_loads(write_models) -> None:
    import threading

    from mutoscope.backends.diffusers_models import load_pipeline

    path = write_models(("a", "wan", {}), ("b", "cogvideox", {}), pool="[pool]\nbudget_gb = 1\n")
    wan, cog = build_backends(read_models_file(path))
    wan.generate(request(size="16x16"), Progress())  # "a" is warm
    release = threading.Event()

    def slow_loader(spec):  # type: ignore[no-untyped-def]
        assert release.wait(30)
        return load_pipeline(spec)

    wan.pool.loader = slow_loader
    results: list = []
    loaders = [
        threading.Thread(
            target=lambda: results.append(cog.generate(request(size="16x16"), Progress()))
        )
        for _ in range(2)
    ]
    for thread in loaders:
        thread.start()

    warm = wan.generate(request(size="16x16"), Progress())  # does not wait for "b" to load
    assert warm.frames.shape == (8, 16, 16, 3) and len(results) == 0
    release.set()
    for thread in loaders:
        thread.join(60)

    assert len(results) == 2
    assert wan.pool.loads == {"a": 1, "b": 1}  # two jobs on cold "b", one load


@pytest.mark.parametrize(
    ("name", "size"), [("wan", "16x16"), ("ltx", "32x32"), ("cogvideox", "16x16")]
)
def test_mutoscope_generate_makes_an_mp4_with_each_family(
    tmp_path: Path, write_models, name: str, size: str
) -> None:
    """``mutoscope generate --model ID`` with the full stack (rights, provenance) on a tiny
    checkpoint of each family."""
    import json

    from typer.testing import CliRunner

    from mutoscope.cli import app
    from mutoscope.media.video import decode_mp4

    write_models((f"tiny-{name}", name, {}))
    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "a red kite over a green hill",
            "--model",
            f"tiny-{name}",
            "--size",
            size,
            "-o",
            str(out),
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{") :])["status"] == "completed"
    width, height = (int(v) for v in size.split("x"))
    assert decode_mp4(out).shape == (8, height, width, 3)


def test_a_model_that_fails_to_load_fails_the_job_naming_the_model(
    load_backend, tiny_checkpoints, tmp_path: Path
) -> None:
    from mutoscope.errors import GenerationFailed

    broken = shutil.copytree(tiny_checkpoints["wan"], tmp_path / "broken")
    backend = load_backend("wan", path=str(broken))
    (broken / "transformer" / "config.json").write_text("{ not json")
    with pytest.raises(GenerationFailed, match="model 'tiny-wan' could not be loaded"):
        backend.generate(request(size="16x16"), Progress())
    assert backend.pool.loaded() == []


def test_entries_that_cannot_work_are_skipped_with_the_reason(
    home: Path, write_models, tiny_checkpoints, caplog: pytest.LogCaptureFixture
) -> None:
    write_models(
        ("good", "wan", {}),
        ("odd-size", "ltx", {"sizes": ["48x48"]}),
        ("wrong-family", "cogvideox", {"path": str(tiny_checkpoints["ltx"])}),
    )
    with caplog.at_level(logging.ERROR):
        registry = load_backends(Settings(home=home), hooks=[register_backends])

    assert [b.name for b in registry] == ["good"]
    assert "size 48x48 is not made of multiples of 32" in caplog.text
    assert "LTXPipeline is not a CogVideoX" in caplog.text
    assert "declare it with family = 'ltx'" in caplog.text  # the family that loads it


def test_a_malformed_models_file_registers_nothing_and_says_why(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home.mkdir(parents=True)
    (home / "models.toml").write_text("[[models]]\nid = 'x'\nfamily = 'wan'\npath = \n")
    registered: list = []
    with caplog.at_level(logging.ERROR):
        register_backends(registered.append, Settings(home=home))
    assert registered == []
    assert "models.toml" in caplog.text
