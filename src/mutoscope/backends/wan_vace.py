"""Wan VACE (Alibaba) through diffusers: text-to-video that keeps the look of reference images
(characters, objects), and can start from a given first frame.

``WanVACEPipeline`` checkpoints (Wan 2.1 VACE 1.3B / 14B, Wan 2.2 VACE-Fun A14B with its two
experts) take ``reference_images``: the characters of a request (``GenerationRequest.
references``) are passed there, so the subject keeps their appearance. A first frame
(``input_reference``, or the parent's first frame for remix and last frame for extend) is given
as a one-frame video with a mask that keeps it and generates the rest.

Frame counts are ``4k + 1`` at 16 fps, up to 81 frames: the Wan 2.1 defaults of
``WanFamilyBackend``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mutoscope.backends.base import GeneratedVideo, GenerationRequest, ProgressCallback
from mutoscope.backends.diffusers_models import (
    ModelSpec,
    PipelinePool,
    fit_image,
    reference_image,
)
from mutoscope.backends.wan import WanFamilyBackend


class WanVACEBackend(WanFamilyBackend):
    family = "wan-vace"
    title = "Wan VACE"
    checkpoint_classes = ("WanVACEPipeline",)
    accepts_image = True
    accepts_references = True
    continues = True  # the parent's last frame kept as the first one

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        self.checkpoint_class(spec, checkpoint)
        super().__init__(spec, pool, checkpoint)

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from diffusers import WanVACEPipeline

        self.check(request)
        width, height = self.native_size(request)
        kwargs = self.call_kwargs(request, width, height)
        kwargs["num_frames"] = self.frames_for(request.seconds)
        # 1. Conditioning: the characters' reference frames, and a first frame to keep
        if request.references:
            kwargs["reference_images"] = [image.convert("RGB") for image in request.references]
        if request.image is not None or request.source_video is not None:
            first = fit_image(reference_image(request), width, height)
            kwargs.update(first_frame_conditioning(first, kwargs["num_frames"]))
        with self.pool.use(self.spec) as model:
            pipe = model.variant(WanVACEPipeline)
            # 2. Encode the prompt, denoise step by step (progress, cancellation), decode
            frames = self.denoise(pipe, kwargs, on_progress, request)
        if request.mode == "extend" and request.image is None and "video" in kwargs:
            frames = frames[1:]  # frame 0 is the parent's last frame: the worker has it already
        # 3. Back to the size the request asked for
        return GeneratedVideo(frames=self.finish(frames, request), fps=self.fps)


def first_frame_conditioning(first: Any, num_frames: int) -> dict[str, Any]:
    """VACE's ``video`` and ``mask`` for "keep this first frame, generate the rest": grey
    frames to fill, and a mask that is black (keep) on the first frame, white elsewhere."""
    from PIL import Image

    size = first.size
    grey = Image.new("RGB", size, (128, 128, 128))
    keep, fill = Image.new("L", size, 0), Image.new("L", size, 255)
    return {
        "video": [first] + [grey] * (num_frames - 1),
        "mask": [keep] + [fill] * (num_frames - 1),
    }
