"""Remix on image-to-video-only checkpoints starts from the parent's first frame (it used to be
refused when the remix was accepted, since no reference image came with it)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openai
import pytest
from PIL import Image

from mutoscope.media import decode_mp4
from mutoscope.testing.tiny_pipelines import models_toml_entry
from tests.backends.conftest import Progress, parent_clip, request
from tests.e2e.conftest import make_server


@pytest.mark.parametrize("name", ["wan-i2v", "cogvideox-i2v"])
def test_remix_is_image_to_video_from_the_parents_first_frame(load_backend, name: str) -> None:
    backend = load_backend(name)
    assert backend.image_only
    clip = parent_clip(seed=3)
    backend.check(request(size="16x16", mode="remix"))  # accepted before any frame is decoded

    remix = backend.generate(
        request(size="16x16", mode="remix", seed=5, source_video=clip), Progress()
    )
    from_first = backend.generate(
        request(size="16x16", seed=5, image=Image.fromarray(clip[0])), Progress()
    )
    from_last = backend.generate(
        request(size="16x16", seed=5, image=Image.fromarray(clip[-1])), Progress()
    )

    assert np.array_equal(remix.frames, from_first.frames)
    assert not np.array_equal(remix.frames, from_last.frames)


@pytest.mark.slow
def test_sdk_remixes_a_video_made_on_an_image_only_checkpoint(
    tmp_path: Path, tiny_checkpoints: dict[str, Path]
) -> None:
    server = make_server(tmp_path, MUTOSCOPE_WATERMARK="false")
    entry = models_toml_entry("wan-i2v-tiny", "wan-i2v", path=tiny_checkpoints["wan-i2v"])
    (server.home / "models.toml").write_text(entry)
    server.start()
    try:
        key = server.cli("keys", "create", "--user", "ivy", "--name", "sdk")
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
        png = io.BytesIO()
        Image.new("RGB", (32, 32), (220, 40, 40)).save(png, format="PNG")
        parent = client.videos.create_and_poll(
            prompt="a red cat dancing",
            model="wan-i2v-tiny",
            size="16x16",  # type: ignore[arg-type]
            input_reference=("red.png", png.getvalue(), "image/png"),
            poll_interval_ms=100,
        )
        assert parent.status == "completed", parent.error
        with pytest.raises(openai.BadRequestError, match="image-to-video only"):
            client.videos.create(prompt="no image", model="wan-i2v-tiny", size="16x16")  # type: ignore[arg-type]

        remix = client.videos.remix(parent.id, prompt="a blue dog running")
        done = client.videos.poll(remix.id, poll_interval_ms=100)

        assert done.status == "completed", done.error
        assert done.remixed_from_video_id == parent.id
        frames = decode_mp4(client.videos.download_content(done.id).read())
        parent_frames = decode_mp4(client.videos.download_content(parent.id).read())
        assert frames.shape == parent_frames.shape == (8, 16, 16, 3)  # 4 s at 2 fps
    finally:
        server.stop()
