"""LTX-2 (Lightricks) through diffusers: video with synchronised audio, from text, an image, or a
parent video.

One LTX-2 checkpoint (diffusers format) serves three pipelines on the same weights:
``LTX2Pipeline`` (text-to-video+audio), ``LTX2ImageToVideoPipeline`` (``input_reference``) and
``LTX2ConditionPipeline``, which remix uses to condition every frame on the parent video with
partial strength, and extend uses to continue from the parent's last 9 frames (returning only
the new frames and their sound).

The soundtrack comes back through ``GeneratedVideo.audio`` at the vocoder's sample rate,
trimmed to the clip's length. Frame counts are ``8k + 1`` (the VAE compresses time 8x), sides
multiples of 32; LTX-2 renders at 24 fps and was trained on many aspect ratios.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
from mutoscope.media.audio import AudioTrack, audio_requested


class LTX2Backend(DiffusersBackend):
    family = "ltx2"
    title = "LTX-2"
    checkpoint_classes = ("LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2ConditionPipeline")
    default_sizes = ("768x512", "512x768")
    default_fps = 24.0
    default_max_frames = 257
    default_steps = 40
    default_guidance = 4.0
    default_max_sequence_length = 1024
    frame_step = 8
    size_multiple = 32
    accepts_image = True
    accepts_video = True
    continues = True  # LTX2ConditionPipeline on the parent's last 9 frames
    makes_audio = True

    def __init__(self, spec: ModelSpec, pool: PipelinePool, checkpoint: Path):
        self.checkpoint_class(spec, checkpoint)
        super().__init__(spec, pool, checkpoint)
        self.sample_rate = int(
            read_component_config(checkpoint, "vocoder").get("output_sampling_rate", 24000)
        )

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from diffusers import LTX2ConditionPipeline, LTX2ImageToVideoPipeline, LTX2Pipeline
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

        self.check(request)
        width, height = self.native_size(request)
        kwargs = self.call_kwargs(request, width, height)
        kwargs["num_frames"] = self.frames_for(request.seconds)
        kwargs["frame_rate"] = self.fps
        overlap = 0
        with self.pool.use(self.spec) as model:
            # 1. Choose the pipeline: remix conditions on the parent, extend on its tail, a
            #    reference image on itself
            source = request.source_video
            if request.mode == "remix" and source is not None:
                pipe = model.variant(LTX2ConditionPipeline)
                video = fit_video(source, kwargs["num_frames"], width, height)
                strength = 1.0 - option_number(request, "strength", self.spec.remix_strength)
                kwargs["conditions"] = [LTX2VideoCondition(frames=video, strength=strength)]
            elif request.mode == "extend" and source is not None:
                # Condition the first frames hard on the parent's tail; keep what comes after.
                pipe = model.variant(LTX2ConditionPipeline)
                overlap = self.frame_step + 1 if len(source) > self.frame_step else 1
                kwargs["num_frames"] += overlap - 1
                tail = fit_video(source[-overlap:], overlap, width, height)
                kwargs["conditions"] = [LTX2VideoCondition(frames=tail, strength=1.0)]
            elif request.image is not None:
                pipe = model.variant(LTX2ImageToVideoPipeline)
                kwargs["image"] = fit_image(request.image, width, height)
            else:
                pipe = model.variant(LTX2Pipeline)
            # 2. Encode the prompt, denoise video and audio together, decode both
            rendered = self.render(pipe, kwargs, on_progress, request)
        # 3. Drop the conditioning overlap (the worker prepends the parent), then fit the
        #    frames to the request and the sound to the frames
        frames = self.finish(rendered.frames[overlap:], request)
        audio = None
        if rendered.audio is not None and audio_requested(request.options):
            audio = self.soundtrack(rendered.audio, skip=overlap, frames=len(frames))
        return GeneratedVideo(frames=frames, fps=self.fps, audio=audio)

    def soundtrack(self, samples: np.ndarray, *, skip: int, frames: int) -> AudioTrack:
        """The samples that play with ``frames`` frames after the first ``skip`` ones."""
        start = round(skip / self.fps * self.sample_rate)
        length = round(frames / self.fps * self.sample_rate)
        kept = samples[:, start : start + length]
        # The causal audio VAE decodes a few ms less than the clip: end on silence, exactly.
        short = length - kept.shape[1]
        return AudioTrack(np.pad(kept, ((0, 0), (0, short))), self.sample_rate)
