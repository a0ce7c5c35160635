from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import sessionmaker

from mutoscope.config import Settings
from mutoscope.media.video import encode_mp4
from mutoscope.provenance.footage import natural_clip
from mutoscope.provenance.service import ProvenanceService
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord
from mutoscope.worker.hooks import ProvenanceInfo


@pytest.fixture
def settings(home: Path) -> Settings:
    """Real settings on an isolated MUTOSCOPE_HOME (the ``home`` fixture sets the env too)."""
    s = Settings(home=home)
    s.ensure_dirs()
    return s


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker]:
    engine = make_engine(settings.db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def service(settings: Settings, sessions: sessionmaker) -> ProvenanceService:
    return ProvenanceService(settings, sessions)


@pytest.fixture(scope="session")
def clip() -> np.ndarray:
    """24 frames of textured, moving footage (small, so tests stay fast)."""
    return natural_clip(24, 288, 512, seed=3)


def add_video(
    sessions: sessionmaker,
    video_id: str,
    *,
    parent: str | None = None,
    published: bool = False,
    owner: str = "ada",
) -> None:
    with sessions() as s:
        if s.get(UserRecord, f"user_{owner}") is None:
            s.add(UserRecord(id=f"user_{owner}", name=owner, display_name=owner.title()))
        s.add(
            VideoRecord(
                id=video_id,
                owner_id=f"user_{owner}",
                model="sora-2",
                backend="mutoscope-tiny",
                status=COMPLETED,
                prompt="a lighthouse at dusk",
                size="512x288",
                seconds="4",
                mode="remix" if parent else "create",
                remixed_from_video_id=parent,
                created_at=1_700_000_000,
                published_at=1_700_000_100 if published else None,
                attributions=[],
                provenance={},
            )
        )
        s.commit()


def fix_payload(sessions: sessionmaker, video_id: str, payload: str) -> None:
    """Register the video's payload up front, so a test does not depend on a random draw."""
    from mutoscope.provenance.records import WatermarkRecord

    with sessions() as s:
        s.add(WatermarkRecord(payload=payload, video_id=video_id, algorithm="test"))
        s.commit()


def make_signed(
    service: ProvenanceService,
    clip: np.ndarray,
    path: Path,
    video_id: str,
    *,
    parent: tuple[str, Path] | None = None,
    attributions: list[dict[str, str]] | None = None,
) -> str | None:
    """What the worker does: watermark, encode, sign. Returns the payload."""
    frames, payload = service.watermark(clip.copy(), video_id=video_id)  # marks in place
    encode_mp4(frames, path)
    service.sign(
        path,
        ProvenanceInfo(
            video_id=video_id,
            model="sora-2",
            prompt="a lighthouse at dusk",
            created_at=1_700_000_000,
            owner="ada",
            mode="remix" if parent else "create",
            parent_video_id=parent[0] if parent else None,
            parent_path=parent[1] if parent else None,
            attributions=attributions or [],
            watermark_payload=payload,
        ),
    )
    return payload
