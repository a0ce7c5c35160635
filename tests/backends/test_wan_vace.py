"""Wan VACE backend on a tiny saved checkpoint: characters' reference frames reach the model
(``GenerationRequest.references``), a first frame can be kept, and other Wan checkpoints still
refuse references."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutoscope.errors import InvalidRequest
from tests.backends.conftest import Progress, parent_clip, request


def test_references_reach_the_pipeline_and_change_the_video(
    load_backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diffusers import WanVACEPipeline

    backend = load_backend("wan-vace")
    assert backend.accepts_references and backend.accepts_image and backend.continues
    seen: list[dict] = []
    call = WanVACEPipeline.__call__

    def spy(self, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs)
        return call(self, **kwargs)

    monkeypatch.setattr(WanVACEPipeline, "__call__", spy)
    face = Image.new("RGB", (24, 16), (200, 120, 90))

    with_face = backend.generate(request(size="16x16", seed=3, references=(face,)), Progress())
    plain = backend.generate(request(size="16x16", seed=3), Progress())

    assert with_face.frames.shape == plain.frames.shape == (8, 16, 16, 3)
    assert [img.size for img in seen[0]["reference_images"]] == [(24, 16)]
    assert "reference_images" not in seen[1]
    assert not np.array_equal(with_face.frames, plain.frames)
    assert backend.pool.loads == {"tiny-wan-vace": 1}


@pytest.mark.slow
def test_a_first_frame_is_kept_through_the_video_and_mask(
    load_backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diffusers import WanVACEPipeline

    backend = load_backend("wan-vace")
    seen: list[dict] = []
    call = WanVACEPipeline.__call__

    def spy(self, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs)
        return call(self, **kwargs)

    monkeypatch.setattr(WanVACEPipeline, "__call__", spy)
    red = Image.new("RGB", (32, 16), (255, 0, 0))

    from_red = backend.generate(request(size="16x16", seed=2, image=red), Progress())
    plain = backend.generate(request(size="16x16", seed=2), Progress())
    extended = backend.generate(
        request(size="16x16", mode="extend", source_video=parent_clip()), Progress()
    )

    video, mask = seen[0]["video"], seen[0]["mask"]
    assert len(video) == len(mask) == 9
    assert video[0].size == (16, 16) and video[0].getpixel((8, 8)) == (255, 0, 0)
    assert mask[0].getextrema() == (0, 0) and mask[1].getextrema() == (255, 255)
    # (the tiny random VACE blocks barely move the pixels, so the conditioning is checked
    # where it enters the pipeline rather than in the noise it makes)
    assert from_red.frames.shape == plain.frames.shape == (8, 16, 16, 3)
    # An extension starts from the parent's last frame and leaves it out (already stitched).
    assert np.array_equal(np.asarray(seen[2]["video"][0]), parent_clip()[-1])
    assert extended.frames.shape == (8, 16, 16, 3)


def test_a_wan_checkpoint_without_vace_refuses_references(load_backend) -> None:
    backend = load_backend("wan")
    with pytest.raises(InvalidRequest) as err:
        backend.check(request(size="16x16", references=(Image.new("RGB", (8, 8)),)))
    assert err.value.param == "characters"


def test_a_vace_checkpoint_declared_as_plain_wan_says_which_family_to_use(
    write_models, tiny_checkpoints, caplog: pytest.LogCaptureFixture
) -> None:
    from mutoscope.backends.diffusers_models import build_backends, read_models_file

    path = write_models(("vace", "wan", {"path": str(tiny_checkpoints["wan-vace"])}))
    with caplog.at_level("ERROR"):
        assert build_backends(read_models_file(path)) == []
    assert "family = 'wan-vace'" in caplog.text
