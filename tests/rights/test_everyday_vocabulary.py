"""The everyday vocabulary: dictionary common words count, proper names do not."""

from __future__ import annotations

import pytest

from mutoscope.rights.lexical import foreign_words, is_everyday, known_words
from mutoscope.rights.registry import EntitySpec
from mutoscope.rights.service import RightsService
from tests.rights.conftest import blocked_as


@pytest.mark.parametrize("word", ["dory", "kayak", "tails", "dinghy", "whopper", "creeper"])
def test_dictionary_common_words_are_everyday(word: str) -> None:
    assert is_everyday(word, known_words())


@pytest.mark.parametrize("word", ["shrek", "pikachu", "simba", "yoda", "zelda", "gandalf"])
def test_proper_names_are_not_everyday(word: str) -> None:
    # The dictionary writes names capitalised ("Mickey"): only its lowercase entries count,
    # so a coined character name stays a name that blocks however it is written.
    assert not is_everyday(word, known_words())


@pytest.mark.parametrize(
    "prompt",
    ["a blue dory tied to the jetty at dawn", "an old fisherman painting his dory red"],
)
def test_a_name_that_is_a_dictionary_word_needs_context(
    starter: RightsService, prompt: str
) -> None:
    assert starter.check_prompt(prompt, user_id="u", record=False).decision == "allow"


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Dory the forgetful blue tang fish swimming with Nemo", "dory"),
        ("a plush of shrek on a shelf", "shrek"),
        ("a poster of batman on a bedroom wall", "batman"),
    ],
)
def test_names_still_block(starter: RightsService, prompt: str, entity: str) -> None:
    d = starter.check_prompt(prompt, user_id="u", record=False)
    assert d.decision == "block" and (d.entity or {}).get("id") == entity


INVENTED = [
    EntitySpec(
        id="nona",
        name="Nona",
        kind="character",
        owner="Invented Co",
        aliases=["Nona"],
        description="A tiny purple gremlin with copper antlers who hoards lost buttons.",
        policy="block",
    ),
    EntitySpec(
        id="seve",
        name="Seve",
        kind="character",
        owner="Invented Co",
        aliases=["Seve"],
        description="A lanky teal robot butler with a monocle and a squeaky wheel.",
        policy="block",
    ),
    EntitySpec(
        id="cigazuda",
        name="Cigazuda",
        kind="character",
        owner="Invented Co",
        aliases=["Cigazuda"],
        description="A vozeka tumiba with rakuto pelasi from the zorimu saga.",
        policy="block",
    ),
]


@pytest.fixture
def invented(service: RightsService) -> RightsService:
    service.import_specs(INVENTED)
    return service


@pytest.mark.parametrize(
    "prompt",
    [
        # An Italian common word is not a typo of a registered name one letter away.
        "una nonna che prepara la pasta in cucina",
        # A possessive ending starts no name ("year's eve" holds s+eve).
        "fireworks over the bay on new year's eve",
        # Three words of Korean grammar are not a one-word name read back by sound.
        "고양이가 창가에서 자고 있다",
    ],
)
def test_words_of_other_languages_and_grammar_are_not_names(
    invented: RightsService, prompt: str
) -> None:
    assert invented.check_prompt(prompt, user_id="u", record=False).decision == "allow"


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Nona hoarding buttons in a drawer", "nona"),
        ("Seve's monocle glinting", "seve"),
        ("Cigazudaa dancing", "cigazuda"),
    ],
)
def test_invented_names_still_block(invented: RightsService, prompt: str, entity: str) -> None:
    d = invented.check_prompt(prompt, user_id="u", record=False)
    assert d.decision == "block" and (d.entity or {}).get("id") == entity


def test_foreign_common_words_are_prompt_side_only(starter: RightsService) -> None:
    # "mario" is common in Italian text, yet a registered "Mario" stays a name: the foreign
    # lists only stop prompt words being read as typos of names.
    assert {"nonna", "herisson", "ourico", "mario"} <= foreign_words()
    d = starter.check_prompt("mario jumping over a green pipe", user_id="u", record=False)
    assert d.decision == "block" and (d.entity or {}).get("id") == "mario"


def test_a_description_match_needs_a_word_the_model_knows(invented: RightsService) -> None:
    # Transliterations and invented words share sub-word fragments, not meaning.
    screener = invented.screener()
    assert not screener._grounded(["koshka", "zorimu"])
    assert not screener._grounded([])
    assert screener._grounded(["koshka", "purple"])


@pytest.mark.parametrize(
    "prompt",
    [
        # Two everyday words in lowercase, used as words.
        "an iron man race with swimmers entering the cold lake",
        "a toy store window full of teddy bears at christmas",
        "the matrix of pixels on an old lcd screen",
        # A name followed by whose it is, a title and a given name, another numeral.
        "Kirby my hamster running in his wheel",
        "Sir Robert Garfield opening a village library",
        "King Charles I riding to battle in 1642",
    ],
)
def test_everyday_phrases_and_other_people_are_allowed(starter: RightsService, prompt: str) -> None:
    assert blocked_as(starter, prompt) is None


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Iron Man flying over New York in his red and gold armour", "iron-man"),
        ("iron man flying over new york", "iron-man"),
        ("Toy Story characters having a picnic", "toy-story"),
        ("Kirby inhaling a strawberry cake", "kirby"),
        ("Garfield eating lasagna on a Monday", "garfield"),
    ],
)
def test_names_written_as_names_still_block(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    "prompt",
    [
        # The capital of a sentence's first word is the sentence's, not a name's.
        "Apple blossom in a spring orchard",
        "Shell washed up on a pebble beach",
        "Puma on a rocky ledge at dusk",
        # A common noun with its complement.
        "minions of the evil sorcerer carrying torches",
        # The prompt says whose name it is; one shared trait (a job) is that person's.
        "a plumber named Mario unblocking a kitchen drain",
    ],
)
def test_sentence_capitals_complements_and_named_people_are_allowed(
    starter: RightsService, prompt: str
) -> None:
    assert blocked_as(starter, prompt) is None


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Coke fizzing over ice in a tall glass", "coca-cola"),
        ("Batman gliding over Gotham at night", "batman"),
        ("a plumber named Mario in a red cap and blue overalls stomping on goombas", "mario"),
    ],
)
def test_a_first_word_that_acts_is_still_a_name(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    "prompt",
    [
        "a cyborg hitman with one glowing red eye, original sci-fi short",
        "a red tin of fizzy cola with a white wave logo, store brand",
        "a bronze robot hero with a glowing visor, my own game concept",
    ],
)
def test_a_look_alike_the_prompt_calls_original_is_allowed(
    starter: RightsService, prompt: str
) -> None:
    assert blocked_as(starter, prompt) is None


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Pikachu in an original pose, my own fan art", "pikachu"),
        ("a fat orange tabby cat eating lasagna, original cartoon", "garfield"),
    ],
)
def test_calling_it_original_does_not_clear_a_name_or_a_full_description(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity
