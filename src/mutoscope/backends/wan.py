"""Wan 2.1 / 2.2 (Alibaba) through diffusers: text-, image- and video-to-video.

Which pipelines a checkpoint serves is read from its ``model_index.json`` at start-up:

* Wan 2.1 T2V (1.3B, 14B): text-to-video, and video-to-video for remix
  (``WanVideoToVideoPipeline`` on the same weights).
* Wan 2.1 / 2.2 I2V (``WanImageToVideoPipeline`` checkpoints): image-to-video only; a remix
  without a reference image starts from the parent video's first frame.
* Wan 2.2 TI2V-5B (``expand_timesteps``): text- and image-to-video on the same weights; a
  remix starts from the parent video's first frame.
* Wan 2.2 A14B (``transformer_2``): text-to-video with the two-expert denoiser.

Frame counts are ``4k + 1`` (the VAE compresses time 4x). Wan 2.1 and 2.2 A14B render up to
81 frames at 16 fps (832x480 by default; list 1280x720 in ``sizes`` for 720p checkpoints),
Wan 2.2 TI2V-5B up to 121 frames at 24 fps at 1280x704. Wan was trained on many aspect ratios,
so each request is generated at its own aspect ratio and cropped to its exact size.
"""

from __future__ import annotations

from pathlib import Path

from mutoscope.backends.base import GeneratedVideo, GenerationRequest, ProgressCallback
from mutoscope.backends.diffusers_models import (
    DiffusersBackend,
    ModelSpec,
    PipelinePool,
    fit_image,
    fit_video,
    option_number,
    read_component_config,
    reference_image,
)


class WanFamilyBackend(DiffusersBackend):
    """What the Wan 2.1 backbone sets for every pipeline built on it (``wan``, ``wan-vace``):
    its VAE compresses time 4x, it renders 81 frames at 16 fps at 480p, its umT5 encoder reads
    512 tokens. A checkpoint may refine them in ``__init__`` (Wan 2.2 TI2V-5B)."""

    default_sizes = ("832x480", "480x832")
    default_fps = 16.0
    default_max_frames = 81
    default_steps = 30
    default_guidance = 5.0
    default_max_sequence_length = 512
    frame_step = 4


class WanBackend(WanFamilyBackend):
    family = "wan"
    title = "Wan T2V/I2V"
    checkpoint_classes = ("WanPipeline", "WanImageToVideoPipeline")

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        self.image_only = self.checkpoint_class(spec, checkpoint) == "WanImageToVideoPipeline"
        index = read_component_config(checkpoint)
        two_experts = bool(index.get("transformer_2", [None])[0])
        expand_timesteps = bool(index.get("expand_timesteps", False))
        if expand_timesteps:
            # TI2V-5B: its VAE compresses space 16x; trained at 1280x704, 121 frames at 24 fps
            self.size_multiple = 32
            self.default_sizes = ("1280x704", "704x1280")
            self.default_fps = 24.0
            self.default_max_frames = 121
        super().__init__(spec, pool, checkpoint)
        self.accepts_image = self.image_only or expand_timesteps
        # Image-to-video checkpoints start from a character's first reference frame.
        self.accepts_references = self.accepts_image
        # V2V re-noises the parent's latents with one denoiser; the Wan 2.1 T2V layout only.
        self.accepts_video = not (self.image_only or two_experts or expand_timesteps)
        # An extension is image-to-video from the parent's last frame (``reference_image``).
        self.continues = self.accepts_image

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from diffusers import WanImageToVideoPipeline, WanPipeline, WanVideoToVideoPipeline

        self.check(request)
        width, height = self.native_size(request)
        num_frames = self.frames_for(request.seconds)
        kwargs = self.call_kwargs(request, width, height)
        with self.pool.use(self.spec) as model:
            # 1. Choose the pipeline: remix re-noises the parent video where the weights allow
            #    (V2V); image-capable models otherwise start from a parent frame
            source = request.source_video if request.mode == "remix" else None
            from_parent_frame = self.accepts_image and request.source_video is not None
            if source is not None and self.accepts_video:
                pipe = model.variant(WanVideoToVideoPipeline)
                kwargs["video"] = fit_video(source, num_frames, width, height)
                kwargs["strength"] = option_number(request, "strength", self.spec.remix_strength)
            elif (
                request.image is not None
                or request.references
                or self.image_only
                or from_parent_frame
            ):
                pipe = model.variant(WanImageToVideoPipeline)
                kwargs["image"] = fit_image(reference_image(request), width, height)
                kwargs["num_frames"] = num_frames
            else:
                pipe = model.variant(WanPipeline)
                kwargs["num_frames"] = num_frames
            # 2. Encode the prompt, denoise step by step (progress, cancellation), decode
            frames = self.denoise(pipe, kwargs, on_progress, request)
        if request.mode == "extend" and request.image is None and "image" in kwargs:
            frames = frames[1:]  # frame 0 is the parent's last frame: the worker has it already
        # 3. Back to the size the request asked for
        return GeneratedVideo(frames=self.finish(frames, request), fps=self.fps)
