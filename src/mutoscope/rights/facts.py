"""Facts a description holds besides its words: the proper names in it, and what a brand sells.

Two kinds of evidence for prompts that never name an entity, or name it as a common noun:

- **Key names.** A description names places, relatives, ships and works in capitals
  ("captain of the Black Pearl", "son of Marlin", "the Mushroom Kingdom", "Arendelle"). A
  prompt that uses one of those names ("the captain of the Black Pearl", "Marlin's missing
  son") points to the few entities whose descriptions hold it; the one whose description
  the rest of the prompt repeats is the answer (``KeyNames``).
- **Facts.** What an entity is known for, written one short phrase each beside its
  description (``facts:``: "played God in Bruce Almighty", "headquartered in Mountain
  View"): every capitalised name in a fact is a key name of the entity, wherever it stands
  in the phrase (a fact is no sentence whose first word is capitalised only as its start),
  and so are its rare three-word phrases. Which entity a key name picks is then decided as
  for a description's (``Screener._key_named``).
- **Brand categories.** A brand whose name is also an everyday word ("coke", "nikes",
  "a harley", "monopoly") is the brand in lowercase when a word of what the brand sells is
  next to it: a verb of use before it ("drinking a coke", "riding a harley", "lacing up
  his new nikes", "a game of monopoly") or a product noun right after it ("a starbucks
  cup"). What a brand sells is read from its description (``brand_cues``): a drink, food,
  shoes and clothes, a vehicle, an app or device, a game or toy.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mutoscope.rights.lexical import compound, foreign_words, is_everyday, known_words
from mutoscope.rights.normalize import Word, words
from mutoscope.rights.semantic import STOPWORDS

KEY_POOL = 6
"""A name held by more descriptions than this (a city, a country) says little."""
KEY_WORDS = 4
KEY_WORDS_MAX = 7
"""The longest title a fact may name as one key ("Once Upon a Time in Hollywood")."""
KEY_RARE = 0.6
PHRASE_RARE = 1.1
"""Rarity a description's three-word phrase needs to be a key ("shall not pass")."""
"""A word of a longer name is a name alone when it is this rare ("Gotham", not "City")."""

_CAPITALISED_RUN = re.compile(
    r"(?<![.!?;:]\s)(?<!^)\b([A-Z][\w'’-]*(?:\s+(?:of\s+the\s+|of\s+|the\s+)?[A-Z][\w'’-]*)*)"
)
_CAPITALISED_ANY = re.compile(
    r"\b([A-Z][\w'’-]*(?:\s+(?:(?:of|the|in|on|at|to|for|with|a|an|from|is|de|la|le)\s+)*"
    r"[A-Z0-9][\w'’-]*)*)"
)
"""A title or name in a fact, lowercase inner words included ("Men in Black", "Once Upon
a Time in Hollywood", "Jennifer Aniston"): the whole run and each of its
capitalised parts are keys."""
_CONNECTOR = re.compile(r"\s+(?:(?:in|on|at|to|for|with|a|an|from|is|de|la|le)\s+)+")
_GENERIC = frozenset(
    """the a an he she his her it its they their this one two three four five formula
    mr mrs ms dr st""".split()  # noqa: SIM905
)


_SOURCE = re.compile(
    r"\b(?:inspired by|based on|modell?ed on|named after|adapted from|derived from|"
    r"homage to|parod(?:y|ies) of|echo(?:es|ing)?|spoof of)\b",
    re.I,
)
"""A fact that tells what an entity was drawn from, or which older work it echoes, names
its source's names ("poster of touching fingers echoes The Creation of Adam")."""


@dataclass(frozen=True)
class KeyHit:
    key: str
    entities: tuple[int, ...]
    words: frozenset[str]
    """The prompt words that spell the name (not counted again as description words)."""
    coined: bool
    """The name is not made of everyday words ("Hogwarts", "Mufasa", "Black Pearl")."""
    start: int
    end: int


