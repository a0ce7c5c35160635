"""Verify: stripped metadata, destroyed watermarks, unknown files, the HTTP route and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from mutoscope.api import errors
from mutoscope.api.provenance import router
from mutoscope.config import Settings
from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.provenance.cli import app as cli_app
from mutoscope.provenance.footage import natural_clip
from mutoscope.provenance.service import ProvenanceService
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.users import UserService

from .conftest import add_video, fix_payload, make_signed


def reencode_with_pyav(src: Path, dst: Path) -> None:
    """What a platform does on upload: decode and encode again; no metadata survives."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        first = True
        for frame in inp.decode(video=0):
            if first:
                stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, "yuv420p"
                first = False
            img = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            out.mux(stream.encode(img))
        out.mux(stream.encode(None))


# Payloads whose copies lost the mark when the detector combined frames only from equal
# weights: the panning clip keeps the mark only in its first frame after the second encode
@pytest.mark.parametrize("fixed", ["bca51ed7800b", "0e7fdb163a4b"])
def test_reencoded_copy_has_no_c2pa_but_watermark_finds_record(
    service: ProvenanceService,
    sessions: sessionmaker,
    clip: np.ndarray,
    tmp_path: Path,
    fixed: str,
) -> None:
    add_video(sessions, "video_a")
    fix_payload(sessions, "video_a", fixed)
    signed = tmp_path / "a.mp4"
    payload = make_signed(service, clip, signed, "video_a")
    copy = tmp_path / "copy.mp4"
    reencode_with_pyav(signed, copy)

    report = service.verify(copy)

    assert not report.c2pa.present
    assert report.watermark.found and report.watermark.payload == payload
    assert report.watermark.known
    assert report.record is not None
    assert (report.record.video_id, report.record.matched_by) == ("video_a", "watermark")
    assert report.record.model == "mutoscope-tiny" and report.record.owner == "Ada"
    assert not report.record.published
    assert "traced by its watermark" in report.verdict


def test_mirrored_copy_is_traced_by_the_rights_layer_perceptual_search(
    service: ProvenanceService,
    settings: Settings,
    sessions: sessionmaker,
    clip: np.ndarray,
    tmp_path: Path,
) -> None:
    rights_service = pytest.importorskip("mutoscope.rights.service")
    rights = rights_service.RightsService(settings, sessions)
    add_video(sessions, "video_b", published=True)
    signed = tmp_path / "b.mp4"
    make_signed(service, clip, signed, "video_b")
    rights.index_output(video_id="video_b", frames=decode_mp4(signed))
    mirrored = tmp_path / "mirrored.mp4"
    encode_mp4(np.ascontiguousarray(decode_mp4(signed)[:, :, ::-1]), mirrored, crf=28)

    report = service.verify(mirrored, match_outputs=rights.match_outputs)

    assert not report.c2pa.present and not report.watermark.found  # both gone
    assert report.record is not None and report.record.matched_by == "perceptual_hash"
    assert report.record.video_id == "video_b" and report.record.published
    assert report.record.matched_fraction is not None and report.record.matched_fraction > 0.5


