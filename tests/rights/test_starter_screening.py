"""Screening against the shipped starter registry: one group of examples per kind of
phrasing the generalisation set measures (none of these prompts is in that set)."""

from __future__ import annotations

import pytest
import yaml

from mutoscope.rights.gloss import gloss, is_foreign
from mutoscope.rights.lexical import someone_else
from mutoscope.rights.normalize import skeleton, squash, words
from mutoscope.rights.registry import load_registry
from mutoscope.rights.service import RightsService
from tests.rights.conftest import STARTER, blocked_as


def test_starter_registry_is_a_valid_versioned_import_file() -> None:
    raw = yaml.safe_load(STARTER.read_text(encoding="utf-8"))
    assert isinstance(raw["version"], int)
    specs = load_registry(STARTER)
    assert len(specs) >= 250
    assert {s.kind for s in specs} == {"character", "brand", "work", "person"}
    for s in specs:
        assert s.owner and s.description and s.aliases, s.id
        assert s.policy == ("consent" if s.kind == "person" else "block"), s.id


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Mickey Mouse's girlfriend in a red polka-dot dress baking cookies", "minnie-mouse"),
        ("Minnie Mouse's boyfriend waving his white gloves", "mickey-mouse"),
        ("the bushy-bearded gamekeeper of Hogwarts riding a flying motorbike", "hagrid"),
        ("the speedy blue hedgehog from Sega eating a chili dog", "sonic"),
        ("the founder of Microsoft answering questions at a charity gala", "bill-gates"),
        ("Amazon's founder waving from a rocket launch pad", "jeff-bezos"),
    ],
)
def test_indirect_references_by_relation_franchise_or_owner(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("Micky Maus fährt Fahrrad im Park", "mickey-mouse"),
        ("el erizo azul de Sega corre con sus zapatillas rojas", "sonic"),
        ("Paperino che pesca su una barca", "donald-duck"),
        ("Doraemon ga kōen de asobu", "doraemon"),
    ],
)
def test_other_languages(starter: RightsService, prompt: str, entity: str) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("a dad checking the score on his iphone", "apple"),
        ("two kids sharing a big bag of doritos on the sofa", "doritos"),
        ("a courier racing through town on a harley davidson", "harley-davidson"),
        # A brand name no dictionary holds is the brand however it is written.
        ("an old samsung fridge humming in a dim kitchen", "samsung"),
        # ... and so are its forms as a verb.
        ("a grandmother googling a recipe on her tablet", "google"),
        ("a biker gang on chrome harleys riding into the sunset", "harley-davidson"),
        ("two boys swapping shiny pokemon cards on the bus", "pokemon"),
    ],
)
def test_lowercase_trademarks_in_brand_clear_context(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        (
            "an old bearded school principal with crescent-moon spectacles and long violet robes",
            "dumbledore",
        ),
        (
            "a young wizard boy in round glasses with a lightning-shaped scar on his forehead",
            "harry-potter",
        ),
    ],
)
def test_paraphrased_descriptions(starter: RightsService, prompt: str, entity: str) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("ホーマーシンプソンがビールを飲む", "homer-simpson"),  # no katakana alias registered
        ("スーパーマンが街を守る", "superman"),
        ("クロミちゃんが夜の街でウインクする", "kuromi"),  # "-chan" is a fan's, not someone's
        ("피카추가 풀밭에서 뛰어논다", "pikachu"),  # hangul spelling variants stay names
        ("피카츄가 웃는다", "pikachu"),
        ("一个蝙蝠侠玩偶站在窗台上", "batman"),  # inside a run of Chinese text
        ("ο Σπάιντερμαν σκαρφαλώνει σε έναν τοίχο", "spider-man"),
        ("باتمان في المدينة", "batman"),
        ("ガンダムのプラモデルを組み立てる", "gundam"),  # not read as a misspelt Gandalf
    ],
)
def test_other_scripts(starter: RightsService, prompt: str, entity: str) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    "prompt",
    [
        "my uncle Luigi fixing his old Vespa in the garage",
        "a baker named Elsa kneading dough at dawn",
        "Yoshi, a taxi driver in Kyoto, waiting at a rank",
        "Sherlock Holmes reading a letter by the fire",
        "a row of crocs basking on a sandbank",
        "a coke oven glowing at an old steel mill",
        "a red bull standing behind a farm gate",
        "a jar of strawberry jam on a breakfast table",
        "a man in a red cap and dungarees painting a garden shed",
        "der Hund schläft über dem Sofa",
        "the captain of the school football team lifting a trophy",
        "a winged statue of the goddess nike in a museum",
        "老鼠在厨房里偷奶酪",
        "a barge's rusting hulk moored in an estuary",
        "two whiskies on the rocks at a hotel bar",
        # A dictionary word taken out of a longer name ("Tom Nook", "T-visor") is a key
        # name only when capitalised.
        "a cozy reading nook by a rainy window",
        "a welder lowering the dark visor of his helmet",
        # Plain plurals, counts, idioms, myths and made-up look-alikes.
        "two street fighters trading punches behind a noodle bar",
        "a magnet rated at three teslas in a physics lab",
        "a fox with three tails sleeping under a maple tree",
        "my grandfather calls my sister the apple of his eye",
        "a relief of Nike, goddess of victory, on a temple frieze",
        "the Norse god Thor fighting the Midgard Serpent in a storm",
        "a cartoon bear mascot for a made-up honey cereal",
        "la petite Chanel joue dans le jardin de sa grand-mère",
        "mormor Karin läser en bok i soffan",
        # Words of the prompt's own language, breeds, modifiers, surnames, honorifics.
        "mijn vader repareert de fiets in de schuur",
        "een groot feest in de tuin met lampjes",
        "une maman lit une histoire à son fils avant de dormir",
        "a King Charles spaniel asleep on a rug by the fire",
        "a bag of frozen peas on a bruised knee",
        "Elsa Lindqvist, en sjuksköterska, cyklar till jobbet",
        "花屋で働くミクさんが花束を作る",
        "Andersen's Snow Queen: a girl searching a frozen palace for her friend Kai",
        "公園で遊ぶ子どもたち、夕焼けの空",  # hiragana is grammar, not a misspelt name
        "Sun Wukong leaping over clouds in Journey to the West, ink painting",
        "a rocket launching at dawn, thousands of fireflies over the field",
        "Nikola Tesla sketching a motor in his notebook by lamplight",
        "ein Gewitter am Abend über dem Bodensee",
        "Puss in Boots bowing to the king in the Perrault story, old engraving",
        "a hitman waiting in a parked car at night, original thriller",
        "Michelangelo's Creation of Adam, two fingers nearly touching, fresco detail",
        "夜空の天の川と流れ星、山の上のタイムラプス",  # kanji read as pinyin is no misspelt name
        "할머니가 다리를 건너 시장에 간다",  # Korean 다리 (a bridge) is no katakana ダリ (Dalí)
    ],
)
def test_hard_innocent_prompts_are_allowed(starter: RightsService, prompt: str) -> None:
    assert blocked_as(starter, prompt) is None