class KeyNames:
    """Proper names in descriptions -> the entities whose descriptions hold them."""

    def __init__(
        self,
        descriptions: Iterable[tuple[int, str, str, Iterable[str]]],
        known: frozenset[str],
        rare: Callable[[str], float],
        facts: Iterable[tuple[int, Iterable[str]]] = (),
    ):
        """``descriptions``: (entity index, description, owner, the entity's own names);
        ``known``: everyday words; ``rare``: a word's rarity (0 common, 1 rare);
        ``facts``: (entity index, its facts)."""
        by_key: dict[str, set[int]] = {}
        self.everyday: dict[str, bool] = {}
        self.phrases: set[str] = set()
        """Keys that are phrases of a description rather than names in it."""
        self.facts: dict[str, set[int]] = {}
        """Key -> the entities whose facts (not only descriptions) hold it."""
        self.lone: set[str] = set()
        """Keys that are one word of a fact ("Gullwing", "Wimbledon")."""
        registered: set[str] = set()
        """Names of entities are found by the name index (and its relations) already."""
        skips: dict[int, set[str]] = {}
        longest = [KEY_WORDS]

        def add(entity: int, segments: list[list[str]], text: str, fact: bool) -> None:
            for segment in segments:
                for parts in _keys_of(segment, rare):
                    # A rare word taken out of a longer name is a name alone ("Gotham",
                    # "Mufasa"), unless it is a word of the dictionary, inflected or not
                    # ("Frosted" of "Frosted Flakes", "Nook" of "Tom Nook", "visor" of
                    # "T-visor"): then only capitalised.
                    part_word = len(parts) == 1 and len(segment) > 1
                    key = "".join(parts)
                    if key in skips[entity] or len(key) < 4:
                        continue
                    # A fact's name may be a rarer English word ("Frosted Flakes") or
                    # another language's ("Boca Raton"): "frosted" and "raton" (a Spanish
                    # mouse) alone are words, not names.
                    dictionary = fact or part_word
                    everyday = all(
                        is_everyday(p, known)
                        or compound(p, known)
                        or (dictionary and is_everyday(p, known_words()))
                        or (dictionary and p in foreign_words())
                        for p in parts
                    )
                    if fact and everyday and len(parts) == 1:
                        # "Paris", "Red": a fact's one everyday word says too little (a
                        # description's still counts, with more of its words besides).
                        continue
                    by_key.setdefault(key, set()).add(entity)
                    longest[0] = max(longest[0], len(parts))
                    self.everyday[key] = self.everyday.get(key, True) and everyday
                    if fact:
                        self.facts.setdefault(key, set()).add(entity)
                        if len(parts) == 1:
                            self.lone.add(key)
            for key in _phrases(text, rare):
                if key in by_key and key not in self.phrases:
                    continue  # a name ("Glass Harbour Nights"): it counts as one
                by_key.setdefault(key, set()).add(entity)
                self.everyday[key] = False
                self.phrases.add(key)
                if fact:
                    self.facts.setdefault(key, set()).add(entity)

        for entity, text, owner, names in descriptions:
            registered.update(_squash(n) for n in names)
            skips[entity] = {_squash(w) for w in owner.split()}
            add(entity, _names_in(text), text, False)
        self.words: set[str] = set()
        """Keys that are one coined word a fact writes in lowercase ("neuralyzer",
        "footlong", "kryptonite"): strong, but a product or an object anyone may name, so
        they ask as much of the rest of a prompt as one capitalised everyday word."""
        for entity, held in facts:
            for fact in held:
                if _SOURCE.search(fact):
                    # "inspired by Sun Wukong of Journey to the West", "based on Hans
                    # Christian Andersen": the names are the source's, not the entity's.
                    continue
                add(entity, _names_in(fact, anywhere=True), fact, True)
                for w in _coined_words(fact, known_words()):
                    if w in skips[entity] or (w in self.everyday and w not in self.words):
                        continue  # the owner's name, or a key already (a name's word)
                    by_key.setdefault(w, set()).add(entity)
                    self.everyday[w] = False
                    self.facts.setdefault(w, set()).add(entity)
                    self.words.add(w)
        self.entities = {
            k: tuple(sorted(v))
            for k, v in by_key.items()
            if len(v) <= KEY_POOL and k not in registered
        }
        self.longest = min(KEY_WORDS_MAX, max(KEY_WORDS, longest[0]))

    def find(self, prompt: str) -> list[KeyHit]:
        """Key names in the prompt, longest first at each place. A name made of everyday
        words counts only when capitalised there ("the Black Pearl", not "a black pearl
        necklace"); a coined one however it is written ("hogwarts")."""
        ws = words(prompt)
        out: list[KeyHit] = []
        taken = -1
        for i in range(len(ws)):
            if i <= taken:
                continue
            for j in range(min(len(ws), i + self.longest), i, -1):
                key = "".join(w.text for w in ws[i:j])
                ents = self.entities.get(key)
                if ents is None:
                    continue
                coined = not self.everyday[key]
                if not coined and not _capitalised(ws, i, j):
                    continue
                span = frozenset(w.text for w in ws[i:j])
                out.append(KeyHit(key, ents, span, coined, ws[i].start, ws[j - 1].end))
                if key not in self.phrases:  # a phrase may hold a name: both count
                    taken = j - 1
                    break
        return out


