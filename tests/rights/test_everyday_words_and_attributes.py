"""Everyday-word aliases, description attributes and the lean MiniLM forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mutoscope.rights.lexical import used_as_name
from mutoscope.rights.normalize import words
from mutoscope.rights.registry import EntitySpec
from mutoscope.rights.service import RightsService

EXTRA = [
    EntitySpec(
        id="square",
        name="Square",
        kind="brand",
        owner="Block Inc",
        aliases=["Square"],
        description="A white square card reader and point-of-sale terminal for taking card "
        "payments in small shops, with a square logo.",
        policy="block",
    ),
    EntitySpec(
        id="nike",
        name="Nike",
        kind="brand",
        owner="Nike Inc",
        aliases=["Nike"],
        description="Athletic sneakers and sportswear with the swoosh check-mark logo and the "
        "slogan just do it.",
        policy="block",
    ),
    EntitySpec(
        id="hello-kitty",
        name="Hello Kitty",
        kind="character",
        owner="Sanrio",
        aliases=["Hello Kitty"],
        description="A white cartoon kitten with no mouth, a round head, black dot eyes, "
        "yellow nose and a red bow on her left ear.",
        policy="block",
    ),
    EntitySpec(
        id="dela",
        name="Dela",
        kind="character",
        owner="Example Studio",
        aliases=["Dela"],
        description="A cartoon heron in a yellow raincoat who runs a lighthouse.",
        policy="block",
    ),
]


@pytest.fixture
def screening(service: RightsService) -> RightsService:
    service.import_specs(EXTRA)
    return service


@pytest.mark.parametrize(
    "prompt",
    [
        "a bouncing square",
        "a big red square on a white background",
        "the Greek goddess Nike statue with wings in a museum",
        "a white kitten playing with a red ribbon",
        "a sonic boom as a jet breaks the sound barrier",
        "the sonic signature of a jet engine",
        # Function words that spell a one-word name between them: "de la" is no "Dela".
        "un puma camina entre las rocas de la Patagonia",
    ],
)
def test_everyday_words_and_common_attributes_are_allowed(
    screening: RightsService, prompt: str
) -> None:
    d = screening.check_prompt(prompt, user_id="u1")
    assert d.decision == "allow", d.reason


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("a shop counter with a Square reader", "square"),
        ("Square terminal on a cafe counter", "square"),
        ("nike sneakers on a running track", "nike"),
        ("a close-up of Nike shoes", "nike"),
        ("Sonic racing through green hills", "sonic"),
        ("a white cartoon kitten with no mouth and a red bow on her ear", "hello-kitty"),
        ("a mouthless white cat with a red bow", "hello-kitty"),
    ],
)
def test_named_uses_and_real_descriptions_are_still_blocked(
    screening: RightsService, prompt: str, entity: str
) -> None:
    d = screening.check_prompt(prompt, user_id="u1")
    assert d.decision == "block"
    assert d.entity is not None and d.entity["id"] == entity


def test_common_attribute_look_alike_is_cleared_without_the_full_model(
    screening: RightsService,
) -> None:
    screener = screening.screener()
    before = screener.full_calls
    assert screener.find("a white kitten playing with a red ribbon") == []
    assert screener.full_calls == before


def test_description_match_names_the_attributes_it_rests_on(screening: RightsService) -> None:
    d = screening.check_prompt(
        "the blue hedgehog who runs at supersonic speed collecting gold rings", user_id="u1"
    )
    assert d.decision == "block" and d.evidence is not None
    assert {"hedgehog", "supersonic"} <= set(d.evidence["attributes"])


@pytest.mark.parametrize(
    ("prompt", "index", "as_name"),
    [
        ("a bouncing square", 2, False),
        ("his loyal minions", 2, False),
        ("the sonic signature of a jet", 1, False),
        ("The Batman on a rooftop", 1, True),
        ("a girl named Elsa", 3, False),
        ("the goddess Nike", 2, False),
        ("a statue of Nike", 3, True),
        ("batman eating noodles", 0, True),
        ("kids watching sonic race", 2, True),
        ("a red ball with sonic on it", 4, True),
    ],
)
def test_a_word_is_a_name_only_where_used_as_one(prompt: str, index: int, as_name: bool) -> None:
    assert used_as_name(words(prompt), index) is as_name


def test_lean_minilm_computes_what_the_hugging_face_model_computes() -> None:
    from mutoscope.rights.minilm import LeanMiniLM, _quantize, build, load_hf_model
    from mutoscope.rights.semantic import _model_dir, _tokenizer

    hf = load_hf_model(_model_dir())
    ids = _tokenizer().encode("a spiky blue hedgehog sprinting faster than sound").ids
    with torch.inference_mode():
        x = torch.tensor([ids])
        ref = hf(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[0].mean(0)
        exact = LeanMiniLM(hf).eval()(torch.tensor(ids))
        quantised = build(_model_dir())(torch.tensor(ids))
        # The plain-call int8 forward pass is the quantised module, operation for operation.
        quantised_module = _quantize(LeanMiniLM(load_hf_model(_model_dir())).eval())
        module_out = quantised_module(torch.tensor(ids))

    def cos(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(np.dot(a.numpy(), b.numpy()) / (a.norm() * b.norm()))

    assert cos(ref, exact) > 0.9999
    assert cos(ref, quantised) > 0.96
    assert cos(module_out, quantised) > 0.99999


def test_a_replaced_description_is_encoded_again(screening: RightsService) -> None:
    old = screening.encoder.encode_cached("nike", EXTRA[1].description)
    new = screening.encoder.encode_cached("nike", "A red soda can with a white script logo.")
    assert float(np.dot(old, new)) < 0.9
