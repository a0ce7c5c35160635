"""``client.files`` of the official ``openai`` SDK against a real ``mutoscope serve`` process,
and an uploaded file used as a video's ``input_reference``."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import openai
import pytest
from PIL import Image

from mutoscope.media import decode_mp4

from .conftest import Server, make_server

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]

LIMIT = 64 * 1024
"""A small upload limit for this server, so that the 413 path costs nothing."""


@pytest.fixture(scope="module")
def files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("files"), MUTOSCOPE_MAX_UPLOAD_BYTES=str(LIMIT))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def alice(files_server: Server) -> openai.OpenAI:
    return files_server.sdk("alice")


@pytest.fixture(scope="module")
def bob(files_server: Server) -> openai.OpenAI:
    return files_server.sdk("bob")


def _png(rgb: tuple[int, int, int] = (230, 20, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 90), rgb).save(buf, format="PNG")
    return buf.getvalue()


def _first_frame_mean(client: openai.OpenAI, file_id: str) -> np.ndarray:
    video = client.videos.create_and_poll(
        prompt="a frame from a file",
        model="sora-2",
        seconds="4",
        size="320x180",
        # openai 3.54's videos.create refuses a dict in `input_reference` before sending it
        # (it expects a file there), so the reference travels in extra_body; the SDK sends it
        # as the multipart field input_reference[file_id], as it would once fixed.
        extra_body={"seed": 7, "input_reference": {"file_id": file_id}},
        poll_interval_ms=200,
    )
    assert video.status == "completed", video.error
    first = decode_mp4(client.videos.download_content(video.id).read(), max_frames=1)[0]
    return first.reshape(-1, 3).astype(float).mean(axis=0)


def test_file_round_trip_and_video_from_file_id(alice: openai.OpenAI):
    png = _png()
    created = alice.files.create(file=("red.png", png, "image/png"), purpose="vision")
    assert created.id.startswith("file-") and created.object == "file"
    assert (created.bytes, created.filename, created.purpose, created.status) == (
        len(png),
        "red.png",
        "vision",
        "processed",
    )

    assert alice.files.retrieve(created.id) == created
    assert created.id in [f.id for f in alice.files.list()]
    assert [f.id for f in alice.files.list(purpose="batch")] == []
    assert alice.files.content(created.id).read() == png

    # The test backend blends the reference into every frame: same prompt and seed, a red
    # file and a blue file give a red and a blue video.
    blue = alice.files.create(file=("blue.png", _png((20, 20, 230)), "image/png"), purpose="vision")
    red_mean, blue_mean = _first_frame_mean(alice, created.id), _first_frame_mean(alice, blue.id)
    assert red_mean[0] - blue_mean[0] > 60 and blue_mean[2] - red_mean[2] > 60, (
        red_mean,
        blue_mean,
    )

    gone = alice.files.delete(created.id)
    assert (gone.id, gone.object, gone.deleted) == (created.id, "file", True)
    with pytest.raises(openai.NotFoundError):
        alice.files.retrieve(created.id)


def test_another_users_file_is_not_found(alice: openai.OpenAI, bob: openai.OpenAI):
    mine = alice.files.create(file=("red.png", _png(), "image/png"), purpose="vision")
    for call in (bob.files.retrieve, bob.files.content, bob.files.delete):
        with pytest.raises(openai.NotFoundError):
            call(mine.id)
    assert mine.id not in [f.id for f in bob.files.list()]
    with pytest.raises(openai.NotFoundError) as err:
        bob.videos.create(
            prompt="a red frame", extra_body={"input_reference": {"file_id": mine.id}}
        )
    assert err.value.body["param"] == "input_reference.file_id"  # type: ignore[index]
    assert alice.files.retrieve(mine.id).id == mine.id  # untouched


def test_oversized_upload_is_413(alice: openai.OpenAI):
    big = np.random.default_rng(0).bytes(LIMIT + 1)
    with pytest.raises(openai.APIStatusError) as err:
        alice.files.create(file=("big.bin", big, "application/octet-stream"), purpose="user_data")
    assert err.value.status_code == 413


def test_file_that_is_not_an_image_is_refused_as_a_reference(alice: openai.OpenAI):
    text = alice.files.create(file=("notes.txt", b"not an image", "text/plain"), purpose="vision")
    with pytest.raises(openai.APIStatusError) as err:
        alice.videos.create(
            prompt="a red frame", extra_body={"input_reference": {"file_id": text.id}}
        )
    assert err.value.status_code in (400, 415)
    assert err.value.body["param"] == "input_reference.file_id"  # type: ignore[index]


def test_unknown_purpose_is_a_400(alice: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as err:
        alice.files.create(file=("a.png", _png(), "image/png"), purpose="paintings")  # type: ignore[arg-type]
    assert err.value.body["param"] == "purpose"  # type: ignore[index]