_LOWER_WORD = re.compile(r"(?<![\w'’-])([a-z][a-z-]{5,})(?![\w'’])")


def _inflected(word: str) -> bool:
    """An inflection of an English dictionary word ("frosted", "flying", "kings")."""
    return any(is_everyday(s, known_words()) for s in _stems(word)[1:])


def _stems(word: str) -> list[str]:
    """The word and what it may be an inflection of ("katanas", "crafting", "blackest")."""
    out = [word]
    for ending in ("ing", "est", "ed", "es", "s", "er"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            out += [stem, stem + "e"]
    return out


def _coined_words(fact: str, known: frozenset[str]) -> list[str]:
    """Lowercase words of a fact that are no everyday word ("neuralyzer", "footlong")."""
    out = []
    for m in _LOWER_WORD.finditer(fact):
        parts = m.group(1).split("-")
        if all(is_everyday(p, known) or p in STOPWORDS for p in parts):
            continue  # "red-haired", "one-eyed": everyday words joined
        w = "".join(parts)
        if len(w) < 6 or compound(w, known):
            continue  # "motorbike", "spacesuit": everyday words run together
        if not any(is_everyday(s, known) for s in _stems(w)):
            out.append(w)
    return out


def _capitalised(ws: list[Word], i: int, j: int) -> bool:
    """Written as a name: capitalised, and not only because it opens the prompt (several
    words: the first one capitalised, "her Eras tour"); or followed by a possessive
    ("Marlin's missing son", "the colonel's bucket")."""
    if j < len(ws) and ws[j].text == "s" and ws[j].start == ws[j - 1].end + 1:
        return True
    if j - i > 1:  # "the Black Pearl", "her Eras tour"
        return ws[i].capitalized and (i > 0 or ws[j - 1].capitalized)
    return i > 0 and ws[i].capitalized


_TOKEN = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z]+")
_LEET = re.compile(r"[0-9@$!|+&]")


def _plain(text: str) -> list[str]:
    """``normalize.words`` of registry text, quickly: plain ASCII words are only lowercased
    (the full normalisation, built for disguised prompts, would double the time to build
    the keys of 10,000 descriptions); anything else goes through it."""
    if text.isascii() and not _LEET.search(text):
        return _ASCII_WORD.findall(text.lower())
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok.isascii() and tok.isalpha():
            out.append(tok.lower())
        else:
            out.extend(w.text for w in words(tok))
    return out


def _squash(name: str) -> str:
    return "".join(_plain(name))


def _phrases(text: str, rare: Callable[[str], float]) -> list[str]:
    """Three-word phrases of a description that begin and end with a content word and
    weigh ``PHRASE_RARE`` in rare words: catchphrases and signature objects ("shall not
    pass", "shaken not stirred", "golden tickets hidden"), found in any case."""
    ws = _plain(text)
    out = []
    for k in range(len(ws) - 2):
        tri = ws[k : k + 3]
        if tri[0] in STOPWORDS or tri[2] in STOPWORDS:
            continue
        content = [w for w in tri if w not in STOPWORDS]
        if len(content) >= 2 and sum(rare(w) for w in content) >= PHRASE_RARE:
            out.append("".join(tri))
    return out


