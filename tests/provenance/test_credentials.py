"""C2PA signing and verification with the reference reader (c2pa-python), real MP4s."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
from sqlalchemy.orm import sessionmaker

from mutoscope.config import Settings
from mutoscope.provenance.credentials import TRAINED_ALGORITHMIC_MEDIA, read_credentials
from mutoscope.provenance.keys import init_signing, trust_anchors
from mutoscope.provenance.service import ProvenanceService

from .conftest import add_video, make_signed


def test_signed_video_verifies_valid_and_trusted(
    service: ProvenanceService, sessions: sessionmaker, clip: np.ndarray, tmp_path: Path
) -> None:
    add_video(sessions, "video_a", published=True)
    mp4 = tmp_path / "a.mp4"
    payload = make_signed(
        service,
        clip,
        mp4,
        "video_a",
        attributions=[
            {
                "entity_id": "ent_1",
                "name": "Captain Comet",
                "owner": "Comet Co",
                "attribution": "Captain Comet © Comet Co, licensed",
            }
        ],
    )

    report = service.verify(mp4)

    assert report.c2pa.present and report.c2pa.valid and report.c2pa.trusted
    summary = report.c2pa.summary
    created = summary["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert created["software_agent"].startswith("Mutoscope ")
    assert created["parameters"]["model"] == "sora-2"
    assert summary["soft_binding"]["value"] == payload
    assert summary["attributions"][0]["name"] == "Captain Comet"
    assert report.watermark.found and report.watermark.payload == payload
    assert report.record is not None
    assert (report.record.video_id, report.record.matched_by) == ("video_a", "c2pa")
    assert report.record.owner == "Ada" and report.record.published


def test_untrusted_without_our_root_but_still_valid(
    service: ProvenanceService, clip: np.ndarray, tmp_path: Path
) -> None:
    mp4 = tmp_path / "a.mp4"
    make_signed(service, clip, mp4, "video_a")

    report = read_credentials(mp4.read_bytes(), trust_anchors=b"")

    assert report.valid and not report.trusted


def test_flipping_one_byte_makes_credentials_invalid(
    service: ProvenanceService, settings: Settings, clip: np.ndarray, tmp_path: Path
) -> None:
    mp4 = tmp_path / "a.mp4"
    make_signed(service, clip, mp4, "video_a")
    data = bytearray(mp4.read_bytes())
    data[data.find(b"mdat") + 64] ^= 0x01

    report = read_credentials(bytes(data), trust_anchors=trust_anchors(settings))

    assert report.present and not report.valid and not report.trusted
    assert any("mismatch" in f for f in report.failures)


def test_remix_carries_parent_as_c2pa_ingredient(
    service: ProvenanceService, sessions: sessionmaker, clip: np.ndarray, tmp_path: Path
) -> None:
    add_video(sessions, "video_parent")
    add_video(sessions, "video_child", parent="video_parent")
    parent = tmp_path / "parent.mp4"
    make_signed(service, clip, parent, "video_parent")
    child = tmp_path / "child.mp4"
    make_signed(service, clip[::-1].copy(), child, "video_child", parent=("video_parent", parent))

    report = service.verify(child)

    assert report.c2pa.trusted
    ingredient = report.c2pa.summary["ingredients"][0]
    assert ingredient["relationship"] == "parentOf"
    assert ingredient["instance_id"] == "video_parent" and ingredient["has_manifest"]
    actions = [a["action"] for a in report.c2pa.summary["actions"]]
    assert actions == ["c2pa.opened", "c2pa.edited"]
    assert report.c2pa.summary["ai_generated"]
    assert report.record is not None and report.record.remixed_from_video_id == "video_parent"


def test_signing_keys_are_created_on_first_use_with_0600(
    service: ProvenanceService, settings: Settings, clip: np.ndarray, tmp_path: Path
) -> None:
    make_signed(service, clip[:4], tmp_path / "a.mp4", "video_a")

    files = sorted(settings.keys_dir.iterdir())
    assert [f.name for f in files] == [
        "c2pa-root.key",
        "c2pa-root.pem",
        "c2pa-signing-chain.pem",
        "c2pa-signing.key",
    ]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_init_signing_keeps_existing_keys_unless_forced(tmp_path: Path) -> None:
    paths = init_signing(tmp_path / "keys")
    before = paths["c2pa-signing.key"].read_bytes()

    assert init_signing(tmp_path / "keys")["c2pa-signing.key"].read_bytes() == before
    assert init_signing(tmp_path / "keys", force=True)["c2pa-signing.key"].read_bytes() != before


def test_operator_certificate_chain_is_used_and_trusted(
    sessions: sessionmaker, clip: np.ndarray, tmp_path: Path, home: Path
) -> None:
    own = init_signing(tmp_path / "operator-keys", org="Newsroom")
    settings = Settings(
        home=home, signing_cert=own["c2pa-signing-chain.pem"], signing_key=own["c2pa-signing.key"]
    )
    service = ProvenanceService(settings, sessions)
    mp4 = tmp_path / "a.mp4"
    make_signed(service, clip[:4], mp4, "video_a")

    report = service.verify(mp4)

    assert report.c2pa.trusted
    assert report.c2pa.summary["signer"]["issuer"] == "Newsroom"
    assert not (settings.keys_dir / "c2pa-signing.key").exists()
