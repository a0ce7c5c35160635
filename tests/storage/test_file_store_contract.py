"""One contract, two stores: ``LocalFileStore`` and ``S3FileStore`` on a real S3 server."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from mutoscope.storage.files import FileStore, LocalFileStore, S3FileStore, sweep_orphans

VID = "video_0000000000000000000abcdef012345"


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "media")
    bucket = request.getfixturevalue("s3_bucket")
    return S3FileStore(
        f"s3://{bucket}/media", scratch=tmp_path / "staging", cache=tmp_path / "cache"
    )


def stage(store: FileStore, video_id: str, content: bytes) -> dict[str, Path]:
    folder = store.staging(video_id)
    staged = {"video": folder / "video.mp4", "thumbnail": folder / "thumbnail.jpg"}
    staged["video"].write_bytes(content)
    staged["thumbnail"].write_bytes(b"jpeg:" + content)
    return staged


def test_committed_files_read_back_and_the_scratch_is_gone(store):
    staged = stage(store, VID, b"mp4 bytes" * 1000)
    store.commit(VID, staged)
    assert not staged["video"].parent.exists()
    assert store.exists(VID, "video") and store.exists(VID, "thumbnail")
    assert not store.exists(VID, "spritesheet")
    assert store.path(VID, "video").read_bytes() == b"mp4 bytes" * 1000
    assert store.size(VID, "video") == 9000
    assert b"".join(store.iter_bytes(VID, "video", chunk=1024)) == b"mp4 bytes" * 1000


def test_a_rerun_replaces_files_without_duplicates(store):
    store.commit(VID, stage(store, VID, b"first"))
    store.path(VID, "video")  # a cached copy must not outlive the replacement
    store.commit(VID, stage(store, VID, b"second"))
    assert store.path(VID, "video").read_bytes() == b"second"
    assert list(store.video_ids()) == [VID]


def test_put_bytes_and_delete_removes_every_file(store):
    store.put_bytes(VID, "reference", b"png")
    store.commit(VID, stage(store, VID, b"x"))
    assert store.path(VID, "reference").read_bytes() == b"png"
    store.delete(VID)
    assert not store.exists(VID, "video") and not store.exists(VID, "reference")
    assert not store.path(VID, "video").exists()
    assert store.video_ids() == {}
    store.delete(VID)  # deleting twice is fine


def test_missing_files_report_not_found(store):
    assert not store.path(VID, "video").exists()
    with pytest.raises(FileNotFoundError):
        store.size(VID, "video")


def test_sweep_removes_old_orphans_only(store):
    live, orphan = VID, VID.replace("abc", "999")
    store.commit(live, stage(store, live, b"keep"))
    store.commit(orphan, stage(store, orphan, b"lost"))
    assert sweep_orphans(store, {live}, older_than=3600) == []  # too fresh to judge
    assert sweep_orphans(store, {live}, older_than=-1) == [orphan]
    assert list(store.video_ids()) == [live]


def test_presigned_urls_serve_the_object(store):
    store.commit(VID, stage(store, VID, b"direct"))
    url = store.url(VID, "video", filename="clip.mp4")
    if isinstance(store, LocalFileStore):
        assert url is None
        return
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"direct"


def test_starting_a_worker_keeps_other_processes_scratch(store):
    mine = store.staging(VID)
    (mine / "video.mp4").write_bytes(b"in flight")
    root, host = store.scratch, socket.gethostname()
    live_elsewhere = root / "other-host.4242" / VID
    dead_here = root / f"{host}.{_dead_pid()}" / VID
    ancient = root / "other-host.17" / VID
    for folder in (live_elsewhere, dead_here, ancient):
        folder.mkdir(parents=True)
    old = time.time() - 2 * 24 * 3600
    os.utime(ancient.parent, (old, old))
    store.clean_staging()
    assert (mine / "video.mp4").read_bytes() == b"in flight"
    assert live_elsewhere.exists()
    assert not dead_here.exists() and not ancient.parent.exists()


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_the_worker_sweep_removes_media_of_deleted_videos_only(core_services):
    from mutoscope.files import FileRecord, new_file_id
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService
    from mutoscope.worker.cli import _sweep

    files = core_services.files
    user = UserService(core_services.sessions).get_or_create(LOCAL_USER)
    live = VideoService(core_services).create(user, VideoCreate(prompt="keep", size="256x256"))
    files.put_bytes(live.id, "reference", b"png")
    files.put_bytes(VID, "reference", b"orphan")  # no record: a create that failed
    upload = new_file_id()  # a /v1/files upload shares the store under its file-… id
    with core_services.sessions.begin() as s:
        s.add(FileRecord(id=upload, owner_id=user.id, filename="a.png", purpose="vision", bytes=3))
    files.put_bytes(upload, "file", b"png")
    old = time.time() - 2 * 3600
    for vid, variant in ((live.id, "reference"), (VID, "reference"), (upload, "file")):
        os.utime(files.path(vid, variant), (old, old))
    _sweep(core_services)
    assert files.exists(live.id, "reference") and not files.exists(VID, "reference")
    assert files.exists(upload, "file")