def _keys_of(segment: list[str], rare: Callable[[str], float]) -> list[list[str]]:
    """A name, its parts around "of" / "the" ("Diana of Themyscira": "Diana", "Themyscira")
    and its rare words ("King Mufasa": "Mufasa", "Gotham City": "Gotham")."""
    out = [segment]
    part: list[str] = []
    for w in [*segment, "of"]:
        if w in ("of", "the"):
            if part and part != segment:
                out.append(part)
            part = []
        else:
            part.append(w)
    if len(segment) > 1:
        out += [[w] for w in segment if w not in ("of", "the") and rare(w) >= KEY_RARE]
    return out


def _names_in(text: str, *, anywhere: bool = False) -> list[list[str]]:
    """Capitalised runs inside sentences ("Black Pearl", "Mushroom Kingdom", "Marlin") as
    squashed keys with the words that make them; a possessive ends a name ("Pixar's
    Finding Nemo" gives "pixar" and "findingnemo"). ``anywhere``: a fact's, whose words are
    capitalised only as names ("Red in The Shawshank Redemption")."""
    out = []
    if anywhere:
        for m in _CAPITALISED_ANY.finditer(text):
            run = m.group(1)
            out += _names_in(f"x {run}")
            cuts = [(c.start(), c.end()) for c in _CONNECTOR.finditer(run)]
            starts = [0, *(b for _, b in cuts)]
            ends = [*(a for a, _ in cuts), len(run)]
            for i, j in itertools.combinations(range(len(starts)), 2):
                whole = _plain(run[starts[i] : ends[j]])
                while whole and whole[0] in _GENERIC:
                    whole = whole[1:]
                if "s" not in whole and 1 < len(whole) <= KEY_WORDS_MAX:
                    out.append(whole)
        return out
    for m in _CAPITALISED_RUN.finditer(text):
        segment: list[str] = []
        for w in [*_plain(m.group(1)), None]:
            if w is not None and w != "s":
                segment.append(w)
                continue
            while segment and segment[0] in _GENERIC:
                segment = segment[1:]
            while segment and segment[-1] in ("of", "the"):
                segment = segment[:-1]
            if segment:
                out.append(segment)
            segment = []
    return out


# What a brand sells, read from its description: the words that say so, and the words
# next to a brand name that show it is used as that product.
_CATEGORIES: tuple[tuple[frozenset[str], frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(a.split()), frozenset(b.split()), frozenset(c.split()))
    for a, b, c in (
        (  # drinks
            "drink drinks soda cola beer lager stout whiskey coffee energy",
            "drinking drink drinks drank sipping sip sips sipped pouring poured pour cracking "
            "cracked crack chugging chugged gulping swigging ordering ordered order can cans "
            "bottle bottles glass glasses pint pints cup cups mug",
            "can cans bottle bottles cup cups glass glasses float zero fizzing",
        ),
        (  # food
            "restaurant restaurants burger burgers chicken pizza chocolate snack snacks chips "
            "crisps cereal cookie cookies sandwich sandwiches spread fries candy",
            "eating eat eats ate munching munched biting bit bite snacking ordering ordered "
            "order spreading spread dunking dunked dunk sharing box bag bags bucket tube packet "
            "jar slice slices plate tray",
            "burger burgers fries meal bucket box bag tube packet jar bar bars wrapper "
            "sandwich sandwiches nuggets",
        ),
        (  # shoes, clothes, bags
            "sneakers shoes trainers sportswear clogs boots jacket jackets jeans shirt shirts "
            "handbag handbags bag bags clothing fashion polo sunglasses",
            "wearing wear wears wore lacing laced laces tying pair pairs carrying carried "
            "dressed sporting",
            "sneakers shoes trainers boots jacket jeans shirt hoodie cap bag handbag "
            "sunglasses tracksuit",
        ),
        (  # vehicles
            "car cars motorcycle motorcycles sedan suv vehicles trucks supercar supercars "
            "hailing taxi",
            "driving drive drives drove driven riding ride rides rode parked parking speeding "
            "racing raced revving charging crashed crashing washing",
            "car cars motorcycle bike dealership showroom convertible speeding parked racing "
            "driving roaring zooming revving cruising",
        ),
        (  # apps, devices, services
            "app apps search streaming phone phones smartphone smartphones computer computers "
            "laptop laptops software platform hailing payments social video",
            "scrolling posting posted streaming watching searching browsing googling typing "
            "texting booking booked calling hailing hailed ordering ordered paying paid "
            "using uploading downloading",
            "app account feed video videos phone laptop ride driver search tablet watch",
        ),
        (  # fuel
            "petrol fuel gasoline",
            "filling refuelling refueling fuelling fueling",
            "station stations garage pump pumps",
        ),
        (  # games and toys
            "game games board toy toys cube doll dolls bricks",
            "playing play plays played building built solving solved twisting collecting game",
            "game board pieces set sets bricks cars track",
        ),
    )
)
_MODEL_CODE = re.compile(r"(?!\d+x\d+$)(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{2,6}")
"""Letters and digits together ("f40", "x5", "gt3"): a product's model, not a quantity or
a size ("4x4", "2x4")."""
_LOCATIVES = frozenset(
    "on in at onto under near by beside behind past through inside outside over".split()  # noqa: SIM905
)