def test_east_asian_text_is_split_into_names_and_particles() -> None:
    assert [w.script for w in words("スポンジボブがハンバーガーを焼く")][:3] == [
        "kana",
        "hiragana",
        "kana",
    ]
    assert skeleton(squash("Spider-Man")) == skeleton(squash("スパイダーマン"))
    assert skeleton(squash("Homer Simpson")) == skeleton(squash("ホーマー・シンプソン"))


def test_gloss_only_rewrites_prompts_in_other_languages() -> None:
    assert is_foreign("el erizo azul de la montaña")
    assert gloss("el erizo azul") == "el hedgehog blue"
    assert gloss("a glass of cola on the table") == "a glass of cola on the table"
    assert "lightning scar" in gloss("der Junge mit der Blitznarbe")


def test_someone_else_reads_the_context_around_a_first_name() -> None:
    def at(prompt: str, name: str) -> bool:
        ws = words(prompt)
        return someone_else(ws, [w.text for w in ws].index(name), prompt)

    assert at("my neighbour Mario waters his plants", "mario")
    assert at("Wally the window cleaner on a ladder", "wally")
    assert at("Garfield Avenue at night", "garfield")
    assert not at("Mario jumping over a pipe", "mario")
    assert not at("Sonic the Hedgehog running", "sonic")


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        # a name the description holds (a ship, a relative, a place) and a role
        ("a pirate captain at the helm of the Black Pearl in a storm", "jack-sparrow"),
        ("Rafiki lifting the lion cub over the savanna", "simba"),
        # a named character that the prompt relates to another one it describes
        ("the dinosaur Mario rides, laying spotted eggs", "yoshi"),
        # a franchise's owner's characters, though their descriptions do not name it
        ("the huge green rage monster of the Avengers in torn purple shorts", "hulk"),
        # a lowercase brand next to a word of its use
        ("pouring a cold coke into a glass with ice", "coca-cola"),
        ("a gardener in bright orange crocs watering tulips", "crocs"),
        # a catchphrase of the description
        ("an old wizard with a staff crying you shall not pass", "gandalf"),
        # a name the description gives after a possessive relation ("founder of SpaceX")
        ("the SpaceX founder waving at a rocket launch", "elon-musk"),
        ("Paperino che balla sul palco", "donald-duck"),
    ],
)
def test_key_names_relations_and_brand_use(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    "prompt",
    [
        "a black pearl necklace on a velvet cushion",
        "a boy named Marlin fishing off a pier",
        "eating a sandwich on the subway",
        "an Italian supercar parked outside a villa",
        "kids sleeping in their vans at a festival",
        "un paperino che nuota nello stagno",
        "an Italian plumber fixing a sink, l'idraulico",
        "a scientist in a white lab coat looking into a microscope",
        "a tourist photographing the Great Barrier Reef from a boat",
    ],
)
def test_key_names_and_brand_words_alone_are_not_enough(
    starter: RightsService, prompt: str
) -> None:
    assert blocked_as(starter, prompt) is None


