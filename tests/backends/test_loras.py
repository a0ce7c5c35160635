"""LoRAs and presets on tiny saved checkpoints: tiny LoRAs made with peft and saved with the
pipeline's ``save_lora_weights``, declared in a real ``models.toml`` and loaded through it."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mutoscope.backends.diffusers_models import (
    DiffusersBackend,
    ModelsFileError,
    build_backends,
    read_models_file,
)
from mutoscope.errors import InvalidRequest
from mutoscope.testing.tiny_pipelines import models_toml_entry
from tests.backends.conftest import Progress, request

pytest.importorskip("peft")

FAST = """
[models.presets.fast]
description = "one step with the distilled LoRA"
loras = ["style"]
steps = 1
guidance = 1.0
shift = 2.0
scheduler = "FlowMatchEulerDiscreteScheduler"
"""


@pytest.fixture(scope="module")
def tiny_loras(tiny_checkpoints: dict[str, Path], tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    from mutoscope.testing.tiny_loras import save_tiny_lora

    root = tmp_path_factory.mktemp("loras")
    return {
        name: save_tiny_lora(tiny_checkpoints[name], root / name / "style.safetensors")
        for name in ("wan", "ltx")
    }


Models = Callable[..., list[DiffusersBackend]]


@pytest.fixture
def models(home: Path, tiny_checkpoints: dict[str, Path]) -> Models:
    """Write ``home/models.toml`` from ``(id, tiny name, extra TOML)`` and build its backends."""

    def write(*entries: tuple[str, str, str]) -> list[DiffusersBackend]:
        home.mkdir(parents=True, exist_ok=True)
        text = "\n".join(
            models_toml_entry(model_id, name, path=tiny_checkpoints[name]) + extra
            for model_id, name, extra in entries
        )
        (home / "models.toml").write_text(text)
        return build_backends(read_models_file(home / "models.toml"))

    return write


def lora_table(path: Path, name: str = "style", **fields: object) -> str:
    extra = "".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in fields.items()
    )
    return f'\n[[models.loras]]\nname = "{name}"\npath = "{path}"\n{extra}'


def frames(
    backend: DiffusersBackend, progress: Progress | None = None, **options: object
) -> np.ndarray:
    size = backend.native_sizes[0]
    video = backend.generate(request(size=size, seed=3, options=options), progress or Progress())
    return video.frames.astype(int)


@pytest.mark.parametrize("family", ["wan", "ltx"])
def test_a_requested_lora_changes_the_clip_and_the_next_job_runs_without_it(
    models: Models, tiny_loras: dict[str, Path], family: str
) -> None:
    (backend,) = models(("tiny", family, lora_table(tiny_loras[family])))
    assert backend.lora_names() == ("style",)

    plain = frames(backend)
    styled = frames(backend, loras=[{"name": "style"}])
    after = frames(backend)
    at_zero = frames(backend, loras=[{"name": "style", "scale": 0.0}])

    assert np.abs(styled - plain).mean() > 0.5
    assert np.array_equal(after, plain)  # switched off again: nothing leaks into the next job
    assert np.array_equal(at_zero, plain)
    assert backend.pool.loads == {"tiny": 1}  # adapters switch on the warm pipeline


def test_a_fused_lora_is_always_applied_and_cannot_be_requested(
    models: Models, tiny_loras: dict[str, Path]
) -> None:
    lora = tiny_loras["wan"]
    per_request, fused = models(
        ("per-request", "wan", lora_table(lora, scale=0.7)),
        ("fused", "wan", lora_table(lora, scale=0.7, fuse=True)),
    )

    assert fused.lora_names() == ()
    # Fused weights and a live adapter compute the same thing (up to float rounding).
    assert np.abs(frames(fused) - frames(per_request, loras=[{"name": "style"}])).max() <= 1
    assert not np.array_equal(frames(fused), frames(per_request))
    with pytest.raises(InvalidRequest, match="no LoRA named 'style'; it has none") as err:
        fused.check(request(size="16x16", options={"loras": [{"name": "style"}]}))
    assert err.value.param == "loras"
    with pytest.raises(InvalidRequest, match="has no LoRA named 'grain'; it has \"style\""):
        per_request.check(request(size="16x16", options={"loras": [{"name": "grain"}]}))


def test_fast_preset_bundles_its_lora_steps_guidance_and_scheduler(
    models: Models, tiny_loras: dict[str, Path]
) -> None:
    (backend,) = models(("tiny", "wan", lora_table(tiny_loras["wan"]) + FAST))
    assert backend.preset_names() == ("fast",)
    with backend.pool.use(backend.spec) as model:
        pipe = model.pipeline
    shifts: list[float] = []

    class Watch(Progress):
        def __call__(self, fraction: float) -> None:
            shifts.append(pipe.scheduler.config["shift"])
            super().__call__(fraction)

    fast, overridden = Watch(), Progress()
    clip = frames(backend, fast, preset="fast")
    frames(backend, overridden, preset="fast", steps=2)  # the request's own options win

    assert len(fast.values) == 2 and len(overridden.values) == 3  # 1 and 2 steps, then done
    assert set(shifts) == {2.0}  # the preset's scheduler ran
    assert type(pipe.scheduler).__name__ == "FlowMatchEulerDiscreteScheduler"
    assert pipe.scheduler.config["shift"] == 7.0  # ... and the model's own is back
    one_step_plain = frames(backend, steps=1, guidance=1.0)
    assert not np.array_equal(clip, one_step_plain)
    with pytest.raises(InvalidRequest, match='preset must be one of "fast"') as err:
        backend.check(request(size="16x16", options={"preset": "slow"}))
    assert err.value.param == "preset"


def test_models_toml_mistakes_name_the_lora_or_preset(
    models: Models, tiny_loras: dict[str, Path], home: Path
) -> None:
    bad_preset = lora_table(tiny_loras["wan"]) + FAST.replace('["style"]', '["grain"]')
    with pytest.raises(ModelsFileError, match=r"presets\.fast: no LoRA named 'grain'"):
        models(("tiny", "wan", bad_preset))
    with pytest.raises(ModelsFileError, match="scheduler must be a diffusers scheduler"):
        models(("tiny", "wan", lora_table(tiny_loras["wan"]) + FAST.replace("FlowMatch", "Fancy")))
    with pytest.raises(ModelsFileError, match=r"loras #1 .*unknown keys \['weight'\]"):
        models(("tiny", "wan", lora_table(tiny_loras["wan"], weight=1)))
    # A LoRA file that is not there skips only that model, naming the file.
    missing = lora_table(home / "nowhere.safetensors")
    assert [b.name for b in models(("gone", "wan", missing), ("ok", "ltx", ""))] == ["ok"]


def test_a_lora_that_does_not_load_fails_the_job_naming_it_and_leaves_the_model_clean(
    models: Models, tiny_loras: dict[str, Path], tmp_path: Path
) -> None:
    from mutoscope.errors import GenerationFailed

    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    (backend,) = models(
        ("tiny", "wan", lora_table(tiny_loras["wan"]) + lora_table(broken, name="broken"))
    )
    plain = frames(backend)

    with pytest.raises(GenerationFailed, match="LoRA 'broken' could not be loaded") as err:
        frames(backend, loras=[{"name": "broken"}])

    assert err.value.code == "lora_failed"
    assert np.array_equal(frames(backend), plain)


@pytest.mark.slow
def test_sdk_requests_loras_and_presets_from_a_real_server(
    tmp_path: Path, tiny_checkpoints: dict[str, Path], tiny_loras: dict[str, Path]
) -> None:
    import openai

    from mutoscope.media import decode_mp4
    from tests.e2e.conftest import make_server

    server = make_server(tmp_path, MUTOSCOPE_WATERMARK="false")
    entry = models_toml_entry("wan-tiny", "wan", path=tiny_checkpoints["wan"])
    (server.home / "models.toml").write_text(entry + lora_table(tiny_loras["wan"]) + FAST)
    server.start()
    try:
        key = server.cli("keys", "create", "--user", "lora", "--name", "sdk")
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
        common = {"prompt": "a red cat dancing", "model": "wan-tiny", "size": "16x16"}

        def make(**extra: object) -> np.ndarray:
            video = client.videos.create_and_poll(**common, extra_body={"seed": 3, **extra})  # type: ignore[arg-type]
            assert video.status == "completed", video.error
            return decode_mp4(io.BytesIO(client.videos.download_content(video.id).read()).read())

        listed = client.models.retrieve("wan-tiny").model_extra or {}
        assert listed["presets"] == ["fast"] and listed["loras"] == ["style"]
        plain, styled = make(), make(lora="style:1.5")
        assert not np.array_equal(plain, styled)
        assert make(quality="fast").shape == plain.shape
        with pytest.raises(openai.BadRequestError) as err:
            client.videos.create(**common, extra_body={"lora": "grain"})  # type: ignore[arg-type]
        assert err.value.body["param"] == "loras"  # type: ignore[index]
        assert 'it has "style"' in err.value.body["message"]  # type: ignore[index]
    finally:
        server.stop()