_LIKENESS = frozenset(
    """mask masks costume costumes onesie print pattern tattoo plush statue shaped coloured
    colored style styled""".split()  # noqa: SIM905
)
_BOARDING = frozenset(
    "getting got gets hopping hopped hops climbing climbed jumping jumped piling".split()  # noqa: SIM905
)
_DETERMINERS = frozenset(
    "the a an this that these those their his her my our your its".split()  # noqa: SIM905
)


def brand_cues(description: str) -> tuple[frozenset[str], frozenset[str]]:
    """(verbs of use, product nouns) of what the brand's description says it sells."""
    ws = set(_plain(description))
    before: set[str] = set()
    after: set[str] = set()
    for says, use, product in _CATEGORIES:
        if ws & says:
            before |= use
            after |= product
    return frozenset(before), frozenset(after)


def brand_cue(
    prompt: str, start: int, end: int, cues: tuple[frozenset[str], frozenset[str]]
) -> str | None:
    """The word that shows a lowercase brand name at ``prompt[start:end]`` is the product:
    a verb of use up to four words before it with no place word between ("drinking a
    cold coke", not "eating a sandwich on the subway"), "in" before clothes, or a product
    noun right after it ("a starbucks cup")."""
    before, after = cues
    if not before and not after:
        return None
    ws = words(prompt)
    inside = [k for k, w in enumerate(ws) if w.start < end and w.end > start]
    if not inside:
        return None
    first, last = inside[0], inside[-1]
    if last + 1 < len(ws) and ws[last + 1].text in _LIKENESS:
        return None  # "a puma mask", "a jaguar print": the animal
    if last + 1 < len(ws) and ws[last + 1].text == "of":
        return None  # "the apple of her eye", "a shell of a house": a noun and its complement
    if last + 1 < len(ws) and ws[last + 1].text in after:
        return ws[last + 1].text
    if last + 1 < len(ws) and ws[last + 1].text in before and ws[last + 1].text.endswith("ing"):
        return ws[last + 1].text  # "chrome harleys riding through the desert"
    if last + 1 < len(ws):
        # A model designation: "a ferrari f40", "a bmw x5" (as typed: ``words`` reads
        # digits as look-alike letters).
        code = prompt[ws[last + 1].start : ws[last + 1].end].lower()
        if _MODEL_CODE.fullmatch(code):
            return code
    for k in range(first - 1, max(-1, first - 5), -1):
        if ws[k].text in before:
            return ws[k].text
        if ws[k].text == "into" and k > 0 and ws[k - 1].text in _BOARDING and "driving" in before:
            return "into"  # "getting into an uber", not "a crab crawling into a shell"
        if ws[k].text == "in" and "wearing" in before:
            # Clothes: "a nurse in bright green crocs", "a girl in vans", but not "sleeping
            # in their vans".
            between = {w.text for w in ws[k + 1 : first]}
            return None if between & _DETERMINERS else "in"
        if ws[k].text == "on" and "scrolling" in before:
            continue  # apps: "posting on twitter", "watching it on netflix"
        if ws[k].text in _LOCATIVES:
            return None
    return None
