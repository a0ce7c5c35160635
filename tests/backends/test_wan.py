"""Wan backend on a tiny saved checkpoint: T2V, I2V, remix (V2V), size/frame validation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutoscope.errors import InvalidRequest
from tests.backends.conftest import Progress, parent_clip, request


def test_text_to_video_makes_the_requested_clip(load_backend) -> None:
    backend = load_backend("wan")
    progress = Progress()

    video = backend.generate(request(size="16x16", seconds="4"), progress)

    # 4 s at the tiny model's 2 fps is 8 frames: Wan generates 9 (4k+1), the clip keeps 8.
    assert video.frames.shape == (8, 16, 16, 3)
    assert video.frames.dtype == np.uint8
    assert video.fps == 2
    assert video.frames.std() > 0
    assert progress.values == pytest.approx([0.475, 0.95, 1.0])


def test_same_seed_same_video_other_seed_differs(load_backend) -> None:
    backend = load_backend("wan")
    a = backend.generate(request(size="16x16", seed=3), Progress()).frames
    b = backend.generate(request(size="16x16", seed=3), Progress()).frames
    c = backend.generate(request(size="16x16", seed=4), Progress()).frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_openai_size_maps_onto_native_size_and_back(load_backend) -> None:
    backend = load_backend("wan", sizes=["32x16"])
    assert "1280x720" in backend.sizes and "720x1280" not in backend.sizes

    video = backend.generate(request(size="1280x720"), Progress())

    assert video.frames.shape == (8, 720, 1280, 3)


def test_remix_really_conditions_on_the_parent_video(load_backend) -> None:
    backend = load_backend("wan")
    assert backend.accepts_video
    remix = dict(size="16x16", mode="remix", seed=7, options={"strength": 0.5})

    from_a = backend.generate(request(source_video=parent_clip(seed=1), **remix), Progress())
    from_b = backend.generate(request(source_video=parent_clip(seed=2), **remix), Progress())
    plain = backend.generate(request(size="16x16", seed=7), Progress())

    assert from_a.frames.shape == (8, 16, 16, 3)
    assert not np.array_equal(from_a.frames, from_b.frames)
    assert not np.array_equal(from_a.frames, plain.frames)


def test_image_to_video_checkpoint_uses_the_reference(load_backend) -> None:
    backend = load_backend("wan-i2v")
    assert backend.accepts_image and not backend.accepts_video
    red = Image.new("RGB", (40, 20), (255, 0, 0))
    blue = Image.new("RGB", (40, 20), (0, 0, 255))

    from_red = backend.generate(request(size="16x16", image=red), Progress())
    from_blue = backend.generate(request(size="16x16", image=blue), Progress())

    assert from_red.frames.shape == (8, 16, 16, 3)
    assert not np.array_equal(from_red.frames, from_blue.frames)


def test_image_to_video_checkpoint_extends_from_the_parents_last_frame(load_backend) -> None:
    backend = load_backend("wan-i2v")
    assert backend.continues
    parent = parent_clip(frames=12)
    other = parent.copy()
    other[-1] = 255 - other[-1]  # only the last frame differs

    a = backend.generate(request(size="16x16", mode="extend", source_video=parent), Progress())
    b = backend.generate(request(size="16x16", mode="extend", source_video=other), Progress())

    # 9 frames from the last frame, less the first (the parent's last frame, already stitched)
    assert a.frames.shape == (8, 16, 16, 3)
    assert not np.array_equal(a.frames, b.frames)


def test_text_to_video_checkpoint_refuses_to_extend(load_backend) -> None:
    backend = load_backend("wan")
    assert not backend.continues
    with pytest.raises(InvalidRequest, match="cannot extend videos"):
        backend.check(request(size="16x16", mode="extend", source_video=parent_clip()))


def test_image_to_video_checkpoint_starts_from_a_characters_reference(load_backend) -> None:
    backend = load_backend("wan-i2v")
    assert backend.accepts_references
    red = Image.new("RGB", (40, 20), (255, 0, 0))
    blue = Image.new("RGB", (40, 20), (0, 0, 255))
    as_image = backend.generate(request(size="16x16", image=red), Progress())
    as_character = backend.generate(
        request(size="16x16", references=(red, blue), reference_names=("Rex", "Rex")), Progress()
    )
    np.testing.assert_array_equal(as_character.frames, as_image.frames)


def test_image_only_checkpoint_asks_for_a_reference(load_backend) -> None:
    backend = load_backend("wan-i2v")
    with pytest.raises(InvalidRequest, match="image-to-video only") as err:
        backend.check(request(size="16x16"))
    assert err.value.param == "input_reference"


def test_text_to_video_checkpoint_rejects_a_reference_image(load_backend) -> None:
    backend = load_backend("wan")
    with pytest.raises(InvalidRequest) as err:
        backend.check(request(size="16x16", image=Image.new("RGB", (16, 16))))
    assert err.value.param == "input_reference"


def test_unsupported_size_names_the_sizes_that_work(load_backend) -> None:
    backend = load_backend("wan", sizes=["32x16"])
    with pytest.raises(InvalidRequest, match='"32x16"') as err:
        backend.check(request(size="720x1280"))
    assert err.value.param == "size"


def test_clip_longer_than_the_model_makes_is_rejected_with_the_limit(load_backend) -> None:
    backend = load_backend("wan")
    assert backend.seconds == ("4",)
    with pytest.raises(InvalidRequest, match=r'one of "4".*at most 9 frames at 2 fps') as err:
        backend.check(request(size="16x16", seconds="8"))
    assert err.value.param == "seconds"


def test_api_creates_and_remixes_with_a_tiny_wan_checkpoint(settings, write_models) -> None:
    """POST /v1/videos -> completed MP4, then remix conditioned on it, through the real API."""
    from fastapi.testclient import TestClient

    from mutoscope.api.app import create_app
    from mutoscope.backends.diffusers_models import register_backends
    from mutoscope.backends.registry import load_backends
    from mutoscope.media.video import decode_mp4
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance, NullRights
    from tests.api.conftest import wait_done

    write_models(("wan-tiny", "wan", {}))
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    try:
        app = create_app(settings, services=services, keyless=True)
        with TestClient(app) as client:
            created = client.post(
                "/v1/videos",
                json={"prompt": "a red cat dancing", "model": "wan-tiny", "size": "16x16"},
            )
            assert created.status_code == 200, created.text
            done = wait_done(client, created.json()["id"], timeout=120)
            assert done["status"] == "completed", done
            frames = decode_mp4(client.get(f"/v1/videos/{done['id']}/content").content)
            assert frames.shape == (8, 16, 16, 3)

            remixed = client.post(f"/v1/videos/{done['id']}/remix", json={"prompt": "a blue dog"})
            assert remixed.status_code == 200, remixed.text
            remix = wait_done(client, remixed.json()["id"], timeout=120)
            assert remix["status"] == "completed", remix
            assert remix["remixed_from_video_id"] == done["id"]
            remix_frames = decode_mp4(client.get(f"/v1/videos/{remix['id']}/content").content)
            assert remix_frames.shape == (8, 16, 16, 3)

            too_long = client.post(
                "/v1/videos",
                json={"prompt": "x", "model": "wan-tiny", "size": "16x16", "seconds": "8"},
            )
            assert too_long.status_code == 400
            assert "at most 9 frames" in too_long.json()["error"]["message"]
        backend = services.backends.get("wan-tiny")
        assert backend.pool.loads == {"wan-tiny": 1}  # the remix reused the warm pipeline
    finally:
        services.close()


def test_wan22_ti2v_checkpoint_serves_text_and_image_to_video(load_backend) -> None:
    backend = load_backend("wan-ti2v")
    assert backend.accepts_image and not backend.accepts_video
    red = Image.new("RGB", (32, 32), (255, 0, 0))
    blue = Image.new("RGB", (32, 32), (0, 0, 255))

    text_only = backend.generate(request(size="32x32"), Progress())
    from_red = backend.generate(request(size="32x32", image=red), Progress())
    from_blue = backend.generate(request(size="32x32", image=blue), Progress())
    remix = backend.generate(
        request(size="32x32", mode="remix", source_video=parent_clip(size=32)), Progress()
    )

    assert text_only.frames.shape == from_red.frames.shape == remix.frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(from_red.frames, from_blue.frames)
    assert backend.pool.loads == {"tiny-wan-ti2v": 1}


def test_wan22_two_expert_checkpoint_generates_with_both_transformers(load_backend) -> None:
    backend = load_backend("wan-a14b")
    assert not backend.accepts_image and not backend.accepts_video
    progress = Progress()

    video = backend.generate(request(size="16x16", options={"steps": 4}), progress)

    assert video.frames.shape == (8, 16, 16, 3)
    assert len(progress.values) == 5
    with backend.pool.use(backend.spec) as model:
        assert model.pipeline.transformer_2 is not None
