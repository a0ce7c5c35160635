"""Per-request generation options: ``steps``, ``guidance``, ``negative_prompt``, ``loras`` and
``preset``, as the API (JSON or multipart), the studio and the CLI send them.

``parse_options`` checks shapes and ranges that hold for every model and returns the plain,
JSON-serialisable dict stored on the video and handed to the backend as
``GenerationRequest.options``::

    {"steps": 4, "guidance": 1.0, "negative_prompt": "blurry",
     "loras": [{"name": "film-grain", "scale": 0.8}], "preset": "fast"}

Whether a model takes an option (and knows a LoRA or preset by that name) is the backend's
call: ``VideoBackend.check_options``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from mutoscope.errors import InvalidRequest

OPTION_NAMES = ("steps", "guidance", "negative_prompt", "loras", "preset")
"""The user-facing options; backends may read other, internal keys from ``options``."""

MAX_STEPS = 200
MAX_GUIDANCE = 50.0
MAX_NEGATIVE_PROMPT = 10_000
MAX_LORAS = 4
MAX_LORA_SCALE = 4.0
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""LoRA and preset names."""


def parse_options(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The options in request ``fields`` (absent ones left out), checked and normalised.

    Accepts JSON values or multipart strings: ``steps`` (1-200), ``guidance`` (0-50),
    ``negative_prompt``, ``lora``/``loras`` (``"NAME"``, ``"NAME:SCALE"``, a comma-separated
    list of those, ``{"name", "scale"}``, or a list of either), ``preset`` (or its synonym
    ``quality``) and ``audio`` (true or false: false makes a silent video; every model takes
    it, and a model without sound ignores true). Raises ``InvalidRequest`` naming the parameter.
    """
    options: dict[str, Any] = {}
    if (steps := _present(fields, "steps")) is not None:
        options["steps"] = _whole(steps, "steps", 1, MAX_STEPS)
    if (guidance := _present(fields, "guidance")) is not None:
        options["guidance"] = _number(guidance, "guidance", 0.0, MAX_GUIDANCE)
    if (negative := _present(fields, "negative_prompt")) is not None:
        options["negative_prompt"] = _text(negative)
    loras = _loras(fields)
    if loras:
        options["loras"] = loras
    if (preset := _preset(fields)) is not None:
        options["preset"] = preset
    if (audio := _present(fields, "audio")) is not None:
        options["audio"] = _flag(audio, "audio")
    return options


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _flag(value: Any, name: str) -> bool:
    """A JSON boolean, or its multipart spelling (``true``/``false``, ``1``/``0``, ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise InvalidRequest(f"{name} must be true or false (got {str(value)[:40]!r})", param=name)


def lora_arg(value: str) -> dict[str, Any]:
    """One ``NAME[:SCALE]`` (the CLI's ``--lora``), as ``{"name", "scale"}``."""
    return _lora_entry(value, "lora")


def _present(fields: Mapping[str, Any], name: str) -> Any:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int | float | bool | list | dict):  # an uploaded file
        raise InvalidRequest(f"{name} must be a value, not a file", param=name)
    return value


def _whole(value: Any, name: str, low: int, high: int) -> int:
    number = _number(value, name, low, high)
    if number != int(number):
        raise InvalidRequest(f"{name} must be a whole number (got {value!r})", param=name)
    return int(number)


def _number(value: Any, name: str, low: float, high: float, param: str | None = None) -> float:
    try:
        if isinstance(value, bool | list | dict):
            raise ValueError
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise InvalidRequest(
            f"{name} must be a number from {low:g} to {high:g} (got {str(value)[:40]!r})",
            param=param or name,
        )
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRequest("negative_prompt must be a string", param="negative_prompt")
    if len(value) > MAX_NEGATIVE_PROMPT:
        raise InvalidRequest(
            f"negative_prompt is too long: {len(value):,} characters (the limit is "
            f"{MAX_NEGATIVE_PROMPT:,})",
            param="negative_prompt",
        )
    return value


def _loras(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    given = [(k, v) for k in ("lora", "loras") if (v := _present(fields, k)) is not None]
    if (split := _split_loras(fields)) is not None:
        given.append(("loras", split))
    if len(given) > 1:
        raise InvalidRequest("send either lora or loras, not both", param="loras")
    if not given:
        return []
    param, value = given[0]
    if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
        try:
            value = json.loads(value)  # multipart carries a list as JSON text
        except ValueError:
            raise InvalidRequest(f"{param} is not valid JSON", param=param) from None
    if isinstance(value, str):
        items: list[Any] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    entries = [_lora_entry(item, param) for item in items]
    if len(entries) > MAX_LORAS:
        raise InvalidRequest(f"at most {MAX_LORAS} LoRAs per request", param=param)
    names = [e["name"] for e in entries]
    if len(set(names)) != len(names):
        raise InvalidRequest(f"{param} names a LoRA more than once ({names})", param=param)
    return entries


def _split_loras(fields: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``loras=[{"name", "scale"}]`` from the SDK over multipart, which sends the names and
    the scales as two lists (``loras[][name]``, ``loras[][scale]``)."""
    names, scales = fields.get("loras[][name]"), fields.get("loras[][scale]")
    if names is None:
        return None
    names = names if isinstance(names, list) else [names]
    scales = scales if isinstance(scales, list) else [] if scales is None else [scales]
    if scales and len(scales) != len(names):
        raise InvalidRequest(
            "over multipart, give every LoRA a scale or none of them, or send "
            '"lora": "NAME:SCALE,NAME:SCALE"',
            param="loras",
        )
    return [
        {"name": name, **({"scale": scales[i]} if scales else {})} for i, name in enumerate(names)
    ]


def _lora_entry(item: Any, param: str) -> dict[str, Any]:
    scale: Any = None
    if isinstance(item, dict):
        if unknown := set(item) - {"name", "scale"}:
            raise InvalidRequest(
                f"{param} entries take 'name' and 'scale' (got {sorted(unknown)})", param=param
            )
        name, scale = item.get("name"), item.get("scale")
    elif isinstance(item, str):
        name, _, text = item.strip().partition(":")
        scale = text or None
    else:
        name = None
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidRequest(
            f'{param} must name a LoRA the model declares, as "NAME" or "NAME:SCALE" or '
            f'{{"name": "NAME", "scale": 0.8}} (got {str(item)[:60]!r})',
            param=param,
        )
    entry: dict[str, Any] = {"name": name}
    if scale is not None:
        entry["scale"] = _number(
            scale, f"{param} scale", -MAX_LORA_SCALE, MAX_LORA_SCALE, param=param
        )
    return entry


def _preset(fields: Mapping[str, Any]) -> str | None:
    preset, quality = _present(fields, "preset"), _present(fields, "quality")
    if preset is not None and quality is not None and preset != quality:
        raise InvalidRequest(
            "preset and quality are the same option; send one of them", param="preset"
        )
    value = preset if preset is not None else quality
    if value is None:
        return None
    param = "preset" if preset is not None else "quality"
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidRequest(
            f'{param} must be a preset name such as "fast" (got {str(value)[:40]!r})',
            param=param,
        )
    return value
