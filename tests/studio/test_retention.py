"""Retention in the studio: an expired video's media answer 410 and the sweep deletes them."""

from __future__ import annotations

from fastapi import FastAPI

from mutoscope.retention import sweep_expired
from mutoscope.storage.records import VideoRecord, now
from tests.studio.conftest import Browser, wait_completed


def test_expired_media_are_gone_and_swept(app: FastAPI) -> None:
    services = app.state.services
    alice = Browser(app, "alice")
    video_id = alice.create()
    wait_completed(app, video_id)
    assert alice.get(f"/media/{video_id}/video").status_code == 200
    assert sweep_expired(services) == []  # no expires_at: kept for ever

    with services.sessions.begin() as s:
        row = s.get(VideoRecord, video_id)
        row.expires_at = now() - 1
    page = alice.get(f"/v/{video_id}")
    assert 'id="video-expires"' in page.text
    gone = alice.get(f"/media/{video_id}/thumbnail")
    assert gone.status_code == 410 and "expired at" in gone.text

    assert sweep_expired(services) == [video_id]
    assert not services.files.exists(video_id, "video")
    assert sweep_expired(services) == []  # marked: not swept twice
    with services.sessions() as s:
        assert s.get(VideoRecord, video_id).expired_at is not None
