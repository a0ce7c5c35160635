"""HunyuanVideo 1.5 (Tencent) through diffusers: text-to-video and image-to-video.

* ``HunyuanVideo15Pipeline`` checkpoints (480p / 720p T2V): text-to-video.
* ``HunyuanVideo15ImageToVideoPipeline`` checkpoints (480p / 720p I2V, with a SigLIP image
  encoder): image-to-video only; a remix starts from the parent's first frame, an extension
  from its last frame.

Its own rules, read from the checkpoint: frame counts are ``k * t + 1`` for the VAE's temporal
compression ``t`` (4: 121 frames = 5 s at 24 fps), sides multiples of the VAE's spatial
compression (16), and the native sizes are the 16:9 / 9:16 buckets of the transformer's
``target_size`` (640: 848x480, 960: 1280x720), the sizes the pipeline itself picks. Guidance
is set on the checkpoint's guider (the pipeline takes no ``guidance_scale``); it has no step
callback, so progress and cancellation ride on the scheduler's steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mutoscope.backends.base import GeneratedVideo, GenerationRequest, ProgressCallback
from mutoscope.backends.diffusers_models import (
    DiffusersBackend,
    ModelSpec,
    PipelinePool,
    fit_image,
    read_component_config,
    reference_image,
)
from mutoscope.backends.diffusers_models.frames import aspect_size


class HunyuanVideo15Backend(DiffusersBackend):
    family = "hunyuanvideo15"
    title = "HunyuanVideo 1.5"
    checkpoint_classes = ("HunyuanVideo15Pipeline", "HunyuanVideo15ImageToVideoPipeline")
    default_sizes = ("848x480", "480x848")
    default_fps = 24.0
    default_max_frames = 121
    default_steps = 50
    default_guidance = 6.0
    default_max_sequence_length = 1000
    frame_step = 4

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        kind = self.checkpoint_class(spec, checkpoint)
        self.image_only = kind == "HunyuanVideo15ImageToVideoPipeline"
        vae = read_component_config(checkpoint, "vae")
        transformer = read_component_config(checkpoint, "transformer")
        self.frame_step = int(vae.get("temporal_compression_ratio", 4))
        self.size_multiple = int(vae.get("spatial_compression_ratio", 16)) * int(
            transformer.get("patch_size", 1)
        )
        target = int(transformer.get("target_size", 640))
        width, height = aspect_size((target, target), 16 / 9, self.size_multiple)
        self.default_sizes = (f"{width}x{height}", f"{height}x{width}")
        super().__init__(spec, pool, checkpoint)
        guider = checkpoint / "guider" / "guider_config.json"
        if spec.guidance is None and guider.is_file():
            scale = json.loads(guider.read_text()).get("guidance_scale", self.default_guidance)
            self.guidance = float(scale)
        self.accepts_image = self.image_only
        # An extension is image-to-video from the parent's last frame (``reference_image``).
        self.continues = self.image_only

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from diffusers import HunyuanVideo15ImageToVideoPipeline, HunyuanVideo15Pipeline

        self.check(request)
        width, height = self.native_size(request)
        kwargs = self.pipeline_kwargs(request, width, height)
        with self.pool.use(self.spec) as model:
            # 1. Choose the pipeline (one per checkpoint) and set the guidance on its guider
            if self.image_only:
                pipe = model.variant(HunyuanVideo15ImageToVideoPipeline)
                # The pipeline sizes the clip from the image: give it the request's shape.
                kwargs["image"] = fit_image(reference_image(request), width, height)
                del kwargs["height"], kwargs["width"]
            else:
                pipe = model.variant(HunyuanVideo15Pipeline)
            pipe.guider = pipe.guider.new(guidance_scale=kwargs.pop("guidance_scale"))
            # 2. Encode the prompt, denoise step by step (progress, cancellation), decode
            frames = self.denoise(pipe, kwargs, on_progress, request)
        # 3. Back to the size the request asked for
        return GeneratedVideo(frames=self.finish(frames, request), fps=self.fps)

    def pipeline_kwargs(
        self, request: GenerationRequest, width: int, height: int
    ) -> dict[str, Any]:
        """``call_kwargs`` less what these pipelines do not take (their text lengths are
        fixed by the pipeline)."""
        kwargs = self.call_kwargs(request, width, height)
        del kwargs["max_sequence_length"]
        kwargs["num_frames"] = self.frames_for(request.seconds)
        return kwargs
