"""LTX-Video (Lightricks) through diffusers: text-, image- and video-conditioned generation.

One LTX-Video checkpoint (0.9.x, diffusers format) serves three pipelines on the same weights:
``LTXPipeline`` (text-to-video), ``LTXImageToVideoPipeline`` (``input_reference``) and
``LTXConditionPipeline``, which remix uses to condition every frame on the parent video with
partial strength (``remix_strength`` 0.7 keeps 30% of the parent's latents), and extend uses to
continue from the parent's last 9 frames (returning only the new frames).

Frame counts are ``8k + 1`` (the VAE compresses time 8x), sides multiples of 32; LTX renders
at 24 fps and handles up to 257 frames.
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
)


class LTXBackend(DiffusersBackend):
    family = "ltx"
    title = "LTX-Video"
    checkpoint_classes = ("LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline")
    default_sizes = ("768x512", "512x768")
    default_fps = 24.0
    default_max_frames = 257
    default_steps = 40
    default_guidance = 3.0
    default_max_sequence_length = 128
    frame_step = 8
    size_multiple = 32
    accepts_image = True
    accepts_video = True
    continues = True  # LTXConditionPipeline on the parent's last 9 frames

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        self.checkpoint_class(spec, checkpoint)
        super().__init__(spec, pool, checkpoint)
        # 0.9.1+ VAEs denoise while decoding; Lightricks recommends these values for them.
        self.decode_noise = bool(
            read_component_config(checkpoint, "vae").get("timestep_conditioning")
        )

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from diffusers import LTXConditionPipeline, LTXImageToVideoPipeline, LTXPipeline
        from diffusers.pipelines.ltx.pipeline_ltx_condition import linear_quadratic_schedule

        self.check(request)
        width, height = self.native_size(request)
        kwargs = self.call_kwargs(request, width, height)
        kwargs["num_frames"] = self.frames_for(request.seconds)
        kwargs["frame_rate"] = round(self.fps)
        if self.decode_noise:
            kwargs.update(decode_timestep=0.03, decode_noise_scale=0.025)
        with self.pool.use(self.spec) as model:
            # 1. Choose the pipeline: remix conditions on the parent, a reference image on itself
            if request.mode == "remix" and request.source_video is not None:
                pipe = model.variant(LTXConditionPipeline)
                kwargs["video"] = fit_video(
                    request.source_video, kwargs["num_frames"], width, height
                )
                kwargs["strength"] = 1.0 - option_number(
                    request, "strength", self.spec.remix_strength
                )
                # The pipeline's own default schedule is a tensor that numpy warns about.
                kwargs["timesteps"] = (
                    linear_quadratic_schedule(kwargs["num_inference_steps"]) * 1000
                ).tolist()
            elif request.mode == "extend" and request.source_video is not None:
                # Condition the first frames hard on the parent's tail; keep what comes after.
                pipe = model.variant(LTXConditionPipeline)
                overlap = self.frame_step + 1 if len(request.source_video) > self.frame_step else 1
                tail = request.source_video[-overlap:]
                kwargs["num_frames"] += overlap - 1
                kwargs["video"] = fit_video(tail, overlap, width, height)
                kwargs["strength"] = 1.0
                kwargs["timesteps"] = linear_quadratic_schedule(kwargs["num_inference_steps"])
                kwargs["timesteps"] = (kwargs["timesteps"] * 1000).tolist()
            elif request.image is not None:
                pipe = model.variant(LTXImageToVideoPipeline)
                kwargs["image"] = fit_image(request.image, width, height)
            else:
                pipe = model.variant(LTXPipeline)
            # 2. Encode the prompt, denoise step by step (progress, cancellation), decode
            frames = self.denoise(pipe, kwargs, on_progress, request)
            if request.mode == "extend" and "video" in kwargs:
                frames = frames[len(kwargs["video"]) :]  # the worker prepends the parent
        # 3. Back to the size the request asked for
        return GeneratedVideo(frames=self.finish(frames, request), fps=self.fps)
