"""Tiny Wan / LTX / CogVideoX checkpoints saved once per session, and a models.toml writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.diffusers_models import DiffusersBackend, build_backends, read_models_file
from mutoscope.testing.tiny_pipelines import BUILDERS, models_toml_entry, save_tiny_pipeline


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{name: dir}`` for every tiny pipeline, saved with ``save_pretrained``."""
    root = tmp_path_factory.mktemp("tiny-checkpoints")
    return {name: save_tiny_pipeline(name, root / name) for name in BUILDERS}


WriteModels = Callable[..., Path]


@pytest.fixture
def write_models(home: Path, tiny_checkpoints: dict[str, Path]) -> WriteModels:
    """Write ``home/models.toml`` from ``(id, tiny name, extra fields)`` entries."""

    def write(*entries: tuple[str, str, dict[str, Any]], pool: str = "") -> Path:
        home.mkdir(parents=True, exist_ok=True)
        tables = [
            models_toml_entry(model_id, name, **{"path": tiny_checkpoints[name], **extra})
            for model_id, name, extra in entries
        ]
        text = pool + "\n" + "\n".join(tables)
        path = home / "models.toml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def load_backend(write_models: WriteModels) -> Callable[..., DiffusersBackend]:
    """Write a one-model models.toml and build its backend the way the server does."""

    def load(name: str, model_id: str | None = None, **extra: Any) -> DiffusersBackend:
        path = write_models((model_id or f"tiny-{name}", name, extra))
        (backend,) = build_backends(read_models_file(path))
        return backend

    return load


def request(**fields: Any) -> GenerationRequest:
    fields.setdefault("prompt", "a red cat dancing on the beach")
    fields.setdefault("seconds", "4")
    return GenerationRequest(**fields)


def parent_clip(frames: int = 12, size: int = 16, seed: int = 1) -> np.ndarray:
    """A parent video for remix tests: a bright square moving over dark noise."""
    rng = np.random.default_rng(seed)
    clip = rng.integers(0, 60, size=(frames, size, size, 3), dtype=np.uint8)
    for i in range(frames):
        x = i % (size - 4)
        clip[i, 4:10, x : x + 4] = 250
    return clip


class Progress:
    """Records progress fractions; raises ``exc`` once ``cancel_at`` steps were reported."""

    def __init__(self, cancel_at: int | None = None, exc: type[BaseException] | None = None):
        self.values: list[float] = []
        self.cancel_at = cancel_at
        self.exc = exc

    def __call__(self, fraction: float) -> None:
        self.values.append(fraction)
        if self.cancel_at is not None and self.exc and len(self.values) >= self.cancel_at:
            raise self.exc()
