"""Extensions and remixes read the parent in bounded pieces, never whole (issue: extend RSS)."""

from __future__ import annotations

import numpy as np

import mutoscope.media.video as video
import mutoscope.worker.run as run
from mutoscope.media import decode_mp4, decode_tail, encode_mp4, iter_mp4
from tests.api.conftest import wait_done


def test_decode_tail_holds_only_the_tail(tmp_path, monkeypatch):
    clip = np.stack([np.full((32, 48, 3), i * 8, np.uint8) for i in range(30)])
    path = tmp_path / "c.mp4"
    encode_mp4(clip, path)
    assert len(list(iter_mp4(path))) == 30
    tail = decode_tail(path, 4)
    assert tail.shape == (4, 32, 48, 3)
    # The tail is the clip's last frames (lossy codec: compare brightness).
    assert np.allclose(tail.mean(axis=(1, 2, 3)), clip[-4:].mean(axis=(1, 2, 3)), atol=3)


def test_extend_streams_the_parent_into_the_encoder(client, monkeypatch):
    parent = wait_done(
        client, client.post("/v1/videos", data={"prompt": "a", "size": "320x180"}).json()["id"]
    )
    parent_frames = decode_mp4(client.get(f"/v1/videos/{parent['id']}/content").content)

    # The job must not decode the whole parent into one array, and the encoder must never be
    # handed more than STITCH_CHUNK parent frames at once.
    def whole(*args, **kwargs):
        raise AssertionError("the extend job decoded the whole parent")

    largest = []
    real_write = video.MP4Writer.write

    def write(self, frames):
        largest.append(len(frames))
        return real_write(self, frames)

    assert not hasattr(run, "decode_mp4")  # the job has no whole-clip decode to call
    monkeypatch.setattr(video, "decode_mp4", whole)
    monkeypatch.setattr(video.MP4Writer, "write", write)
    r = client.post(
        "/v1/videos/extensions",
        data={"prompt": "then it rains", "seconds": "4", "video[id]": parent["id"]},
    )
    assert r.status_code == 200, r.text
    child = wait_done(client, r.json()["id"])
    assert child["status"] == "completed", child
    monkeypatch.undo()

    frames = decode_mp4(client.get(f"/v1/videos/{child['id']}/content").content)
    assert len(frames) == len(parent_frames) + 96
    assert len(largest) > 2 and max(largest[:-1]) <= run.STITCH_CHUNK
    # Parent frames first (re-encoded, so close not equal), then the new ones.
    n = len(parent_frames)
    diff = np.abs(frames[:n].astype(int) - parent_frames.astype(int)).mean()
    assert diff < 6, diff
    assert client.get(f"/v1/videos/{child['id']}/content?variant=thumbnail").status_code == 200


def test_remix_decodes_a_bounded_number_of_parent_frames(client, monkeypatch):
    parent = wait_done(
        client, client.post("/v1/videos", data={"prompt": "a", "size": "320x180"}).json()["id"]
    )
    held = []

    def sampled(path, count):
        frames = video.decode_sampled(path, count)
        held.append((count, len(frames)))
        return frames

    monkeypatch.setattr(run, "REMIX_SOURCE_FRAMES", 8)
    monkeypatch.setattr(run, "decode_sampled", sampled)
    r = client.post(f"/v1/videos/{parent['id']}/remix", json={"prompt": "a, but at night"})
    assert r.status_code == 200, r.text
    child = wait_done(client, r.json()["id"])
    assert child["status"] == "completed", child
    assert held == [(8, 8)]  # the 96-frame parent, read as 8 evenly spaced frames