def test_unknown_video_gets_honest_no_evidence(
    service: ProvenanceService, clip: np.ndarray, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.mp4"
    encode_mp4(clip, plain)

    report = service.verify(plain, match_outputs=lambda frames: [])

    assert not report.evidence_found and report.record is None
    assert report.verdict.startswith("No evidence found")
    assert report.to_dict()["evidence_found"] is False


def test_one_second_excerpt_uploaded_as_bytes_is_traced(
    service: ProvenanceService, sessions: sessionmaker, tmp_path: Path
) -> None:
    add_video(sessions, "video_a")
    fix_payload(sessions, "video_a", "5a17c0ffee42")
    signed = tmp_path / "a.mp4"
    make_signed(service, natural_clip(48, 360, 640, seed=5), signed, "video_a")
    frames = decode_mp4(signed)
    excerpt = tmp_path / "excerpt.mp4"
    encode_mp4(frames[12:36], excerpt, crf=23)  # one second from the middle, re-encoded

    report = service.verify(excerpt.read_bytes(), filename="clip.mp4")

    assert not report.c2pa.present
    assert report.record is not None and report.record.video_id == "video_a"


@pytest.fixture
def client(settings: Settings, service: ProvenanceService) -> TestClient:
    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    app.state.services = SimpleNamespace(settings=settings, provenance=service, rights=object())
    app.state.users, app.state.keyless = UserService(service.sessions), False
    return TestClient(app)


def test_non_video_upload_gets_4xx_openai_error(client: TestClient) -> None:
    res = client.post(
        "/v1/provenance/verify", files={"file": ("notes.txt", b"hello, not a video", "text/plain")}
    )

    assert res.status_code == 415
    body = res.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == "unsupported_media_type"
    assert body["error"]["param"] == "file"
    # the decoder's reason in words, without its error number or internals
    assert "(Invalid data found when processing input)" in body["error"]["message"]
    assert "Errno" not in body["error"]["message"]


def test_png_upload_is_not_treated_as_video(client: TestClient, clip: np.ndarray) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(clip[0]).save(buf, format="PNG")
    res = client.post(
        "/v1/provenance/verify", files={"file": ("a.png", buf.getvalue(), "image/png")}
    )

    assert res.status_code == 415 and "error" in res.json()


def test_verify_route_reports_signed_upload_without_auth(
    client: TestClient,
    service: ProvenanceService,
    sessions: sessionmaker,
    clip: np.ndarray,
    tmp_path: Path,
) -> None:
    add_video(sessions, "video_a", published=True)
    mp4 = tmp_path / "a.mp4"
    make_signed(service, clip, mp4, "video_a")

    res = client.post("/v1/provenance/verify", files={"file": ("a.mp4", mp4.read_bytes())})

    assert res.status_code == 200
    body = res.json()
    assert body["c2pa"]["trusted"] and body["watermark"]["found"]
    # Anonymous callers learn what a detector must say, not who made it or its state.
    assert body["detail"] == "public"
    assert set(body["record"]) == {"matched_by", "exists", "created_at", "model", "system"}
    assert body["record"]["model"] == "mutoscope-tiny"  # the model, not the alias asked for
    assert body["record"]["created_at"] == 1_700_000_000
    assert "Ada" not in res.text
    # The video id stays only where the file itself carries it (its C2PA manifest).
    assert "video_a" not in json.dumps({k: v for k, v in body.items() if k != "c2pa"})
    assert "to a video made here with Mutoscope" in body["verdict"], body["verdict"]


def test_verify_shows_the_whole_record_to_the_owner_and_admins_only(
    client: TestClient,
    service: ProvenanceService,
    sessions: sessionmaker,
    clip: np.ndarray,
    tmp_path: Path,
) -> None:
    add_video(sessions, "video_u")  # unpublished, owned by ada
    mp4 = tmp_path / "u.mp4"
    make_signed(service, clip, mp4, "video_u")
    users = UserService(sessions)
    users.get_or_create("root", is_admin=True)
    keys = {n: users.create_key(n, "k").key for n in ("ada", "mallory", "root")}

    def verify(who: str | None) -> dict:
        headers = {"Authorization": f"Bearer {keys[who]}"} if who else {}
        files = {"file": ("u.mp4", mp4.read_bytes())}
        return client.post("/v1/provenance/verify", files=files, headers=headers).json()

    for who in (None, "mallory"):
        body = verify(who)
        assert body["detail"] == "public" and "published" not in body["record"], who
        assert "video_u" not in json.dumps({k: v for k, v in body.items() if k != "c2pa"})
    for who in ("ada", "root"):
        body = verify(who)
        assert body["detail"] == "full", who
        assert body["record"]["video_id"] == "video_u" and body["record"]["owner"] == "Ada"
        assert body["record"]["published"] is False


def test_cli_verify_prints_json_report(
    settings: Settings, clip: np.ndarray, tmp_path: Path
) -> None:
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    add_video(sessions, "video_a")
    service = ProvenanceService(settings, sessions)
    mp4 = tmp_path / "a.mp4"
    make_signed(service, clip, mp4, "video_a")
    engine.dispose()

    runner = CliRunner()
    result = runner.invoke(cli_app, ["verify", str(mp4), "--json"])
    human = runner.invoke(cli_app, ["verify", str(mp4)])

    assert result.exit_code == 0, result.output
    assert '"video_id": "video_a"' in result.output
    assert human.exit_code == 0 and "trusted key" in human.output


def test_cli_init_signing_creates_keys(settings: Settings) -> None:
    result = CliRunner().invoke(cli_app, ["init-signing"])

    assert result.exit_code == 0, result.output
    assert (settings.keys_dir / "c2pa-root.pem").exists()


def test_trust_anchor_is_published_for_third_party_verifiers(
    client: TestClient, service: ProvenanceService, clip: np.ndarray, tmp_path: Path
) -> None:
    assert client.get("/v1/provenance/trust-anchors.pem").status_code == 404
    mp4 = tmp_path / "a.mp4"
    make_signed(service, clip[:4], mp4, "video_a")

    res = client.get("/v1/provenance/trust-anchors.pem")

    assert res.status_code == 200 and res.text.startswith("-----BEGIN CERTIFICATE-----")
    from mutoscope.provenance.credentials import read_credentials

    assert read_credentials(mp4.read_bytes(), trust_anchors=res.content).trusted
