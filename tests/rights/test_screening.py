from __future__ import annotations

import pytest

from mutoscope.errors import PromptRejected
from mutoscope.rights.service import RightsService
from mutoscope.worker.hooks import ScreenRequest


@pytest.mark.parametrize(
    "prompt",
    [
        "Example Mouse dancing on a beach",
        "EXAMPLE-MOUSE dancing",
        "E x a m p l e  M o u s e waving",
        "Exmoose riding a bike",
        "3x4mpl3 M0us3 in the rain",
        "Ехаmрlе Моusе in a park",  # Cyrillic look-alikes
        "A long cinematic shot over a city at dusk with rain and neon and, in the corner, "
        "Exmouse eating noodles, 35mm film grain",
        "the blue hedgehog who runs at supersonic speed collecting gold rings",
    ],
)
def test_evasions_of_protected_names_are_blocked(service: RightsService, prompt: str) -> None:
    assert service.check_prompt(prompt, user_id="u1").decision == "block"


@pytest.mark.parametrize(
    "prompt",
    [
        "a hedgehog in a garden",
        "a field mouse eating seeds",
        "a sonic boom as a jet breaks the sound barrier",
    ],
)
def test_innocent_look_alikes_are_allowed(service: RightsService, prompt: str) -> None:
    assert service.check_prompt(prompt, user_id="u1").decision == "allow"


def test_blocked_request_raises_with_a_reason_a_user_understands(service: RightsService) -> None:
    with pytest.raises(PromptRejected) as info:
        service.screen_request(ScreenRequest(prompt="Exmoose on a boat", user_id="u1"))
    assert info.value.code == "moderation_blocked"
    assert "'Exmoose' looks like Example Mouse (character, Example Studios)" in info.value.message
    assert info.value.decision.evidence["method"] in {"fuzzy", "phonetic"}


def test_licensed_entity_is_allowed_for_licensees_with_attribution(service: RightsService) -> None:
    assert service.check_prompt("Licensed Cat juggling", user_id="stranger").decision == "block"
    screening = service.screen_request(
        ScreenRequest(prompt="Licensed Cat juggling", user_id="partner")
    )
    assert screening.attributions == [
        {
            "entity_id": "licensed-cat",
            "name": "Licensed Cat",
            "owner": "Cat Co",
            "attribution": "Licensed Cat is a trademark of Cat Co",
        }
    ]


def test_license_forbidden_theme_blocks_even_licensees(service: RightsService) -> None:
    d = service.check_prompt("Licensed Cat in a violent fight", user_id="partner")
    assert d.decision == "block" and "violence" in d.reason


def test_person_needs_consent_and_revocation_takes_effect(service: RightsService) -> None:
    assert service.check_prompt("Jane Star singing", user_id="fan").decision == "block"
    service.grant_consent("jane-star", "fan")
    assert service.check_prompt("Jane Star singing", user_id="fan").decision == "allow"
    service.revoke_consent("jane-star", "fan")
    assert service.check_prompt("Jane Star singing", user_id="fan").decision == "block"


def test_removed_entity_is_no_longer_screened(service: RightsService) -> None:
    service.remove_entity("sonic")
    assert service.check_prompt("Sonic the Hedgehog racing", user_id="u").decision == "allow"
