from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import mutoscope.rights
from mutoscope.config import Settings
from mutoscope.rights.service import RightsService
from mutoscope.storage.db import make_engine, session_factory, upgrade

REGISTRY = """
entities:
  - id: example-mouse
    name: Example Mouse
    kind: character
    owner: Example Studios
    aliases: [Example Mouse, Exmouse]
    description: A cartoon mouse with huge round ears, red shorts and white gloves.
    policy: block
    references: [mouse.mp4]
  - id: sonic
    name: Sonic the Hedgehog
    kind: character
    owner: Sega
    aliases: [Sonic]
    description: >-
      A blue anthropomorphic hedgehog who runs at supersonic speed and collects golden rings.
    policy: block
  - id: licensed-cat
    name: Licensed Cat
    kind: character
    owner: Cat Co
    aliases: [Licensed Cat, Lycat]
    description: An orange tabby cat in a tuxedo.
    policy: license
    license:
      licensees: [partner]
      forbidden_themes: [violence]
      attribution: Licensed Cat is a trademark of Cat Co
  - id: jane-star
    name: Jane Star
    kind: person
    owner: Jane Star
    aliases: [Jane Star]
    description: A famous singer.
    policy: consent
"""


def textured_clip(seed: int, frames: int = 24, size: int = 256) -> np.ndarray:
    """A natural-looking synthetic clip: a 1/f-textured field the camera pans across."""
    rng = np.random.default_rng(seed)
    field = sum(
        cv2.resize(
            rng.normal(0, k**-0.5, (k, k, 3)).astype(np.float32),
            (size * 2, size * 2),
            interpolation=cv2.INTER_CUBIC,
        )
        for k in (4, 8, 16, 32)
    )
    return np.stack(
        [
            np.clip(
                field[int(t * 0.8) : int(t * 0.8) + size, int(t * 1.5) : int(t * 1.5) + size] * 90
                + 128,
                0,
                255,
            ).astype(np.uint8)
            for t in range(frames)
        ]
    )


@pytest.fixture(scope="session")
def registry_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mutoscope.media.video import encode_mp4

    folder = tmp_path_factory.mktemp("registry")
    encode_mp4(textured_clip(1), folder / "mouse.mp4")
    (folder / "registry.yaml").write_text(REGISTRY)
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "home")
    s.ensure_dirs()
    return s


@pytest.fixture
def service(settings: Settings, registry_dir: Path) -> RightsService:
    engine = make_engine(settings.db_url)
    upgrade(engine)
    svc = RightsService(settings, session_factory(engine))
    svc.import_file(registry_dir / "registry.yaml")
    yield svc
    engine.dispose()


STARTER = Path(mutoscope.rights.__file__).parent / "data" / "starter.yaml"


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> RightsService:
    """A service holding the shipped starter registry (one per test module)."""
    settings = Settings(home=tmp_path_factory.mktemp("starter") / "home")
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    svc = RightsService(settings, session_factory(engine))
    svc.import_file(STARTER)
    yield svc
    engine.dispose()


def blocked_as(svc: RightsService, prompt: str) -> str | None:
    """The entity a prompt is blocked as, or ``None`` when it is allowed."""
    d = svc.check_prompt(prompt, user_id="someone", record=False)
    return (d.entity or {}).get("id") if d.decision == "block" else None