def test_a_title_the_entity_holds_keeps_the_name_its_own(starter: RightsService) -> None:
    """A name after a title is someone else's ("Captain Nemo" is Verne's), unless the
    entity's own texts give it that title ("President Macron", "le président Macron")."""
    assert blocked_as(starter, "President Macron shaking hands with a farmer") == "emmanuel-macron"
    assert blocked_as(starter, "le président Macron serre la main d'un paysan") == "emmanuel-macron"
    assert blocked_as(starter, "Captain Nemo steering his submarine under the ice") is None


def test_a_place_both_hold_does_not_move_a_named_character_to_its_relative(
    starter: RightsService,
) -> None:
    """Arendelle is in Anna's facts and in Elsa's: "Elsa ... fra Arendelle" is Elsa."""
    assert blocked_as(starter, "Elsa, snødronningen fra Arendelle, danser på isen") == "elsa"


def test_a_brand_relates_to_what_its_description_names_not_its_sponsorships(
    starter: RightsService,
) -> None:
    """Facts name the games a console sells and the athletes a brand sponsors; a prompt
    about the console is the console's, and an actor named by a role is that actor."""
    assert blocked_as(starter, "a kid playing his ps5 on the sofa") == "playstation"
    assert blocked_as(starter, "the Fresh Prince actor dancing at a wedding") == "will-smith"


def test_a_relation_word_on_a_prompt_that_describes_the_named_one_stays_its_own(
    starter: RightsService,
) -> None:
    """Kuromi is registered with her Sanrio friends' names; "My Melody's rival" in a black
    jester hood is Kuromi, not whichever friend's facts name My Melody too."""
    prompt = "My Melody's mischievous rival, the Sanrio bunny in a black jester hood"
    assert blocked_as(starter, prompt) == "kuromi"
