"""``parse_options``: the shapes the SDK (JSON or multipart), the studio and the CLI send."""

from __future__ import annotations

import pytest

from mutoscope.api.videos import _form_fields
from mutoscope.backends.request_options import lora_arg, parse_options
from mutoscope.errors import InvalidRequest


def test_json_values_are_checked_and_normalised() -> None:
    options = parse_options(
        {
            "prompt": "ignored",
            "steps": 4,
            "guidance": 1,
            "negative_prompt": "blurry",
            "loras": [{"name": "lightx2v", "scale": 1}, {"name": "film-grain"}],
            "quality": "fast",
        }
    )
    assert options == {
        "steps": 4,
        "guidance": 1.0,
        "negative_prompt": "blurry",
        "loras": [{"name": "lightx2v", "scale": 1.0}, {"name": "film-grain"}],
        "preset": "fast",
    }


def test_absent_and_empty_fields_are_left_out() -> None:
    assert parse_options({"steps": "", "guidance": None, "lora": " ", "preset": ""}) == {}


def test_multipart_strings_parse_like_json() -> None:
    # What the SDK's multipart encoding makes of extra_body={"steps": 4, "lora": [...], ...}
    fields = _form_fields(
        [
            ("prompt", "a cat"),
            ("steps", "4"),
            ("guidance", "2.5"),
            ("lora[]", "lightx2v:1"),
            ("lora[]", "film-grain"),
        ]
    )
    assert parse_options(fields) == {
        "steps": 4,
        "guidance": 2.5,
        "loras": [{"name": "lightx2v", "scale": 1.0}, {"name": "film-grain"}],
    }


def test_sdk_multipart_list_of_lora_objects_pairs_names_with_scales() -> None:
    fields = _form_fields(
        [
            ("loras[][name]", "a"),
            ("loras[][scale]", "0.5"),
            ("loras[][name]", "b"),
            ("loras[][scale]", "2"),
        ]
    )
    assert parse_options(fields)["loras"] == [
        {"name": "a", "scale": 0.5},
        {"name": "b", "scale": 2.0},
    ]
    one_scale = _form_fields(
        [("loras[][name]", "a"), ("loras[][name]", "b"), ("loras[][scale]", "1")]
    )
    with pytest.raises(InvalidRequest, match="every LoRA a scale or none"):
        parse_options(one_scale)


def test_comma_separated_loras_and_json_text() -> None:
    assert parse_options({"lora": "a:0.5, b"})["loras"] == [
        {"name": "a", "scale": 0.5},
        {"name": "b"},
    ]
    assert parse_options({"loras": '[{"name": "a"}]'})["loras"] == [{"name": "a"}]
    assert lora_arg("style:-0.5") == {"name": "style", "scale": -0.5}


@pytest.mark.parametrize(
    ("fields", "param", "says"),
    [
        ({"steps": 0}, "steps", "from 1 to 200"),
        ({"steps": 201}, "steps", "from 1 to 200"),
        ({"steps": 2.5}, "steps", "whole number"),
        ({"steps": True}, "steps", "from 1 to 200"),
        ({"guidance": "nan"}, "guidance", "from 0 to 50"),
        ({"guidance": -1}, "guidance", "from 0 to 50"),
        ({"negative_prompt": 3}, "negative_prompt", "must be a string"),
        ({"negative_prompt": "x" * 10_001}, "negative_prompt", "too long"),
        ({"lora": "a:9"}, "lora", "lora scale must be a number from -4 to 4"),
        ({"lora": "../etc/passwd"}, "lora", "must name a LoRA"),
        ({"lora": "a", "loras": ["b"]}, "loras", "either lora or loras"),
        ({"loras": ["a", "a"]}, "loras", "more than once"),
        ({"loras": ["a", "b", "c", "d", "e"]}, "loras", "at most 4"),
        ({"loras": [{"name": "a", "weight": 1}]}, "loras", "take 'name' and 'scale'"),
        ({"loras": "[not json"}, "loras", "not valid JSON"),
        ({"preset": "fast", "quality": "slow"}, "preset", "same option"),
        ({"quality": "../x"}, "quality", "preset name"),
    ],
)
def test_bad_values_are_refused_naming_the_param(fields: dict, param: str, says: str) -> None:
    with pytest.raises(InvalidRequest, match=says) as err:
        parse_options(fields)
    assert err.value.param == param
