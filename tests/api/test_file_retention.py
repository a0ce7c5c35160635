"""/v1/files uploads expire (MUTOSCOPE_FILE_TTL_SECONDS) and the retention sweep deletes them;
videos made from a file never depend on it."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mutoscope.files import FileRecord
from mutoscope.retention import RetentionSweeper, expire_files
from mutoscope.storage.records import VideoRecord
from mutoscope.worker.pool import Worker

WEEK = 7 * 24 * 3600


@pytest.fixture
def quiet_client(settings, core_services) -> Iterator[TestClient]:
    """The API without its worker: jobs stay queued until a test runs one."""
    from mutoscope.api.app import create_app

    app = create_app(settings, services=core_services, keyless=True, run_worker=False)
    with TestClient(app) as c:
        yield c


def upload(client: TestClient) -> dict:
    png = io.BytesIO()
    Image.new("RGB", (64, 36), (0, 200, 0)).save(png, format="PNG")
    r = client.post(
        "/v1/files",
        data={"purpose": "vision"},
        files={"file": ("ref.png", png.getvalue(), "image/png")},
    )
    assert r.status_code == 200, r.text
    return r.json()


def age(services, file_id: str, seconds: int) -> None:
    """Make the upload ``seconds`` older than it is."""
    with services.sessions.begin() as s:
        s.query(FileRecord).filter(FileRecord.id == file_id).update(
            {FileRecord.created_at: FileRecord.created_at - seconds}
        )


def test_an_upload_says_when_it_expires_and_is_swept_then(quiet_client, core_services) -> None:
    file = upload(quiet_client)
    kept = upload(quiet_client)
    assert file["expires_at"] == file["created_at"] + WEEK  # the default: 7 days
    assert quiet_client.get(f"/v1/files/{file['id']}").json()["expires_at"] == file["expires_at"]

    assert expire_files(core_services, at=file["expires_at"] - 1) == []
    assert quiet_client.get(f"/v1/files/{file['id']}/content").status_code == 200
    age(core_services, kept["id"], -10)  # uploaded 10 s later: not yet due
    assert expire_files(core_services, at=file["expires_at"]) == [file["id"]]

    assert quiet_client.get(f"/v1/files/{file['id']}").status_code == 404
    assert quiet_client.get(f"/v1/files/{file['id']}/content").status_code == 404
    assert not core_services.files.exists(file["id"], "file")
    assert [f["id"] for f in quiet_client.get("/v1/files").json()["data"]] == [kept["id"]]


def test_an_expired_file_is_refused_before_the_sweep_runs(quiet_client, core_services) -> None:
    file = upload(quiet_client)
    age(core_services, file["id"], WEEK)

    r = quiet_client.get(f"/v1/files/{file['id']}")
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["code"] == "file_expired" and "upload it again" in error["message"]
    r = quiet_client.post(
        "/v1/videos", json={"prompt": "p", "input_reference": {"file_id": file["id"]}}
    )
    assert r.status_code == 404
    assert r.json()["error"]["param"] == "input_reference.file_id"
    assert r.json()["error"]["code"] == "file_expired"


def test_a_queued_video_made_from_a_file_completes_after_the_file_is_swept(
    quiet_client, core_services
) -> None:
    file = upload(quiet_client)
    video = quiet_client.post(
        "/v1/videos",
        json={"prompt": "p", "size": "320x180", "input_reference": {"file_id": file["id"]}},
    ).json()
    assert video["status"] == "queued"
    assert expire_files(core_services, at=file["expires_at"]) == [file["id"]]

    worker = Worker(core_services, poll_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 300  # a hang guard: the loop waits on the status
        while (status := _status(core_services, video["id"])) not in ("completed", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
    finally:
        worker.stop()
    assert status == "completed"
    assert core_services.files.exists(video["id"], "reference")  # its own copy of the image


def _status(services, video_id: str) -> str:
    with services.sessions() as s:
        row = s.get(VideoRecord, video_id)
        assert row is not None
        return row.status


def test_the_retention_sweeper_deletes_expired_files(quiet_client, core_services) -> None:
    file = upload(quiet_client)
    age(core_services, file["id"], WEEK)
    sweeper = RetentionSweeper(core_services, every=0.05)
    sweeper.start()
    try:
        deadline = time.monotonic() + 60
        while core_services.files.exists(file["id"], "file"):
            assert time.monotonic() < deadline, "the sweeper never deleted the expired file"
            time.sleep(0.05)
    finally:
        sweeper.stop()
    with core_services.sessions() as s:
        assert s.get(FileRecord, file["id"]) is None


def test_a_ttl_of_zero_keeps_files(settings, core_services) -> None:
    from mutoscope.api.app import create_app

    core_services.settings = settings.model_copy(update={"file_ttl_seconds": 0})
    app = create_app(core_services.settings, services=core_services, run_worker=False, keyless=True)
    with TestClient(app) as client:
        file = upload(client)
        assert file["expires_at"] is None
        assert expire_files(core_services, at=file["created_at"] + 100 * WEEK) == []
        assert client.get(f"/v1/files/{file['id']}/content").status_code == 200


def test_a_sweep_reads_batch_after_batch_until_none_is_due(
    quiet_client, core_services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mutoscope.retention

    monkeypatch.setattr(mutoscope.retention, "SWEEP_BATCH", 2)
    files = [upload(quiet_client)["id"] for _ in range(5)]
    for file_id in files:
        age(core_services, file_id, WEEK)

    assert sorted(expire_files(core_services)) == sorted(files)
    assert quiet_client.get("/v1/files").json()["data"] == []
