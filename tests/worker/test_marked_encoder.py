"""The MP4 is encoded while the watermark marks the later frames: same file, same failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mutoscope.media import decode_mp4, encode_mp4, probe
from mutoscope.provenance.watermark import CHUNK, Watermarker
from mutoscope.storage.records import VideoRecord
from mutoscope.users import UserService
from mutoscope.videos import VideoCreate, VideoService
from mutoscope.worker.encoding import MarkedEncoder
from mutoscope.worker.pool import Worker


def _clip(n: int = 30, h: int = 64, w: int = 96) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (1, h, w, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.roll(np.repeat(base, n, axis=0), 1, axis=2))


def test_runs_encoded_in_a_thread_make_the_file_encode_mp4_makes(tmp_path: Path):
    frames = _clip()
    encode_mp4(frames, tmp_path / "whole.mp4", fps=24)
    encoder = MarkedEncoder(tmp_path / "runs.mp4", fps=24)
    for start in range(0, len(frames), 8):
        encoder.write(frames[start : start + 8])
    encoder.finish()
    assert encoder.count == len(frames)
    # The same clip as encode_mp4 makes: every frame, the same settings, the same pictures.
    # (Not byte for byte: x264's threads may code a frame a few bytes differently when frames
    # arrive in runs on a loaded machine, as CI showed once.)
    runs, whole = decode_mp4(tmp_path / "runs.mp4"), decode_mp4(tmp_path / "whole.mp4")
    assert runs.shape == whole.shape
    assert np.abs(runs.astype(int) - whole.astype(int)).mean() < 0.5
    assert probe(tmp_path / "runs.mp4") == probe(tmp_path / "whole.mp4")  # size, frames, rate


def test_the_watermark_hands_over_every_marked_frame_in_order():
    frames = np.full((CHUNK * 2 + 5, 72, 128, 3), 120, np.uint8)
    runs: list[np.ndarray] = []
    marked = Watermarker().embed(frames.copy(), bytes(range(6)), on_marked=runs.append)
    assert [len(r) for r in runs] == [CHUNK, CHUNK, 5]
    assert np.array_equal(np.concatenate(runs), marked)
    assert not np.array_equal(marked, frames)  # they were marked before being handed over


def test_an_encoder_failure_reaches_finish_without_hanging(tmp_path: Path):
    encoder = MarkedEncoder(tmp_path / "missing" / "video.mp4", fps=24)
    encoder.write(_clip(4))
    with pytest.raises(Exception, match=r"missing|No such file"):
        encoder.finish()


def test_abandoning_stops_the_encoder(tmp_path: Path):
    encoder = MarkedEncoder(tmp_path / "video.mp4", fps=24)
    encoder.write(_clip(4))
    encoder.abandon()
    assert not encoder._thread.is_alive()  # this encoder's (other tests may run their own)


def _run_a_job(core_services) -> VideoRecord:  # type: ignore[no-untyped-def]
    """Create a small video and run its job in this thread; returns the created record."""
    user = UserService(core_services.sessions).get_or_create("ada")
    record = VideoService(core_services).create(
        user, VideoCreate(prompt="a red circle", size="320x180")
    )
    worker = Worker(core_services)
    job = core_services.queue.claim(worker.worker_id, video_id=record.id)
    assert job is not None
    worker.run_one(job)
    return record


class SilentStamper:
    """A stamper that marks nothing and never reports runs of frames."""

    def watermark(self, frames, *, video_id, on_marked=None):  # type: ignore[no-untyped-def]
        return frames, None

    def sign(self, mp4_path, info):  # type: ignore[no-untyped-def]
        return None


@pytest.mark.parametrize("stamper", ["null", "silent"])
def test_a_job_stores_a_whole_clip_whether_or_not_the_stamper_reports_runs(core_services, stamper):
    if stamper == "silent":
        core_services.provenance = SilentStamper()
    record = _run_a_job(core_services)
    with core_services.sessions() as s:
        row = s.get(VideoRecord, record.id)
        assert row is not None and row.status == "completed", row.error_message
        frame_count = row.frame_count
    path = core_services.files.path(record.id, "video")
    assert probe(path).frame_count == frame_count
    assert len(decode_mp4(path)) == frame_count


def test_a_job_cancelled_after_the_watermark_stops_its_encoder(core_services, monkeypatch):
    """The job stops between the watermark and the encode (deleted, taken over): the
    encoder started for it must not wait for frames forever."""
    from mutoscope.errors import JobCancelled
    from mutoscope.worker import run

    started: list[MarkedEncoder] = []

    class Recorded(MarkedEncoder):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(run, "MarkedEncoder", Recorded)
    real_set = run.Progress.set

    def set_then_cancel(self, percent: int) -> None:  # type: ignore[no-untyped-def]
        if started and started[0].count:  # the first report after frames were marked
            raise JobCancelled("the video was deleted")
        real_set(self, percent)

    monkeypatch.setattr(run.Progress, "set", set_then_cancel)
    _run_a_job(core_services)
    assert started and not started[0]._thread.is_alive()
