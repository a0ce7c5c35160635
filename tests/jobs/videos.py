"""A queued video row for queue tests (owned by the ``user_q`` the tests add)."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from mutoscope.storage.records import VideoRecord, new_id


def add_queued_video(sessions: sessionmaker, backend: str = "m") -> str:
    vid = new_id("video")
    with sessions.begin() as s:
        s.add(
            VideoRecord(
                id=vid,
                owner_id="user_q",
                model=backend,
                backend=backend,
                status="queued",
                progress=0,
                prompt="p",
                size="1x1",
                seconds="4",
                seed=0,
                mode="create",
                created_at=0,
                attributions=[],
                provenance={},
            )
        )
    return vid
