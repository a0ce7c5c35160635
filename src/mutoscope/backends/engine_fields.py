"""How a ``GenerationRequest`` becomes an engine's ``POST /v1/videos`` body, per engine.

Every engine takes ``prompt`` and most take ``model``; beyond that they differ:

* ``mutoscope`` / ``openai``: the OpenAI contract, ``size`` ("1280x720") and ``seconds`` ("4");
  a Mutoscope upstream also takes ``seed`` and the request's options;
* ``vllm-omni``: multipart form fields ``width``, ``height``, ``num_frames``, ``fps``,
  ``num_inference_steps``, ``guidance_scale``, ``seed``, ``negative_prompt``; ``input_reference``
  may be an image (image-to-video) or an MP4 (video-to-video);
* ``sglang`` (SGLang Diffusion, FastVideo's server): JSON with ``size``, integer ``seconds``,
  ``num_frames``, ``fps`` and the same sampling fields; multipart only with an
  ``input_reference`` file (its multipart form requires one);
* ``dynamo``: JSON with the OpenAI fields; engine-specific ones come from ``[models.fields]``.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

Encoding = Literal["multipart", "json-unless-file", "json"]
Scalar = str | int | float | bool

#: Every field a mapping may send, and where its value comes from (see ``request_fields``).
FIELDS = (
    "model",
    "size",
    "seconds",
    "width",
    "height",
    "num_frames",
    "fps",
    "num_inference_steps",
    "guidance_scale",
    "seed",
    "negative_prompt",
)


@dataclass(frozen=True)
class FieldMapping:
    """One engine's request shape."""

    encoding: Encoding
    send: frozenset[str]
    seconds_as_int: bool = False
    pass_options: bool = False
    """Forward ``request.options`` as top-level fields (a Mutoscope upstream reads them)."""
    remix: Literal["upstream", "video-upload", "none"] = "none"
    """``upstream``: ``POST /videos/{id}/remix`` on the engine's own copy of the parent;
    ``video-upload``: the parent as an MP4 ``input_reference`` (video-to-video models)."""


_SAMPLING = frozenset({"num_inference_steps", "guidance_scale", "seed", "negative_prompt"})

PRESETS: dict[str, FieldMapping] = {
    "mutoscope": FieldMapping(
        "json-unless-file",
        frozenset({"model", "size", "seconds", "seed"}),
        pass_options=True,
        remix="upstream",
    ),
    "openai": FieldMapping(
        "json-unless-file", frozenset({"model", "size", "seconds"}), remix="upstream"
    ),
    "vllm-omni": FieldMapping(
        "multipart",
        frozenset({"model", "width", "height", "num_frames", "fps"}) | _SAMPLING,
        remix="video-upload",
    ),
    "sglang": FieldMapping(
        "json-unless-file",
        frozenset({"model", "size", "seconds", "width", "height", "num_frames", "fps"}) | _SAMPLING,
        seconds_as_int=True,
    ),
    "dynamo": FieldMapping("json", frozenset({"model", "size", "seconds"})),
}
PRESETS["fastvideo"] = PRESETS["sglang"]  # SGLang's video API was adapted from FastVideo's


#: Request options (``GenerationRequest.options``) an engine receives, by the field it sends.
OPTION_FIELDS = {
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "negative_prompt": "negative_prompt",
}


def options_taken(mapping: FieldMapping) -> frozenset[str]:
    """The per-request options a model on this engine takes (all, for a Mutoscope upstream,
    which checks them itself)."""
    if mapping.pass_options:
        return frozenset({"steps", "guidance", "negative_prompt", "loras", "preset"})
    return frozenset(option for field, option in OPTION_FIELDS.items() if field in mapping.send)


@dataclass(frozen=True)
class Sampling:
    """What the operator configured for one engine model (``None``: leave it to the engine)."""

    upstream_model: str | None = None
    fps: float = 24.0
    frame_step: int = 1
    """Frame counts the engine's model needs: ``k * frame_step + 1`` when above 1 (Wan: 4)."""
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str | None = None
    size_map: Mapping[str, str] | None = None
    """API size -> the size the engine renders at (the output is resized back)."""


def num_frames(seconds: str, fps: float, frame_step: int = 1) -> int:
    count = max(1, round(float(seconds) * fps))
    if frame_step > 1:
        count = math.ceil((count - 1) / frame_step) * frame_step + 1
    return count


def engine_size(size: str, sampling: Sampling) -> tuple[int, int]:
    native = (sampling.size_map or {}).get(size, size)
    width, height = native.split("x")
    return int(width), int(height)


def request_fields(
    mapping: FieldMapping,
    sampling: Sampling,
    *,
    prompt: str,
    size: str,
    seconds: str,
    seed: int,
    options: Mapping[str, object],
    extra: Mapping[str, Scalar],
) -> dict[str, Scalar]:
    """The body fields (not files) for one create call, in the engine's names."""
    width, height = engine_size(size, sampling)
    steps = options.get("steps", sampling.steps)
    guidance = options.get("guidance", sampling.guidance)
    negative = options.get("negative_prompt", sampling.negative_prompt)
    values: dict[str, Any] = {
        "model": sampling.upstream_model,
        "size": f"{width}x{height}",
        "seconds": int(float(seconds)) if mapping.seconds_as_int else seconds,
        "width": width,
        "height": height,
        "num_frames": num_frames(seconds, sampling.fps, sampling.frame_step),
        "fps": round(sampling.fps),
        "num_inference_steps": steps,
        "guidance_scale": guidance,
        "seed": seed,
        "negative_prompt": negative,
    }
    fields: dict[str, Scalar] = {"prompt": prompt}
    for name in FIELDS:
        if name in mapping.send and values[name] is not None:
            fields[name] = values[name]
    if mapping.pass_options:
        for key, value in options.items():
            if key == "loras" and isinstance(value, list):
                value = ",".join(f"{lora['name']}:{lora['scale']}" for lora in value)
            if isinstance(value, str | int | float | bool):
                fields.setdefault(key, value)
    fields.update(extra)
    return fields


def encode_body(
    mapping: FieldMapping,
    fields: Mapping[str, Scalar],
    files: Mapping[str, tuple[str, bytes, str]],
) -> dict[str, Any]:
    """``httpx`` keyword arguments: ``json=`` or a multipart ``files=``."""
    multipart = mapping.encoding == "multipart" or (
        mapping.encoding == "json-unless-file" and bool(files)
    )
    if not multipart:
        return {"json": dict(fields)}
    # Plain fields as file-less parts, so the body is multipart even without a file.
    parts: dict[str, Any] = {k: (None, _form_value(v)) for k, v in fields.items()}
    parts.update(files)
    return {"files": parts}


def _form_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def png_file(image: Image.Image) -> tuple[str, bytes, str]:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG")
    return ("reference.png", buf.getvalue(), "image/png")
