"""CogVideoX (THUDM / Zhipu) through diffusers: text-, image- and video-to-video.

* CogVideoX-2b / -5b / 1.5-5b (``CogVideoXPipeline`` checkpoints): text-to-video, and
  video-to-video for remix (``CogVideoXVideoToVideoPipeline`` on the same weights).
* CogVideoX-5b-I2V / 1.5-5b-I2V (``CogVideoXImageToVideoPipeline``): image-to-video only; a
  remix without a reference image starts from the parent video's first frame.

CogVideoX is trained on a few fixed clip lengths and sizes, so it always generates one of
them and the clip is trimmed to the requested ``seconds`` (never stretched in time or space):

* 1.0 (2b, 5b, 5b-I2V): 49 frames at 8 fps (6.1 s) at 720x480; "4" seconds keeps the first
  32 frames, longer clips are refused.
* 1.5 (``patch_size_t`` in the transformer): 81 or 161 frames at 16 fps; T2V at 1360x768,
  I2V at any size whose short side is 768 (it is generated at the request's aspect ratio).
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


class CogVideoXBackend(DiffusersBackend):
    family = "cogvideox"
    title = "CogVideoX T2V/I2V"
    checkpoint_classes = ("CogVideoXPipeline", "CogVideoXImageToVideoPipeline")
    default_sizes: tuple[str, ...] = ("720x480",)
    default_fps = 8.0
    default_max_frames = 49
    trained_frames: tuple[int, ...] = (49,)
    flexible_sizes = False
    default_steps = 50
    default_guidance = 6.0
    default_max_sequence_length = 226
    frame_step = 4

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        kind = self.checkpoint_class(spec, checkpoint)
        self.image_only = kind == "CogVideoXImageToVideoPipeline"
        if read_component_config(checkpoint, "transformer").get("patch_size_t"):
            self.default_fps, self.default_max_frames = 16.0, 161
            self.trained_frames = (81, 161)
            self.default_sizes = ("1360x768", "768x1360") if self.image_only else ("1360x768",)
            self.flexible_sizes = self.image_only
        super().__init__(spec, pool, checkpoint)
        self.accepts_image = self.image_only
        self.accepts_video = not self.image_only
        # An extension is image-to-video from the parent's last frame (``reference_image``).
        self.continues = self.image_only

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from diffusers import (
            CogVideoXImageToVideoPipeline,
            CogVideoXPipeline,
            CogVideoXVideoToVideoPipeline,
        )

        self.check(request)
        width, height = self.native_size(request)
        num_frames = self.frames_for(request.seconds)
        kwargs = self.call_kwargs(request, width, height)
        with self.pool.use(self.spec) as model:
            # 1. Choose the pipeline: remix conditions on the parent, a reference image on itself
            source = request.source_video if request.mode == "remix" else None
            if self.image_only:
                pipe = model.variant(CogVideoXImageToVideoPipeline)
                # (a remix on an image-only model starts from the parent's first frame)
                kwargs["image"] = fit_image(reference_image(request), width, height)
                kwargs["num_frames"] = num_frames
            elif source is not None:
                pipe = model.variant(CogVideoXVideoToVideoPipeline)
                kwargs["video"] = fit_video(source, num_frames, width, height)
                kwargs["strength"] = option_number(request, "strength", self.spec.remix_strength)
            else:
                pipe = model.variant(CogVideoXPipeline)
                kwargs["num_frames"] = num_frames
            # 2. Encode the prompt, denoise step by step (progress, cancellation), decode
            frames = self.denoise(pipe, kwargs, on_progress, request)
        if request.mode == "extend" and request.image is None and "image" in kwargs:
            frames = frames[1:]  # frame 0 is the parent's last frame: the worker has it already
        # 3. Back to the size the request asked for
        return GeneratedVideo(frames=self.finish(frames, request), fps=self.fps)
