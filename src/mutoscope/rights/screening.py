"""Prompt screening: which registered entities does a prompt name, spell around or describe?

``Screener.find`` returns every entity a prompt refers to, with evidence; the service
applies each entity's policy (block / license / consent) to the matches.

1. Names: exact, sounds-alike and misspelled aliases after normalisation (``lexical``).
   An alias that is also an everyday word (``Sonic``, ``Square``) counts only where it is
   used as a name; used as a common noun ("a sonic boom", "a bouncing square", "the
   goddess Nike") only if the rest of the prompt also repeats the entity's description.
2. Descriptions, decided by two static MiniLM signals before the full model is asked:
   the distilled description score (``DescriptionIndex.search``) and the rare description
   attributes the prompt repeats (``DescriptionIndex.attributes``):

   - score ≥ ``DESC_SURE``: a description (no full model);
   - attributes < ``ATTR_FEW`` and score < ``DESC_CLOSE``: not a description (the
     resemblance rests on common words: "a white kitten with a red ribbon");
   - score ≥ ``DESC_LIKELY`` and attributes ≥ ``ATTR_MANY``: a description;
   - otherwise the two signals combined (``score + LEAN_MASS * attributes``) settle it
     when clearly above ``LEAN_YES`` or below ``LEAN_NO``; only the narrow band between
     them, and a person-shaped prompt against a non-person description, go through the
     full MiniLM model (``DESC_MATCH``). The full model costs 2-6 ms a call on a shared
     core; the static signals about 1 ms for the whole prompt.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from mutoscope.rights.facts import KeyHit, KeyNames, brand_cue, brand_cues
from mutoscope.rights.gloss import gloss, gloss_word
from mutoscope.rights.lexical import (
    NAMING,
    NameHit,
    NameIndex,
    compound,
    dictionary_word,
    dictionary_words,
    everyday_phrase,
    foreign_words,
    frequent_words,
    known_words,
    someone_else,
    starts_sentence,
)
from mutoscope.rights.lexical import TITLES as TITLE_WORDS
from mutoscope.rights.normalize import HONORIFICS, Word, is_unspaced, script_of, squash, words
from mutoscope.rights.semantic import (
    FACET_WEIGHT,
    STOPWORDS,
    WINDOW,
    DescriptionIndex,
    MiniLMEncoder,
    PromptWords,
    StaticEmbedder,
    Traits,
    Window,
    content_words,
    facets,
    rarity,
    stem_key,
)

DESC_SURE = 0.80
"""Static description score that matches without asking the full model."""
DESC_MAYBE = 0.55
"""Lower edge of the uncertain band: the full MiniLM model decides."""
DESC_CLOSE = 0.75
"""Static score from which few shared attributes do not clear a prompt: the full model decides
(a close paraphrase may share only one or two rare words: "a mouthless white cat")."""
DESC_LIKELY = 0.62
"""Static score from which many rare shared attributes settle a match without the full model."""
DESC_MATCH = 0.625
"""Mean of static and full-model cosine (prompt window vs. description) that matches."""
LEAN_MASS = 0.05
"""Weight of the attribute mass against the static score in the combined static signal."""
LEAN_YES = 0.788
"""Combined static signal from which an uncertain description matches without the full model."""
LEAN_NO = 0.78
"""Combined static signal below which it does not match (the full model decides between)."""
TRAITS_SURE = 0.55
"""Static score from which a many-traits candidate matches without the full model ..."""
TRAITS_NONE = 0.40
"""... and below which it does not (the full model decides between)."""
CONTEXT_SURE = 1.3
"""Attribute mass besides the alias from which a common-noun alias is the entity without
the full model; between ``CONTEXT_FEW`` and this the full model decides."""
ATTR_FEW = 1.7
"""Attribute mass below which a prompt does not describe the entity (about two rare words)."""
ATTR_MANY = 3.4
"""Attribute mass (four or more rare description words) that describes the entity."""
CONTEXT = 0.40
"""Full-model score (whole prompt vs. description) an everyday-word alias used as a common
noun ("a minion ...") needs to count as the entity."""
CONTEXT_FEW = 1.0
"""Attribute mass, besides the alias itself, below which such a common noun is just a word."""
BRAND_ATTR = 5.0
"""Attribute mass a description of a brand needs when the prompt names no mark (logo,
mascot, slogan, maker)."""
MARKS = frozenset(
    """logo logos emblem mascot badge label slogan brand trademark monogram wordmark company
    chain maker makers manufacturer franchise sign""".split()  # noqa: SIM905
)
TRAITS_MANY = 2.8
"""Attribute mass (rare description words the prompt repeats) from which an entity outside
the static top candidates is considered..."""
TRAITS_SPECIFIC = 2.0
"""... or specific attribute mass (``Traits.specific``) from which it is considered ..."""
PERSON_SPECIFIC = 1.2
"""Specific attribute mass of a living person's role a prompt needs (two role words few
descriptions share: "Serbian" and "tennis") ..."""
PERSON_MASS = 1.5
"""... with this rarity-weighted mass ..."""
PERSON_MARGIN = 2.0
"""... and this many times the specific mass of any other entity."""
SPECIFIC_ENTITIES = 100
"""Registry size from which the specific path counts: in a registry of twenty entities most
words are in one description, which says nothing about how specific they are."""
TRAITS_MARGIN = 1.5
"""... if no other entity shares more than 1/1.5 of it."""
TRAITS_MATCH = 0.48
"""Mean of static and full-model score such a many-traits candidate needs."""
SPECIFIC_RANK = 0.1
"""Weight of the specific attribute mass (``Traits.specific``) against the static score when
description candidates are ordered: two rare traits only this entity's description holds
(≈2) outweigh a 0.1 lead in static score."""
DEFINITE = frozenset("the el la los las le les l il lo gli der die das".split())  # noqa: SIM905
"""Definite articles a prompt's subject may open with (English, es, fr, it, de; "l" of "l'")."""
_MEDIUM = re.compile(
    r"^(?:an?\s+)?(?:photo|picture|video|clip|film|painting|drawing|portrait|shot|scene|"
    r"sketch|close-?up|cartoon|illustration|animation)\s+of\s+",
    re.IGNORECASE,
)
DEF_SPECIFIC = 1.0
"""Specific attribute mass (``Traits.specific``) a definite description needs ..."""
DEF_MASS = 1.5
"""... rarity-weighted mass (about two rare traits) ..."""
DEF_MARGIN = 1.3
"""... this many times the specific mass of the next entity ..."""
DEF_SCORE = 0.35
"""... and at least this static score against the description's closest facet."""
SHARP_SPECIFIC = 2.0
"""Specific attribute mass another entity needs to replace a relation's or key name's pick
(``Screener._sharper``) ..."""
SHARP_MARGIN = 2.0
"""... and how many times the picked entity's own specific mass."""
FULL_MAX = 1.001
"""Above any full-model cosine (unit vectors; float rounding): bounds a candidate's final
score before the model is asked (``_outranked``)."""
COMMON_WORD_BRANDS = frozenset(
    """apple apples shell shells coke crocs croc vans converse jaguar puma mustang dove
    corona target subway gap amazon windows monster tide jeep tesla google hermes
    barbie monopoly visa twitter uber orange mercedes harley""".split()  # noqa: SIM905
)
"""Brand names that are also everyday English words (nouns, verbs, names of gods or
animals): in lowercase, the context decides."""
MEMBER_MASS = 1.5
"""Attribute mass a member of a named franchise or owner needs (about two rare traits)."""
MEMBER_MARGIN = 1.3
"""... and how much more than any other member it must repeat ..."""
MEMBER_MAIN = 2
"""... or, describing several members equally, how many times more of the franchise's
descriptions must name it than any other of them (the main character)."""
MEMBER_NAMED_MASS = 0.7
"""Attribute mass (one rare trait) a member needs when its maker was found by its
registered name (which blocks already: the member only makes the answer precise)."""
OWNER_GENERIC = frozenset(
    """the inc llc ltd corporation company group studios studio entertainment pictures
    productions international holdings brands television works foundation estate""".split()  # noqa: SIM905
)
KEY_REST = 0.4
"""Attribute mass the rest of a prompt needs besides a key name of an entity's description
that is coined or several capitalised words ("the captain of the Black Pearl") ..."""
KEY_REST_WORD = 1.5
"""... or besides one capitalised everyday word ("Marlin", "Gotham"): about two rare traits."""
KEY_REST_PHRASE = 1.0
"""... or besides a phrase of a description ("shall not pass", but also "white lab coat"):
about one more rare trait than a name needs."""
KEY_MARGIN = 1.3
"""How much more than any other entity holding the same name the chosen one must repeat."""
FACT_RARE = 0.5
"""Rarity a prompt word needs to count as evidence for the entity whose facts hold it
("narrator", "neuralyzer"; not "looking", "family")."""
FACT_ROLE = 0.5
"""Attribute mass of a person's role ("actor", "star", "singer") beside a several-word or
coined name from a person's or human character's facts: with the name, enough
(``KEY_REST``)."""
FACT_ROLES = frozenset(
    """actor actress actors star starring played plays playing portrayed voiced narrator
    singer rapper musician band frontman drummer guitarist footballer player striker
    midfielder goalkeeper captain athlete champion sprinter swimmer golfer boxer driver
    director filmmaker comedian host presenter author writer billionaire founder ceo
    president minister king queen prince princess celebrity icon legend""".split()  # noqa: SIM905
)
"""Words that give a human role: with a name from a person's facts, the person is meant."""
RELATION_MASS = 0.8
"""Attribute mass the rest of a possessive prompt needs to pick a related entity."""
RELATION_BARE_MASS = 2.0
"""... or, with no relation word at all, this (about three rare traits of the other entity) ..."""
RELATION_BARE_MARGIN = 2.0
"""... and this many times what the rest of the prompt repeats of the named entity itself."""
RELATION_OF_MASS = 0.5
"""... or, when the description repeats the relation word itself, this (one rare word)."""
RELATIONS = frozenset(
    """father dad son daughter mother mom mum sister brother twin wife husband girlfriend
    boyfriend friend friends sidekick rival enemy enemies nemesis pet dog cat partner uncle
    aunt nephew nephews niece master owner boss butler pilot guardian teacher student mentor
    buddy cousin creator henchmen henchman companion co-pilot copilot apprentice founder
    cofounder ceo chairman inventor company companies firm brand startup label""".split()  # noqa: SIM905
)
"""Words that point from a named entity to another ("Mickey's girlfriend", "the founder of
Amazon")."""
ACTING = frozenset(
    """played plays playing portrayed portrays voiced voices actor actress""".split()  # noqa: SIM905
)
"""Relation words between an actor and a role, either way ("the actress who played Hermione",
"the hitman Keanu plays")."""
ACTORS = frozenset({"actor", "actress", "actors", "actresses"})
OWNED = frozenset("""company companies firm brand startup label""".split())  # noqa: SIM905
"""Words for what a person or maker owns ("bill gates's software company", "elon's car
company"): the entity the owner's description names."""
_ANY_POSSESSIVE = re.compile(r"\w[\'’]s\b")
_POSSESSIVE = re.compile(r"^[\'’]s?\b")
_ENDS_POSSESSIVE = re.compile(r"[\'’]s$")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
NAME_METHODS = frozenset({"exact", "phonetic", "fuzzy"})


@dataclass(frozen=True)
class _Related:
    entity_id_index: int
    match: Match


HUMANS = frozenset(
    """man men woman women person people guy lady boy boys girl girls kid kids child children
    teenager teen human hero heroine superhero father mother dad mum mom husband wife
    prince princess king queen knight wizard witch plumber agent singer actor actress
    player footballer president warrior archaeologist detective pilot captain soldier
    scientist teacher chef doctor nurse reporter ninja pirate sailor astronaut master
    headmaster professor student villain lord boss chief commander leader ruler athlete
    rapper dancer trainer butler hunter assassin mercenary spy hitman cowboy sheriff
    vigilante rebel""".split()  # noqa: SIM905
)


def _definite_subject(prompt: str) -> bool:
    """Does the prompt open with a definite article ("the bread-headed hero who ...", "a
    video of the ...", Spanish "el ...", German "der ...")?"""
    ws = words(_MEDIUM.sub("", prompt.strip(), count=1))
    return bool(ws) and ws[0].text in DEFINITE


_SUBJECT_END = re.compile(
    r"\s(?:in|on|with|who|that|which|at|from|of|for|by|under|over|near|showing|holding)\s",
    re.IGNORECASE,
)


def _subject(prompt: str) -> str:
    """The opening noun phrase of a prompt, up to its first preposition or relative word
    ("the chocolate factory owner" of "the chocolate factory owner in a purple coat showing
    children ...")."""
    return _SUBJECT_END.split(prompt, maxsplit=1)[0]


def _human(text: str) -> bool:
    """Does the text speak of a person ("a man in a top hat", "a boy wizard")?"""
    return any(w.text in HUMANS for w in words(text))


def _is_person(screener: Screener, entity: int) -> bool:
    return screener.targets[entity].kind == "person"


def _human_entity(t: Target) -> bool:
    """Is the entity a person or a human-shaped character? A living person is, whatever
    their description says ("the Swedish climate activist")."""
    return t.kind == "person" or _human(t.description)


FIGURES = frozenset("doll dolls puppet puppets toy toys figurine action-figure".split())  # noqa: SIM905
"""What a character may be made as rather than born as: a person in a prompt is not one."""


def _foreign_word(prompt: str, hit: NameHit) -> bool:
    """Is a one-word name a common word of the other language the prompt is written in
    ("maman", "vader", "groot")?"""
    written = prompt[hit.start : hit.end]
    ws = words(written)
    return (
        len(ws) == 1
        and " " not in hit.alias.strip()
        and ws[0].text in foreign_words()
        and not ws[0].script
        and _foreign(prompt)
    )


def _modifier(prompt: str, hit: NameHit) -> bool:
    """Is a lowercase one-word name followed by a lowercase noun it modifies ("frozen peas",
    "sonic boom"), not by what it does ("batman eating noodles")?"""
    written = prompt[hit.start : hit.end]
    if hit.method != "exact" or written != written.lower() or " " in written.strip():
        return False
    after = words(prompt[hit.end :])[:1]
    if not after or after[0].capitalized or prompt[hit.end : hit.end + after[0].start].strip():
        return False
    nxt = after[0].text
    return (
        len(nxt) >= 3
        and dictionary_word(squash(written))
        and nxt not in FUNCTION
        and not nxt.endswith(("ing", "ed"))
        and dictionary_word(nxt)
        and nxt in known_words()
    )


_LATIN_LETTER = re.compile(r"[A-Za-z]")


def _named_someone(prompt: str, hit: NameHit, names: NameIndex) -> bool:
    """Does a one-word name carry a surname that is no part of a registered name ("Elsa
    Johansson"), or an honorific that makes it someone addressed ("ミクさん")?"""
    if hit.method != "exact" or " " in hit.alias.strip():
        return False
    if prompt[hit.end :].startswith(HONORIFICS):
        return True
    after = words(prompt[hit.end :])[:1]
    if not after or not after[0].capitalized or prompt[hit.end : hit.end + after[0].start].strip():
        return False
    if not prompt[hit.start : hit.end][:1].isupper():
        return False
    nxt = after[0]
    if dictionary_word(nxt.text) or nxt.script:
        return False  # "Elsa Frozen", "Mario Kart", "Sonic Adventure": a title, not a surname
    around = prompt[hit.start : hit.end + nxt.end]
    return not any(h.end > hit.end - hit.start for h in names.search(around))


def _common_plural(written: str, hit: NameHit) -> bool:
    """Is a name written in lowercase as the plural of an everyday word it is not ("street
    fighters" for Street Fighter, "teslas" for Tesla)?"""
    if hit.method != "exact" or written != written.lower():
        return False
    key, alias = squash(written), squash(hit.alias)
    ws = words(written)
    return key in (alias + "s", alias + "es") and bool(ws) and dictionary_word(ws[-1].text)


def _brand_verbs(t: Target) -> list[str]:
    """A brand's name used as a verb ("googling", "googled"): a coined one-word name that
    no dictionary holds, so neither do its forms."""
    if t.kind != "brand":
        return []
    out = []
    for alias in dict.fromkeys((t.name, *t.aliases)):
        a = alias.lower()
        if not (a.isascii() and a.isalpha() and len(a) >= 4) or dictionary_word(a):
            continue
        stem = a[:-1] if a.endswith("e") else a
        out += [f"{stem}ing", f"{stem}ed"]
    return [v for v in out if not dictionary_word(v)]


def _figure_of_text(text: str) -> bool:
    return any(w.text in FIGURES for w in words(text))


def _figure_of(t: Target) -> bool:
    """Is the entity, by its description's subject, a doll, puppet or toy ("Mattel's
    blonde fashion doll")?"""
    return t.kind != "person" and _figure_of_text(_subject(t.description))


def _coined(alias: str) -> bool:
    """Spelt as no ordinary word is: inner capitals, all capitals, digits or '&'."""
    letters = alias.replace("'", "")
    return (
        any(ch.isupper() for ch in letters[1:] if ch.isalpha())
        or any(ch.isdigit() or ch == "&" for ch in letters)
    ) and " " not in alias.strip()


def _possessive(prompt: str, end: int) -> str | None:
    """The relation word within four words after the name at ``prompt[:end]`` and its
    possessive ("Elsa's little sister", "Sonic's red echidna rival"), or right after the
    name ("the Amazon founder"), if any."""
    after = words(prompt[end:])
    if not _POSSESSIVE.match(prompt[end:]) and not _ENDS_POSSESSIVE.search(prompt[:end]):
        # ("Microsoft's" may be read as the name's plural, so the hit holds 's.) Without a
        # possessive, only a relation word right after the name: "the Microsoft co-founder".
        nxt = [w.text for w in after[:2]]
        return (
            nxt[-1]
            if nxt[:1] == ["co"] and nxt[-1] in RELATIONS
            else (nxt[0] if nxt and nxt[0] in RELATIONS else None)
        )
    return next((w.text for w in after[:6] if w.text in RELATIONS), None)


def _relation_of(prompt: str, start: int) -> str | None:
    """The relation word whose object is the name at ``prompt[start:]`` ("the founder of
    Amazon", "the co-founder of Microsoft", "the creator of the Simpsons"), if any."""
    texts = [w.text for w in words(prompt[:start])[-4:]]
    ofs = [k for k, t in enumerate(texts) if t in OF]
    if not ofs:
        return None
    k = ofs[-1]
    if k == 0 or any(t not in ARTICLES_BEFORE_NAME for t in texts[k + 1 :]):
        return None
    if texts[k] == "of":
        return texts[k - 1] if texts[k - 1] in RELATIONS else None
    # Spanish, French, Italian, Portuguese, German: "la hermana pequeña de Elsa", "le fils
    # de Mufasa", "die Schwester von Elsa": the noun (glossed) may have an adjective after it.
    for t in texts[max(0, k - 2) : k][::-1]:
        relation = gloss_word(t)
        if relation in RELATIONS:
            return relation
    return None


def _acted(prompt: str, start: int, end: int) -> str | None:
    """An acting word among the three words before the name ("the actress who played
    Hermione") or right after it ("the hitman Keanu plays")."""
    before = [w.text for w in words(prompt[:start])[-3:]]
    after = [w.text for w in words(prompt[end:])[:1]]
    return next((w for w in [*before, *after] if w in ACTING), None)


def _via(prompt: str, start: int, end: int) -> str | None:
    """The word that points from the name at ``prompt[start:end]`` to a related entity."""
    return _relation_of(prompt, start) or _possessive(prompt, end) or _acted(prompt, start, end)


def _exact_first(hits: list[NameHit]) -> list[NameHit]:
    """Drop look-alike hits (fuzzy, phonetic, transliterated) inside the span of another
    entity's exact name: "ガンダム" is Gundam as written, not a misspelt Gandalf."""
    exact = [(h.start, h.end, h.entity) for h in hits if h.method == "exact"]
    return [
        h
        for h in hits
        if h.method == "exact"
        or not any(a <= h.start and h.end <= b and e != h.entity for a, b, e in exact)
    ]


NEGATIONS = frozenset(
    """no without unbranded generic unlabelled unlabeled plain blank unmarked""".split()  # noqa: SIM905
)
ARTICLES = frozenset(
    """un una uno une le la lo il el los las les des du der die das ein eine einen einem
    einer o os um uma""".split()  # noqa: SIM905
)
"""Articles of other languages: a lowercase word right after one is a common noun of that
language ("un topolino di campagna" is a little mouse, not Topolino)."""


def _article_noun(prompt: str, hit: NameHit) -> bool:
    """A one-word name written lowercase right after an article of another language."""
    written = prompt[hit.start : hit.end]
    if hit.method != "exact" or written[:1].isupper() or " " in written.strip():
        return False
    before = words(prompt[: hit.start])
    return bool(before) and before[-1].text in ARTICLES and before[-1].end >= hit.start - 1


def _lowercase_phrase(written: str, hit: NameHit) -> bool:
    """A name of two everyday words, matched exactly and written all in lowercase.
    A longer one ("the boy who lived") is too specific a phrase to come up by chance."""
    return (
        hit.method == "exact"
        and written == written.lower()
        and len(words(written)) <= 2
        and (everyday_phrase(written) or _foreign_phrase(written))
        and not any(w.disguised for w in words(written))
    )


def _foreign_phrase(written: str) -> bool:
    """Two everyday words of Spanish, French, German, Italian or Portuguese ("gato
    silvestre", "pantera negra"): a name registered in another language may be as plain
    there as "iron man" is in English."""
    ws = [w.text for w in words(written)]
    return len(ws) > 1 and all(w in foreign_words() for w in ws)


OF = frozenset("of de di du da do von des del della dello".split())  # noqa: SIM905
""""Of" in English and the languages ``gloss`` reads: a relation word before it points to
the name after it."""
ARTICLES_BEFORE_NAME = frozenset("the a la le el il lo der die das dem".split())  # noqa: SIM905

_NUMERAL = re.compile(r"^[\s,]*([IVX]{1,4})\b")


def _other_numeral(prompt: str, hit: NameHit) -> bool:
    """A regnal or generation numeral after the name that the alias does not carry."""
    m = _NUMERAL.match(prompt[hit.end :])
    return m is not None and m.group(1) not in hit.alias.split()


ORIGINAL_WORDS = frozenset(
    """original generic unbranded homemade fictional invented plain unknown unnamed
    anonymous inventado inventada inventato inventata invente inventee erfunden erfundene
    erfundener erfundenes originale originales originali wymyslony wymyslona wymyslone
    inventado inventada ficticio ficticia fittizio fittizia fictif fictive""".split()  # noqa: SIM905
)
ORIGINAL_PAIRS = frozenset(
    [
        ("my", "own"),
        ("made", "up"),
        ("our", "own"),
        ("store", "brand"),
        ("own", "brand"),
        ("no", "logo"),
        ("no", "logos"),
        ("no", "label"),
        ("no", "labels"),
        ("no", "text"),
        ("no", "branding"),
        ("label", "blurred"),
        ("label", "turned"),
        ("label", "removed"),
    ]
)


GERMAN_ARTICLES = frozenset(
    "ein eine einen einem einer eines der die das den dem des kein keine keinen".split()  # noqa: SIM905
)
GERMAN_FUNCTION = frozenset(
    """ein eine einen einem einer eines der die das den dem des und mit auf durch im am ist
    sind von zum zur über unter nicht sich vom beim""".split()  # noqa: SIM905
)
"""German function words (with "die" and "den", which English has too: the article before
the noun must be German as well)."""


def _german_noun(prompt: str, start: int) -> bool:
    """Is the word at ``start`` capitalised only as a German noun ("ein Puma jagt in den
    Anden")? It follows a German article, in a prompt with at least two German function
    words."""
    before = words(prompt[:start])[-1:]
    if not before or before[0].text not in GERMAN_ARTICLES:
        return False
    return len({w.text for w in words(prompt)} & GERMAN_FUNCTION) >= 2


ORDINARY = frozenset(
    """cat cats kitten kittens dog dogs puppy puppies pig pigs piglet rabbit rabbits bunny
    bunnies hare mouse mice rat rats bird birds duck ducks chicken hen rooster owl fox bear
    bears cub lion lions tiger horse pony cow cows sheep goat frog fish dolphin whale shark
    snake turtle squirrel raccoon deer monkey elephant penguin parrot beagle tabby
    mermaid girl girls boy boys man men woman women kid kids child children teenager teen
    lady guy person people baby grandmother grandfather dad mum mom father mother scientist
    singer player dancer chef doctor nurse teacher student farmer worker tourist climber
    hiker runner swimmer skater surfer""".split()  # noqa: SIM905
)
"""Subjects of everyday scenes: real animals and ordinary people (and the stock mermaid)."""
FRAMES = frozenset(
    """cartoon cartoons cartoonish animated animation anime manga comic comics mascot
    character characters plush plushie toy figurine emoji sticker superhero hero villain
    supervillain sidekick cosplay costume movie film show series episode game videogame
    talking talks speaking anthropomorphic""".split()  # noqa: SIM905
)
"""Words that make a scene a character's: the cartoon or fiction frame."""
CLOTHES = frozenset(
    """dress shirt t-shirt tshirt shorts pants trousers gloves sneakers shoes boots hat cap
    bowtie tie jacket suit cape overalls sweater hoodie scarf vest skirt glasses""".split()  # noqa: SIM905
)
"""Clothes on an animal make it a character ("a hedgehog in red sneakers")."""
PERSONAL = frozenset("he him his himself she her hers herself".split())  # noqa: SIM905
"""... and so does a personal pronoun ("a fat tabby cat stuffing himself with lasagna")."""
PLAIN_TRAITS = 5
"""Traits a description-only match of an everyday scene needs besides its subject: several
at once ("a round furious red bird with a black unibrow flying into a tower of wood")."""


def plain_scene(prompt: str, attrs: list[str], *, named: bool = False) -> bool:
    """Is the prompt an everyday scene that resembles a description only in ordinary traits?

    Its subject, opened by no definite article, is a real animal or an ordinary person ("a
    pink pig wallowing in a mud puddle", "a pop singer in a sparkly stage outfit"), nothing
    frames it as a character (a cartoon, a costume, an animal in clothes or called "he", a
    proper name after the first word, a number), and it repeats fewer than
    ``PLAIN_TRAITS`` of the description's words besides the subject.
    ``named``: the prompt names a registered entity or owner, however written ("sanrio's
    famous kitten"), which frames it too.
    """
    ws = words(prompt)
    texts = {w.text for w in ws}
    subject = {w.text for w in words(_subject(prompt))} & ORDINARY
    if named or not subject or texts & FRAMES or _ANY_POSSESSIVE.search(prompt):
        return False
    if _definite_subject(prompt):  # "the icelandic chess champion walking a dog" is one
        return False
    animal = not (subject & HUMANS) and "mermaid" not in subject
    if animal and texts & (CLOTHES | PERSONAL):
        return False
    if any(prompt[w.start : w.start + 1].isupper() for w in ws[1:]) or any(
        ch.isdigit() for ch in prompt
    ):
        return False
    return len([a for a in attrs if a not in subject]) < PLAIN_TRAITS


PLACES = frozenset(
    """station stations castle palace street streets st square plaza bridge bridges
    whirlpool whirlpools strait town city village harbour harbor port airport avenue road
    lane boulevard cathedral abbey church chapel tower park lake river bay island falls
    valley district quarter""".split()  # noqa: SIM905
)
"""Nouns that make the name before them a place ("Paddington station", "Lichtenstein
Castle", "the naruto whirlpools", "the guernica town square")."""
LANDFORM_PARTS = frozenset("face wall ridge peak summit flank slope col".split())  # noqa: SIM905
"""A name ending in one of these, then "of", is part of a mountain ("the north face of the
Eiger")."""
SPECIES = frozenset(
    """common greater lesser great northern southern eastern western american european
    african asian wild""".split()  # noqa: SIM905
)
"""Adjectives of species names: "common nighthawks", "a greater roadrunner"."""
TITLES = frozenset(
    """mr mrs ms miss dr signora signor signore signorina señora senora señor senor sra sr
    srta madame monsieur mme mlle herr frau sir dame""".split()  # noqa: SIM905
)
"""Courtesy titles: the name after one is someone's surname ("la signora Ferrari")."""
BREEDS = frozenset(
    "spaniel spaniels terrier terriers retriever retrievers hound hounds setter setters".split()  # noqa: SIM905
)
"""Dog breeds named after people ("a King Charles spaniel")."""
DEITIES = frozenset("god goddess gott gottin dieu deesse dios diosa dio dea deus deusa".split())  # noqa: SIM905
"""A name right after "goddess" or "god" is the figure of a myth, not a brand named after it."""
CLASSIC_AUTHORS = frozenset(
    """andersen kipling grimm grimms perrault carroll baum barrie collodi aesop homer ovid
    shakespeare dickens hugo dumas verne twain stevenson stoker shelley poe""".split()  # noqa: SIM905
)
"""Authors whose works are public domain: "Andersen's Snow Queen" is the tale itself."""
CLASSIC_FRAMES = frozenset(
    """myth myths mythology mythological fable fairytale folktale rhyme norse myte myten
    myter myt mytologi mythe mythen mythos mythologie mito mitos mitologia""".split()  # noqa: SIM905
)
"""Words that set a prompt in public-domain myth and folklore ("greek myth vase painting",
"nursery rhyme")."""
TALE_WORDS = frozenset(
    """story stories tale tales version cuento conte marchen fiaba""".split()  # noqa: SIM905
)
"""Words that, beside a classic author's name, say the prompt is set in that author's tale."""


def everyday_use(prompt: str, hit: NameHit, kind: str, *, classic: bool = False) -> str | None:
    """Why a name in the prompt is read in an everyday sense, if it is: a place named
    after it ("Paddington station"), a species ("common nighthawks"), a surname after a
    title ("la signora Ferrari"), a look-alike spelt across a function word ("migas en",
    "in Kipling's"), or, with ``classic``, a public-domain tale or myth ("Andersen's Snow
    Queen")."""
    written = prompt[hit.start : hit.end]
    spelt = [w.text for w in words(written)]
    alias_words = words(hit.alias, transliterate=True)
    if (
        hit.method != "exact"
        and written.isascii()
        and not _LATIN_LETTER.search(hit.alias)
        and (
            written == written.lower()
            or all(w in known_words() or compound(w, known_words()) for w in spelt)
        )
    ):
        # "hitman" is no misspelt "ヒーマン": a lowercase or English word is not a name
        # written in another script and read back (capitalised romaji still is:
        # "Evangerion").
        return "another script's name"
    if hit.method in ("fuzzy", "phonetic") and any(
        script_of(ch) not in ("", "hangul") for ch in written
    ):
        # A misspelling of a Chinese or Japanese reading ("川と" read "chuan to" is no
        # "Chuck 70"): names in those scripts match as written, or katakana as read back.
        # (Hangul spells a name by sound, and its variants are misspellings: "피카추".)
        return "look-alike reading"
    if (
        any(script_of(ch) == "hangul" for ch in written)
        and not any(script_of(ch) == "hangul" for ch in hit.alias)
        and (
            any(is_unspaced(ch) for ch in hit.alias)
            or (hit.method != "exact" and not _LATIN_LETTER.search(hit.alias))
        )
    ):
        # Korean "다리" (a leg) is no katakana "ダリ" (Dalí), nor "간다" a misspelt "Гандам".
        return "another script's reading"
    if hit.method != "exact" and all(script_of(ch) == "hiragana" for ch in written):
        return "hiragana"  # grammar ("たち", "から"); Japanese writes names in kana or kanji
    if (
        hit.method in ("fuzzy", "phonetic")
        and written.isascii()
        and written == written.lower()
        and _foreign(prompt)
    ):
        # A misspelling is read in English: in a Swedish or Dutch prompt "mormor" and
        # "kök på" are words of that language, not a misspelt "Mordor" or "Koopa".
        return "word of another language"
    if (
        (hit.method != "exact" or (len(alias_words) == 1 and all(w in FUNCTION for w in spelt)))
        and len(spelt) > 1
        and written.isascii()
        and any(len(w) > 1 and w in FUNCTION for w in spelt)
        and not any(w.text in FUNCTION for w in alias_words)
    ):
        # Also a one-word name spelt exactly by function words ("de la" is no "Dela").
        return "look-alike across a function word"
    after = [w.text for w in words(prompt[hit.end :])[:3]]
    if (
        kind != "brand"  # "a shell station" is the brand's
        and not _POSSESSIVE.match(prompt[hit.end :])
        and ((after[:1] and after[0] in PLACES) or after[1:2] == ["square"])
    ):
        return "place"
    if after[:1] and after[0] in BREEDS:
        return "breed"  # "a King Charles spaniel", "a Jack Russell terrier"
    name_words = words(written)
    if name_words and name_words[-1].text in LANDFORM_PARTS and after[:1] == ["of"]:
        return "landform"
    before = words(prompt[: hit.start])[-1:]
    lower = written == written.lower()
    if before and before[0].text in SPECIES and lower:
        return "species"
    if before and before[0].text in TITLES:
        return "title"
    if before and before[0].text in DEITIES:
        return "deity"  # "the goddess nike", "the Norse god Thor": the myth's figure
    if kind == "brand" and before and _given_name(prompt, before[0], hit):
        return "person"  # "Nikola Tesla", "Enzo Ferrari": the person the brand is named after
    if after[:1] and (
        after[0] in DEITIES or (after[0] == "the" and after[1:2] and after[1] in DEITIES)
    ):
        return "deity"  # "a priestess of Nike, goddess of victory"
    return "public-domain tale" if classic else None


def _foreign(prompt: str) -> bool:
    """Is the prompt mostly in another language: fewer than half its words of three or
    more letters English ones?"""
    ws = [w.text for w in words(prompt) if len(w.text) >= 3 and not w.script]
    if not ws:
        return False
    known = known_words()
    if sum(w in known for w in ws) * 2 < len(ws):
        return True  # mostly words no English list holds (Swedish, Polish, Dutch...)
    # MiniLM's vocabulary holds many French, Spanish or German words: count the words only
    # another language has against those only English has.
    foreign, english = foreign_words(), dictionary_words()
    only_foreign = sum(w in foreign and w not in english for w in ws)
    only_english = sum(w in english and w not in foreign for w in ws)
    return only_foreign > only_english


def _unread_script(prompt: str) -> bool:
    """Is the prompt written mostly in a script other than Latin (fewer than a third of
    its letters Latin)?"""
    letters = [ch for ch in prompt if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) * 3 < len(letters)


def _given_name(prompt: str, before: Word, hit: NameHit) -> bool:
    """Is ``before`` a given name right before the name ("Nikola Tesla", "Walt Disney"):
    capitalised, no dictionary word, and joined to it by a space only?"""
    written = prompt[hit.start : hit.end]
    return (
        before.capitalized
        and written[:1].isupper()
        and " " not in written.strip()
        and before.text.isalpha()
        and len(before.text) >= 3
        and prompt[before.end : hit.start] == " "
        and not dictionary_word(before.text)
        and before.text not in FUNCTION
    )


def classic_frame(prompt: str) -> bool:
    """Is the prompt set in a public-domain tale or myth: a classic author's possessive
    ("Hans Christian Andersen's Snow Queen") or a myth, fable or rhyme?"""
    texts = [w.text for w in words(prompt)]
    return (
        any(t in CLASSIC_FRAMES for t in texts)
        or any(
            texts[k] in CLASSIC_AUTHORS and texts[k + 1 : k + 2] == ["s"] for k in range(len(texts))
        )
        # "in the Perrault story", "the Grimm brothers' tale"
        or (bool(CLASSIC_AUTHORS.intersection(texts)) and bool(TALE_WORDS.intersection(texts)))
    )


FUNCTION = (
    STOPWORDS
    | ARTICLES
    | OF
    | frozenset(
        "en y et und e con per por para sur dans im al del".split()  # noqa: SIM905
    )
)
"""Function words of English and the languages ``gloss`` reads."""


def declares_original(prompt: str) -> bool:
    """Does the prompt say its subject is its own design or a generic, unbranded one
    ("original character", "my own logo idea", "store brand soda", "no label")?"""
    ts = [w.text for w in words(prompt)]
    return any(t in ORIGINAL_WORDS for t in ts) or any(
        pair in ORIGINAL_PAIRS for pair in itertools.pairwise(ts)
    )


def _names_a_mark(prompt: str) -> bool:
    """Does the prompt name a logo, mascot, maker...? Not when it denies one ("no label",
    "without any logo", "a generic brand")."""
    ws = words(prompt)
    for i, w in enumerate(ws):
        if w.text in MARKS and not any(v.text in NEGATIONS for v in ws[max(0, i - 3) : i]):
            return True
    return False


@dataclass(frozen=True)
class Target:
    """What the screener needs to know about one entity."""

    id: str
    name: str
    kind: str
    owner: str
    aliases: tuple[str, ...]
    description: str
    facts: tuple[str, ...] = ()
    """What the entity is known for (``EntitySpec.facts``): names in them are key names."""


@dataclass
class Match:
    entity_id: str
    name: str
    kind: str
    owner: str
    method: str
    """``exact`` | ``phonetic`` | ``fuzzy`` | ``description`` | ``description+minilm`` | ..."""
    score: float
    span: tuple[int, int]
    text: str
    """The matched part of the prompt."""
    details: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return asdict(self)


class Screener:
    """Indexes built once per registry version; ``find`` is thread-safe."""

    def __init__(self, targets: list[Target], embedder: StaticEmbedder, encoder: MiniLMEncoder):
        self.targets = targets
        self.encoder = encoder
        self.full_calls = 0
        """How many prompt texts went through the full model (for benchmarks)."""
        self.names = NameIndex(
            (i, alias)
            for i, t in enumerate(targets)
            for alias in (t.name, *t.aliases, *_brand_verbs(t))
        )
        self.descriptions = DescriptionIndex(embedder, [t.description for t in targets])
        self._specific = len(targets) >= SPECIFIC_ENTITIES
        """Does how many descriptions share a word say how specific it is?"""
        self._mentioned_by: dict[int, list[int]] = {}
        """Entity -> the entities whose descriptions name it (relations, franchises)."""
        self._mentions: dict[int, list[int]] = {}
        """Entity -> the entities its description names (an actor's roles)."""
        self._described_by: dict[int, list[int]] = {}
        self._describes: dict[int, list[int]] = {}
        """The same from descriptions alone (a brand's relations: its founders and mascots,
        not the athletes and games its facts or theirs say it sponsors or sells)."""
        for j, t in enumerate(targets):
            described = self.names.mentions(t.description) - {j}
            # A fact names relatives, partners and roles as a description does ("married to
            # Victoria Beckham").
            in_facts = self.names.mentions(" ; ".join(t.facts)) - {j} if t.facts else set()
            for i in described | in_facts:
                self._mentioned_by.setdefault(i, []).append(j)
                self._mentions.setdefault(j, []).append(i)
            for i in described:
                if targets[i].kind == "brand":
                    self._described_by.setdefault(i, []).append(j)
                if t.kind == "brand":
                    self._describes.setdefault(j, []).append(i)
        self._related_pool = set(self._mentioned_by) | set(self._mentions)
        self._first_words: dict[str, list[int]] = {}
        """First word of a several-word name -> its entities ("minnie" -> Minnie Mouse), for
        relations spoken with a first name ("Minnie's boyfriend")."""
        for j, t in enumerate(targets):
            if j not in self._mentioned_by:
                continue
            for alias in (t.name, *t.aliases):
                parts = alias.split()
                if len(parts) > 1 and parts[0].isalpha() and parts[0].isascii():
                    first = parts[0].lower()
                    if len(first) >= 3 and j not in self._first_words.get(first, []):
                        self._first_words.setdefault(first, []).append(j)
        # Owners by the names a prompt would use ("Sega", "Pixar", "Studio Ghibli"):
        # "Disney Pixar" and "Shueisha / Toei Animation" give one key per part.
        self._by_owner: dict[str, list[int]] = {}
        self._owner_keys: dict[str, str] = {}
        for j, t in enumerate(targets):
            if t.kind == "person":
                continue
            self._by_owner.setdefault(t.owner, []).append(j)
            for part in re.split(r"[/,()]| and ", t.owner):
                key = squash(part)
                if len(key) >= 3:
                    self._owner_keys.setdefault(key, t.owner)
                first_word = squash(part.split()[0]) if part.split() else ""
                if len(first_word) >= 4 and first_word not in OWNER_GENERIC:
                    self._owner_keys.setdefault(first_word, t.owner)
        self._owner_words = frozenset(
            w.text for o in self._by_owner for w in words(o) if w.text not in OWNER_GENERIC
        )
        self.keys = KeyNames(
            ((j, t.description, t.owner, (t.name, *t.aliases)) for j, t in enumerate(targets)),
            frequent_words(),
            _memo(lambda w: rarity(w, self.descriptions.vocab)),
            facts=((j, t.facts) for j, t in enumerate(targets) if t.facts),
        )
        self._fact_stems = {
            j: frozenset(stem_key(w) for w in content_words(" ".join(t.facts)))
            for j, t in enumerate(targets)
            if t.facts
        }
        """Entity -> the word stems of its facts: what a prompt repeats of them is evidence
        besides a key name, as its description's words are."""
        self._brand_cues = {
            j: brand_cues(t.description) for j, t in enumerate(targets) if t.kind == "brand"
        }
        self._own_titles: dict[int, frozenset[str]] = {}
        """Entity -> the titles its own texts give it ("President", "Queen", "Princess"),
        read when first asked: a name after one of them is the entity's ("President
        Macron", "Queen Elsa"), after another title someone else's ("Captain Nemo")."""

    def __getstate__(self) -> dict[str, Any]:
        # Stored by ``index_cache`` without the process's model: ``attach`` gives it back.
        return {**self.__dict__, "encoder": None, "full_calls": 0}

    def attach(self, embedder: StaticEmbedder, encoder: MiniLMEncoder) -> None:
        """Reconnect an index read from disk to this process's embedder and model."""
        self.encoder = encoder
        self.descriptions.attach(embedder)
        known_words(), foreign_words()  # the word lists, read before the first prompt

    def find(self, prompt: str, *, enough: Callable[[Match], bool] | None = None) -> list[Match]:
        """Every entity the prompt refers to, strongest evidence first.

        ``enough`` (e.g. "this match blocks the request") stops the search at the first
        match it accepts, so the full model is not run once the outcome is known. A
        franchise named in the prompt does not stop it: a character of that franchise the
        prompt describes is the more precise answer ("the greasy-haired potions teacher of
        Slytherin house" is Snape, not just Harry Potter).
        """
        found: dict[int, Match] = {}
        first: list[int] = []
        """Entities more specific than a name match (a relation, a franchise's character)."""
        encoded: dict[str, np.ndarray] = {}
        # 1. Names, read both with look-alike letters mapped and transliterated.
        hits = self.names.search(prompt)
        if _NON_ASCII.search(prompt):
            hits += self.names.search(prompt, transliterate=True)
            if "г" in prompt.lower():
                # Russian writes a foreign H as Г ("Гомер Симпсон", "Гарри Поттер"): read
                # it as H too (same length, so spans stay).
                hits += self.names.search(
                    prompt.replace("Г", "Һ").replace("г", "һ"), transliterate=True
                )
            hits = _exact_first(hits)
        works: list[int] = []
        # A key name inside a registered name the prompt spells out ("Harry" in "Harry
        # Potter") is that entity's name, not one from another entity's description: what
        # the name points to is for the relation and franchise steps to say.
        exact = [(h.start, h.end) for h in hits if h.method == "exact"]
        keyed = [
            k
            for k in self.keys.find(prompt)
            if not any(a <= k.start and k.end <= b and (a, b) != (k.start, k.end) for a, b in exact)
            # German capitalises every noun: "mit dem Einen Ring" names no ring.
            and (k.coined or len(k.words) > 1 or not _german_noun(prompt, k.start))
        ]
        # Does the prompt name a maker (an owner of registered entities)?
        names_owner = any(len(w.text) >= 4 and w.text in self._owner_keys for w in words(prompt))
        # A tale or myth in the public domain ("Andersen's Snow Queen", "greek myth") names
        # its own figures, unless a maker or a second registered name says whose retelling
        # is meant ("Kratos from the Sony game in greek mythology").
        classic = classic_frame(prompt) and len({h.entity for h in hits}) <= 1 and not names_owner
        if keyed and classic:
            keyed = []
        tale = classic and any(w.text in CLASSIC_AUTHORS for w in words(prompt))
        """Was a name read as a figure of a public-domain tale ("Andersen's Snow Queen")?
        Then the traits it shares with a registered entity are the tale's too."""
        for hit in hits:
            if hit.entity in found and found[hit.entity].score >= hit.score:
                continue
            context = None
            written = prompt[hit.start : hit.end]
            brand = self.targets[hit.entity].kind == "brand"
            # A brand whose name is also an ordinary word ("apple", "shell", "crocs") is the
            # brand in lowercase only if the context says so; a coined one, registered as
            # "iPhone", "BMW", "YouTube", "M&M's", is the brand however it is written.
            key = squash(written)
            common = (
                key in COMMON_WORD_BRANDS
                or (brand and key in foreign_words() and _foreign(prompt))
                or (key.endswith("s") and key[:-1] in COMMON_WORD_BRANDS)
                or (hit.ambiguous and " " in written.strip())
            )
            german_noun = _german_noun(prompt, hit.start)
            lowercase = (
                not written[:1].isupper()
                or starts_sentence(prompt, hit.start, hit.end)
                or german_noun
            )
            if hit.ambiguous and not hit.as_name and self._titled(prompt, hit):
                hit = replace(hit, as_name=True)
            if hit.method == "exact" and not written[:1].isupper() and _foreign_word(prompt, hit):
                # "ma maman prépare une tarte", "mijn vader en ik": a common word of the
                # prompt's language; only the context can make it the name.
                hit = replace(hit, ambiguous=True, as_name=False)
            if hit.ambiguous and hit.as_name and not brand and _modifier(prompt, hit):
                # "a bag of frozen peas": an everyday word in lowercase before a noun.
                hit = replace(hit, as_name=False)
            if _named_someone(prompt, hit, self.names):
                # "Elsa Johansson, en lärare", "パン屋で働くミクさん": a first name with a
                # surname or an honorific of its own is someone's.
                hit = replace(hit, ambiguous=True, as_name=False)
            if not brand and _common_plural(written, hit):
                # "street fighters squaring off", "humming electrical transformers" are
                # plain plurals; a name is not pluralised (the context may still say so).
                hit = replace(hit, ambiguous=True, as_name=False)
            if german_noun and hit.ambiguous:
                # German capitalises every noun: "ein Puma jagt in den Anden" is an animal.
                hit = replace(hit, as_name=False)
            brand_word = brand and lowercase and common and hit.method == "exact"
            if (
                hit.ambiguous
                and brand
                and hit.method == "exact"
                and not common
                and (
                    _coined(hit.alias)
                    or (
                        not written[:1].isupper()
                        and not any(dictionary_word(w.text) for w in words(written))
                    )
                )
            ):
                # A brand name that no dictionary holds, written in lowercase ("a samsung
                # tv", "a netflix binge"), is the brand: MiniLM's vocabulary knows the word
                # only because the brand is common. Capitalised at the start of a sentence,
                # it may still be the goddess ("Nike, the winged goddess of victory").
                hit = replace(hit, as_name=True)
            if not brand and not hit.ambiguous and _lowercase_phrase(written, hit):
                # "an iron man triathlete", "the matrix of a circuit board", "a bad bunny
                # chewing a cable": everyday words written plainly; as a name ("iron man
                # flying over the city") or with the context of the entity they still count.
                # Its own "the" is the determiner of a common noun phrase ("the matrix of
                # a circuit board").
                as_name = hit.as_name and written[:4] != "the " and not _foreign_phrase(written)
                hit = replace(hit, ambiguous=True, as_name=as_name)
            if self.targets[hit.entity].kind == "person" and _other_numeral(prompt, hit):
                continue  # "King Charles II" is not King Charles III
            use = everyday_use(prompt, hit, self.targets[hit.entity].kind, classic=classic)
            if use:
                # "Paddington station", "common nighthawks", "la signora Ferrari"
                tale = tale or use == "public-domain tale"
                continue
            if brand_word or (hit.ambiguous and not hit.as_name) or _article_noun(prompt, hit):
                # A lowercase brand that is also a word ("crocs sunbathing on a riverbank",
                # "a row of vans") is the brand only if the context says so ("drinking a
                # coke through a straw"); so is a name on someone else ("Mario, my
                # neighbour"); "a minion eating a banana" is the character, "a minion-sized
                # toy" is not.
                cue = (
                    brand_cue(prompt, hit.start, hit.end, self._brand_cues[hit.entity])
                    if brand and hit.method == "exact"
                    else None
                )
                context = {"brand_cue": cue} if cue else self._context(hit, prompt, encoded)
                if context is None:
                    continue
            # 1b. "Luke Skywalker's father", "Mickey's girlfriend", "the founder of Amazon":
            # a relation of the named entity, found among the entities whose descriptions
            # name it.
            via = _via(prompt, hit.start, hit.end)
            if via is None and hit.entity in self._related_pool:
                # The same entity named twice ("Sulley's one-eyed best friend on the
                # Monsters Inc scare floor"): the relation may hang on the other name.
                hit, via = self._relation_mention(prompt, hit)
            related = self._relation(hit, prompt, via)
            found[hit.entity] = self._name_match(prompt, hit, context)
            if related is not None:
                entity, match = self._sharper(prompt, related.entity_id_index, related.match, found)
                found[entity] = match
                first.append(entity)
                if enough is not None and enough(match):
                    return [match]
                continue
            if self.targets[hit.entity].kind == "work" or (
                brand and squash(_ENDS_POSSESSIVE.sub("", written)) in self._owner_keys
            ):
                # A franchise, or a maker that owns characters ("the blue fish from the
                # Pixar movie", "the Tesla and SpaceX boss"): a character or person of it
                # that the prompt describes is the more precise answer (step 3).
                works.append(hit.entity)
                continue
            if keyed:
                # A name from an entity's description may say which one is meant ("the
                # Amazon princess from Themyscira"): step 3 decides.
                continue
            if enough is not None and enough(found[hit.entity]):
                return [found[hit.entity]]
        if not first and _ANY_POSSESSIVE.search(prompt):
            # 1c. "Minnie's boyfriend", "Luke's father": a relation spoken with a first name.
            by_first = self._first_name_relation(prompt)
            if by_first is not None:
                entity, match = self._sharper(prompt, *by_first, found)
                found.setdefault(entity, match)
                first.append(entity)
                if enough is not None and not works and enough(match):
                    return [match]
        # 2. A name from an entity's description (a place, a relative, a ship) and a role
        # described: "the captain of the Black Pearl", "Marlin's missing son".
        dprompt = gloss(prompt)
        # The words of names the prompt spells out are those entities', not traits of the
        # one a key name points to ("Bugs Bunny ... Looney Tunes" is no rabbit of Daffy's).
        spelt = frozenset(
            x for a, b in exact for w in words(prompt[a:b]) for x in (w.text, gloss_word(w.text))
        )
        # Does the prompt name any registered entity or owner (a frame for ``plain_scene``)?
        any_named = bool(found) or names_owner
        named_by_key = self._key_named(prompt, dprompt, keyed, spelt, framed=any_named)
        if named_by_key is not None:
            named_by_key = self._sharper(prompt, *named_by_key, found)
            entity, match = named_by_key
            found.setdefault(entity, match)
            named = {
                e
                for e, m in found.items()
                if m.method in NAME_METHODS
                and m.score >= match.score
                and (
                    self.targets[e].kind in ("character", "person")
                    # A work named outright that the key name's entity has nothing to do
                    # with ("Evangerion ... Tōkyō" is not Godzilla's Tokyo).
                    or (self.targets[e].kind == "work" and not self._related(entity, e))
                )
                and not self._title_of(e, m, entity, match, dprompt)
            }
            word = match.details.get("key") in self.keys.words
            if (not named or entity in named) and not (word and works):
                # More precise than a brand or a franchise named on the way ("the Amazon
                # princess from Themyscira"); a character named outright stays first, but
                # not a look-alike spelling weaker than the key name ("master Shifu" is
                # not a misspelt Master Chief when the rest is Kung Fu Panda's). A fact's
                # coined lowercase word is weaker than a franchise named outright ("der
                # Herr der Ringe: ein Hobbit mit dem Einen Ring").
                first.append(entity)
        if enough is not None and not works:
            # What a name found, when no franchise asks for a more precise answer.
            for e in [*first, *found]:
                if enough(found[e]):
                    return [found[e]]
        # 3. Descriptions (best static score first: sure matches need no full model), then
        # entities that share the prompt's rare traits but whose whole description is
        # further away (long descriptions with relations and franchise dilute it).
        # Descriptions are English: a Spanish, French, German, Italian or Portuguese prompt
        # is compared word-for-word glossed ("el erizo azul" -> "el hedgehog blue").
        prompt_words: dict[str, PromptWords] = {}

        def outranked(entity: int, score: float) -> bool:
            # See ``_outranked``; step 2 keeps what step 1 found for its entity.
            if enough is None or not (works or keyed):
                return False
            if named_by_key is not None and named_by_key[0] == entity:
                return False
            return _outranked(found, enough, score)

        # Descriptions are English, read in five other languages word for word (``gloss``);
        # a prompt in another script shares no words with them, only sub-word fragments
        # that resemble by chance (a Korean sentence "describing" an invented mascot).
        unread = _unread_script(prompt)
        candidates = (
            []
            if unread
            else self._by_evidence(
                self.descriptions.search(dprompt, k=16, floor=DESC_MAYBE), prompt_words
            )
        )
        original = declares_original(prompt)
        for entity, score, window, traits in candidates:
            if entity in found:
                continue
            mass, attrs = traits.mass, traits.words
            if not self._grounded(attrs):
                continue
            if score < DESC_CLOSE and plain_scene(dprompt, attrs, named=any_named):
                # "a pink pig wallowing in a mud puddle on a farm" is a pig, not Peppa.
                continue
            if original and score < DESC_SURE and (score < DESC_LIKELY or mass < ATTR_MANY):
                # "a cyborg assassin with a glowing eye, original sci-fi", "store brand
                # orange soda from a plain can": a look-alike the prompt says is not the
                # entity. Only a description the static signals settle on their own still
                # is ("a fat orange tabby eating lasagna, original cartoon"); the uncertain
                # band (traits combined, the full model) is not asked.
                continue
            method, final = "description", score
            t = self.targets[entity]
            if (
                t.kind == "brand"
                and mass < BRAND_ATTR
                and score < DESC_SURE
                and not _names_a_mark(prompt)
            ):
                # A brand's product described generically ("a jar of hazelnut spread", "a
                # pint of dark stout") is not the brand: without a logo, mascot or maker in
                # the prompt only overwhelming detail is, or the mark itself described as
                # the registry describes it (a sure static score: "five interlocking
                # rings in blue, yellow, black, green and red on a white flag").
                continue
            if score < DESC_SURE:
                if mass < ATTR_FEW and score < DESC_CLOSE:
                    continue
                if _figure_of(t) and _human(_subject(prompt)) and not _figure_of_text(prompt):
                    # "a tall blonde woman in a pink dress" is a woman, not a fashion doll.
                    continue
                if score < DESC_LIKELY or mass < ATTR_MANY:
                    lean = score + LEAN_MASS * mass
                    if lean < LEAN_NO:
                        continue
                    if lean >= LEAN_YES and (_human_entity(t) or not _human(prompt)):
                        method = "description+attributes"
                    elif outranked(entity, score):
                        continue
                    else:
                        full = self._full_score(entity, window.text, encoded, parts=True)
                        final = (score + full) / 2
                        if final < DESC_MATCH:
                            continue
                        method = "description+minilm"
            found[entity] = self._description_match(
                entity, method, final, score, window, attrs, dprompt[window.start : window.end]
            )
            if enough is not None and enough(found[entity]) and not works:
                return [found[entity]]
        trait = (
            None
            if original or tale or unread
            else self._rare_traits(dprompt, found, encoded, outranked, framed=any_named)
            or self._person_role(dprompt, found, framed=any_named)
            or self._definite(prompt, dprompt, found)
        )
        if trait is not None:
            entity, match = trait
            found[entity] = match
            if enough is not None and enough(match) and not works:
                return [match]
        # 4. A franchise or an owner named, and a role described: "the half-giant gamekeeper
        # of Hogwarts", "the blue hedgehog from the Sega games".
        member = self._member(dprompt, works)
        if member is not None:
            entity, match = member
            found[entity] = match
            first.append(entity)
        ranked = sorted(found.values(), key=lambda m: -m.score)
        if first:
            ids = {self.targets[e].id for e in first}
            ranked = [found[e] for e in first] + [m for m in ranked if m.entity_id not in ids]
        if enough is not None:
            for m in ranked:
                if enough(m):
                    return [m]
        return ranked

    def _titled(self, prompt: str, hit: NameHit) -> bool:
        """Is the name written after a title its own texts give it ("President Macron",
        "la reine Elsa")?"""
        before = words(prompt[: hit.start])[-1:]
        if not before or gloss_word(before[0].text) not in TITLE_WORDS:
            return False
        own = self._own_titles.get(hit.entity)
        if own is None:
            t = self.targets[hit.entity]
            own = self._own_titles[hit.entity] = TITLE_WORDS & {
                gloss_word(w.text)
                for text in (t.description, *t.facts, *t.aliases)
                for w in words(text)
            }
        return gloss_word(before[0].text) in own

    def _by_evidence(
        self, candidates: list[tuple[int, float, Window]], prompt_words: dict[str, PromptWords]
    ) -> list[tuple[int, float, Window, Traits]]:
        """Description candidates, the best evidence first: the static score plus what the
        prompt repeats of traits specific to the entity (``SPECIFIC_RANK``).

        Which candidate is tried first is the one a blocking request names: "a flying man
        in red and gold power armour with a glowing circle in his chest" is closer in the
        static space to another red-and-gold flying hero, but repeats the armour and the
        glowing chest of Iron Man alone. The order decides which entity, not whether one
        matches: each candidate still passes its own thresholds.
        """
        out = []
        for entity, score, window in candidates:
            if window.text not in prompt_words:
                prompt_words[window.text] = self.descriptions.prompt_words(window.text)
            traits = self.descriptions.traits(entity, prompt_words[window.text])
            out.append((entity, score, window, traits))
        out.sort(key=lambda c: -(c[1] + LEAN_MASS * c[3].mass + SPECIFIC_RANK * c[3].specific))
        return out

    def _rare_traits(
        self,
        prompt: str,
        found: dict[int, Match],
        encoded: dict[str, np.ndarray],
        outranked: Callable[[int, float], bool] = lambda entity, score: False,
        *,
        framed: bool = False,
    ) -> tuple[int, Match] | None:
        """The entity whose description the prompt repeats most, by rare traits, when that
        is clearly more than any other entity's (``TRAITS_MANY``) and the full model agrees
        the prompt is close (``TRAITS_MATCH``). ``outranked(entity, score)``: whatever the full
        model says, a match at this static score would not be the answer (not asked)."""
        pw = self.descriptions.prompt_words(prompt)
        pool = self.descriptions.rare_candidates(pw, k=8)
        scored = sorted(
            ((self.descriptions.traits(e, pw), e) for e in pool), key=lambda x: -x[0].mass
        )
        if not scored or scored[0][1] in found:
            return None
        traits, entity = scored[0]
        mass, attrs = traits.mass, traits.words
        if mass < TRAITS_MANY and (traits.specific < TRAITS_SPECIFIC or not self._specific):
            # Fewer rare traits, but ones few descriptions share ("claws", "sideburns",
            # "mutant") say as much.
            return None
        if len(scored) > 1 and scored[1][0].mass * TRAITS_MARGIN > mass:
            return None
        if not self._grounded(attrs) or plain_scene(prompt, attrs, named=framed):
            return None
        t = self.targets[entity]
        if t.kind == "brand" and mass < BRAND_ATTR and not _names_a_mark(prompt):
            return None
        if _human(prompt) and not _human_entity(t):
            # "a man in a purple top hat riding a unicycle" shares the hat and the unicycle
            # with a mouse mascot, but a man is not a mouse.
            return None
        ((score, window),) = self.descriptions.scores_for(prompt, [entity])
        if score < TRAITS_NONE:
            return None
        method, final = "traits", score
        if score < TRAITS_SURE:
            if mass < TRAITS_MANY:
                # Considered for its specific traits alone: only a sure static score
                # counts (the full model is kept for the prompts repeating more).
                return None
            if outranked(entity, score):
                return None
            final = (score + self._full_score(entity, window.text, encoded)) / 2
            if final < TRAITS_MATCH:
                return None
            method = "traits+minilm"
        text = prompt[window.start : window.end]
        return entity, self._description_match(
            entity, method, final, score, window, attrs, text, mass=mass
        )

    def _grounded(self, attrs: list[str]) -> bool:
        """Does a description match rest on at least one word MiniLM knows? A prompt that
        shares nothing with a description but out-of-vocabulary tokens (a transliteration,
        "koshka", "kazoku") or nothing at all only resembles it in sub-word fragments: an
        invented name's description ("Zohihu, a vuko from the tazel saga") is all such
        fragments."""
        vocab = self.descriptions.vocab
        return any(a in vocab for a in attrs)

    def _person_role(
        self, prompt: str, found: dict[int, Match], *, framed: bool = False
    ) -> tuple[int, Match] | None:
        """The living person whose role the prompt gives ("the French president at the
        Élysée Palace", "the Serbian tennis champion at Wimbledon"): the words of it that
        few descriptions share (``PERSON_SPECIFIC``), at least twice what any other
        entity's description shares (``PERSON_MARGIN``), and a sure static score.

        A role is a combination only one person holds, where a fictional character's
        look-alike traits ("a snowman with a carrot nose") are everyday scenes; so this
        asks for fewer traits than ``_rare_traits``, but only of people.
        """
        pw = self.descriptions.prompt_words(prompt)
        scored = sorted(
            ((self.descriptions.traits(e, pw), e) for e in self.descriptions.rare_candidates(pw)),
            key=lambda x: -x[0].specific,
        )
        if not scored or scored[0][1] in found or self.targets[scored[0][1]].kind != "person":
            return None
        traits, entity = scored[0]
        second = scored[1][0].specific if len(scored) > 1 else 0.0
        if (
            not self._specific
            or traits.specific < PERSON_SPECIFIC
            or traits.mass < PERSON_MASS
            or traits.specific < PERSON_MARGIN * second
        ):
            return None
        ((score, window),) = self.descriptions.scores_for(prompt, [entity])
        if score < TRAITS_SURE or plain_scene(prompt, traits.words, named=framed):
            return None  # "a tennis player hitting a one-handed backhand on a clay court"
        text = prompt[window.start : window.end]
        return entity, self._description_match(
            entity, "description+role", score, score, window, traits.words, text, mass=traits.mass
        )

    def _sharper(
        self, prompt: str, entity: int, match: Match, found: dict[int, Match]
    ) -> tuple[int, Match]:
        """The entity a relation or a key name picked, unless the prompt describes another
        one far more specifically.

        A relation or a name from a description is one word of evidence ("Harry" in
        Hermione's description, "Leia's son"); when the rest of the prompt repeats another
        entity's specific traits at least ``SHARP_MARGIN`` times as much (and at least
        ``SHARP_SPECIFIC``), that entity is the one described: "the greasy-haired potions
        master who always hated Harry" is Snape, not Hermione. Entities the prompt names
        outright are not candidates (their own words are in the prompt)."""
        if not self._specific:
            return entity, match
        dprompt = gloss(prompt)
        pw = self.descriptions.prompt_words(dprompt)
        named = {e for e, m in found.items() if m.method in NAME_METHODS}
        best: tuple[float, int, Traits] | None = None
        for e in self.descriptions.rare_candidates(pw):
            if e == entity or e in named:
                continue
            t = self.descriptions.traits(e, pw)
            if best is None or t.specific > best[0]:
                best = (t.specific, e, t)
        if best is None:
            return entity, match
        specific, other, traits = best
        own = self.descriptions.traits(entity, pw).specific
        if (
            specific < SHARP_SPECIFIC
            or specific < SHARP_MARGIN * own
            or not self._grounded(traits.words)
            or self.targets[other].kind != self.targets[entity].kind
        ):
            return entity, match
        ((score, window),) = self.descriptions.scores_for(dprompt, [other], parts=True)
        text = dprompt[window.start : window.end]
        return other, self._description_match(
            other, "traits+sharper", score, score, window, traits.words, text, mass=traits.mass
        )

    def _definite(
        self, prompt: str, dprompt: str, found: dict[int, Match]
    ) -> tuple[int, Match] | None:
        """The one entity a definite description points to ("the chocolate factory owner in
        a purple coat", "the sorcerer supreme from Marvel", "the springfield nuclear plant
        safety inspector").

        "The" before a description says the speaker means an individual the listener
        knows; "a snowman with a carrot nose" is any snowman. So a prompt opening with a
        definite article (``DEFINITE``) needs fewer of an entity's specific traits than
        ``_rare_traits`` asks (``DEF_SPECIFIC``, ``DEF_MASS``), as long as no other entity
        comes close (``DEF_MARGIN``) and the static score is not far (``DEF_SCORE``)."""
        if not _definite_subject(prompt) or not self._specific:
            return None
        pw = self.descriptions.prompt_words(dprompt)
        scored = sorted(
            ((self.descriptions.traits(e, pw), e) for e in self.descriptions.rare_candidates(pw)),
            key=lambda x: -x[0].specific,
        )
        if not scored or scored[0][1] in found:
            return None
        traits, entity = scored[0]
        second = scored[1][0].specific if len(scored) > 1 else 0.0
        if (
            traits.specific < DEF_SPECIFIC
            or traits.mass < DEF_MASS
            or traits.specific < DEF_MARGIN * second
            or not self._grounded(traits.words)
        ):
            return None
        if _human(_subject(prompt)) and not _human_entity(self.targets[entity]):
            # "the man in a purple top hat ..." is a man, whatever mascot wears the hat.
            return None
        ((score, window),) = self.descriptions.scores_for(dprompt, [entity], parts=True)
        if score < DEF_SCORE:
            return None
        text = dprompt[window.start : window.end]
        return entity, self._description_match(
            entity, "definite+traits", score, score, window, traits.words, text, mass=traits.mass
        )

    def _key_named(
        self,
        prompt: str,
        dprompt: str,
        hits: list[KeyHit],
        spelt: frozenset[str] = frozenset(),
        *,
        framed: bool = False,
    ) -> tuple[int, Match] | None:
        """The entity whose description holds a name the prompt uses (``facts.KeyNames``)
        and whose description the rest of the prompt repeats, clearly more than any other
        entity holding that name. ``spelt``: words of registered names the prompt spells
        out (not counted)."""
        best: tuple[float, int, list[str], KeyHit, float] | None = None
        if not hits:
            return None
        pw = self.descriptions.prompt_words(dprompt)
        for hit in hits:
            scored = sorted(
                (self._known_attributes(e, pw, hit, spelt) for e in hit.entities),
                key=lambda x: -x[0][0],
            )
            (mass, attrs), entity = scored[0]
            t = self.targets[entity]
            lone_fact = hit.key in self.keys.lone and entity in self.keys.facts.get(hit.key, ())
            if (hit.key in self.keys.phrases or hit.key in self.keys.words or lone_fact) and (
                (t.kind == "brand" and not _names_a_mark(prompt))
                or (_human(prompt) and not _human_entity(t))
            ):
                # "stacked potato crisps" is the product, not the brand's mark; "a man in a
                # purple top hat" is not the mouse mascot in one; a model a brand's facts
                # name ("a silver Gullwing sports car") is a car unless a mark is named.
                continue
            written = prompt[hit.start : hit.end]
            if (hit.key in self.keys.phrases or written == written.lower()) and plain_scene(
                dprompt, [*(w.text for w in words(hit.key)), *attrs], named=framed
            ):
                # "a grey rabbit chewing a carrot in a vegetable garden", "a tennis player
                # hitting a one-handed backhand": a description's phrase, plainly written.
                continue
            second = scored[1][0][0] if len(scored) > 1 else 0.0
            need = KEY_REST if hit.coined or len(hit.words) > 1 else KEY_REST_WORD
            if hit.key in self.keys.phrases:
                need = KEY_REST_PHRASE
            elif hit.key in self.keys.words:
                need = KEY_REST_WORD  # "a footlong sandwich at a deli counter"
            if hit.coined and (_relation_of(prompt, hit.start) or _possessive(prompt, hit.end)):
                # "the founder of SpaceX", "Mufasa's son": the relation is the evidence.
                need = 0.0 if len(scored) == 1 else 1e-6
            # A franchise the prompt names counts toward what the rest must repeat ("the
            # one-eyed green monster from Monsters Inc"), not between its members.
            whole = self._known_attributes(entity, pw, hit)[0][0] if spelt else mass
            if whole < need or mass < KEY_MARGIN * second:
                continue
            if best is None or mass > best[0]:
                best = (mass, entity, attrs, hit, whole)
        if best is None:
            return None
        _, entity, attrs, hit, mass = best
        hit_text = prompt[hit.start : hit.end]
        t = self.targets[entity]
        return entity, Match(
            t.id,
            t.name,
            t.kind,
            t.owner,
            "key-name",
            round(min(1.0, 0.5 + mass / 10), 3),
            (hit.start, hit.end),
            prompt[hit.start : hit.end],
            {
                "key": hit.key,
                "attributes": [w.text for w in words(hit_text) if w.text not in STOPWORDS] + attrs,
                "attribute_mass": round(mass, 2),
            },
        )

    def _related(self, entity: int, work: int) -> bool:
        """Does the entity belong to the work (its description or the work's names the
        other, or they have one owner)?"""
        return (
            entity == work
            or entity in self._mentioned_by.get(work, ())
            or work in self._mentioned_by.get(entity, ())
            or self.targets[entity].owner == self.targets[work].owner
        )

    def _title_of(self, named: int, m: Match, entity: int, key: Match, dprompt: str) -> bool:
        """Was ``named`` found by a title its entry holds besides its name ("Monsters Inc"
        for Sulley), or by its name beside a name from ``entity``'s facts, where
        ``entity``'s knowledge names it too and the rest of the prompt describes ``entity``
        far more ("the one-eyed green monster from Monsters Inc")? Then the name says
        where or whose the key name's entity is, not who is meant."""
        alias = str(m.details.get("alias", ""))
        if named not in self._mentions.get(entity, ()):
            return False
        key_name = str(key.details.get("key", ""))
        if squash(alias) == squash(self.targets[named].name):
            # Named outright: only a name from the entity's facts says the prompt is about
            # the entity and the named one is its relative ("the Fight Club actor who was
            # married to Angelina Jolie"), and not one the named one holds too ("Elsa ...
            # of Arendelle": it says nothing of whose the name is).
            if not self.keys.facts.get(key_name, ()) or named in self.keys.entities.get(
                key_name, ()
            ):
                return False
        elif squash(self.targets[named].name) in squash(dprompt):
            return False  # "Bugs Bunny, the rabbit of the Looney Tunes": named outright too
        pw = self.descriptions.prompt_words(dprompt)
        spelt = frozenset(w.text for w in words(f"{alias} {key.text}"))
        own, _ = self.descriptions.attributes(named, pw, ignore=spelt)
        return float(key.details.get("attribute_mass", 0.0)) >= SHARP_MARGIN * max(own, 0.5)

    def _known_attributes(
        self, entity: int, pw: PromptWords, hit: KeyHit, spelt: frozenset[str] = frozenset()
    ) -> tuple[tuple[float, list[str]], int]:
        """What the rest of a prompt repeats of an entity besides a key name: its
        description's words (``DescriptionIndex.attributes``), then its facts' words, each
        by its rarity ("the Shawshank Redemption narrator": "narrator"); and a role a
        person or a human character is given beside a name from its facts ("the actor
        who played God in Bruce Almighty": an actor) counts as one rare word
        (``FACT_ROLE``)."""
        mass, attrs = self.descriptions.attributes(entity, pw, ignore=hit.words | spelt)
        stems = self._fact_stems.get(entity)
        if not stems:
            return (mass, attrs), entity
        taken = set(attrs) | hit.words | spelt
        extra = [
            (w, r)
            for w, st, r in zip(pw.words, pw.stems, pw.rarity.tolist(), strict=True)
            if st in stems and w not in taken and r >= FACT_RARE
        ]
        mass += sum(r for _, r in extra)
        attrs = attrs + [w for w, _ in extra]
        if (
            entity in self.keys.facts.get(hit.key, ())
            and (hit.coined or len(hit.words) > 1)
            and hit.key not in self.keys.words
            and _human_entity(self.targets[entity])
        ):
            role = next((w for w in pw.words if w in FACT_ROLES and w not in taken), None)
            if role is not None and role not in attrs:
                mass += FACT_ROLE
                attrs = [*attrs, role]
        return (mass, attrs), entity

    def _related_to(self, entity: int) -> list[int]:
        """The entities whose knowledge names ``entity``; for a brand, whose descriptions do
        (a sponsorship in a fact relates no athlete to a brand's products)."""
        by = self._described_by if self.targets[entity].kind == "brand" else self._mentioned_by
        return by.get(entity, [])

    def _relates(self, entity: int) -> list[int]:
        """The entities ``entity``'s knowledge names; a brand's, its description's."""
        of = self._describes if self.targets[entity].kind == "brand" else self._mentions
        return of.get(entity, [])

    def _relation(self, hit: NameHit, prompt: str, via: str | None) -> _Related | None:
        """The entity a possessive points to ("Mario's taller brother" -> Luigi): among the
        entities whose descriptions name the hit's entity, the one whose description the
        rest of the prompt repeats most (the relation word counts: "brother"). The relation
        word ``via`` repeated by the description is enough ("the founder of Facebook",
        "Amazon's founder": ``RELATION_OF_MASS``)."""
        if via in ACTORS and self.targets[hit.entity].kind == "person":
            return None  # "the Fresh Prince actor" is the actor named, not a co-star
        pool = self._related_to(hit.entity)
        if via in ACTING or via in OWNED:
            # "the actress who played Hermione", "the hitman Keanu plays": the role names
            # the actor or the actor's description names the role.
            pool = [*pool, *(e for e in self._relates(hit.entity) if e not in pool)]
        if not pool:
            return None
        rest = gloss(prompt[: hit.start] + " " + prompt[hit.end :])
        pw = self.descriptions.prompt_words(rest)
        # The traits few of the related entities' descriptions share decide between them
        # ("harry potter's red haired best friend": both best friends, one red-haired).
        scored = [(self.descriptions.traits(e, pw), e) for e in pool]
        traits, entity = max(scored, key=lambda x: (x[0].specific, x[0].mass))
        mass, attrs = traits.mass, traits.words
        # The relation said as only one related entity's description says it ("the sister
        # of Elsa": Anna's alone says "sister"; a franchise's entry tells of all of them)
        # names that one, however common the word.
        sole = (
            via not in ACTING
            and via in attrs
            and [e for tr, e in scored if via in tr.words and self.targets[e].kind != "work"]
            == [entity]
        )
        own, _ = self.descriptions.attributes(hit.entity, pw)
        if via is None:
            # No relation word: only a prompt that describes the other entity far more than
            # the named one ("the green dinosaur Mario rides") points to it.
            if mass < RELATION_BARE_MASS or mass <= RELATION_BARE_MARGIN * own:
                return None
        elif own > mass and not sole:
            # The rest describes the named one more than any related one: the relation word
            # is its own ("My Melody's mischievous rival, a bunny in a black jester hood"
            # is Kuromi, registered with her Sanrio friends' names).
            return None
        elif mass < RELATION_MASS and not sole and not (via in attrs and mass >= RELATION_OF_MASS):
            actors = [e for e in self._mentioned_by.get(hit.entity, []) if _is_person(self, e)]
            if not (via in ACTING and actors == [entity] and ACTORS & set(pw.words)):
                return None
            # "the actor who plays Deadpool": the one person whose description names the
            # role is the actor, whatever else the prompt says ("a kid who plays
            # Deadpool" is a kid).
        t = self.targets[entity]
        match = Match(
            t.id,
            t.name,
            t.kind,
            t.owner,
            "relation",
            round(min(1.0, 0.5 + mass / 10), 3),
            (hit.start, len(prompt)),
            prompt[hit.start :],
            {"via": self.targets[hit.entity].id, "attributes": attrs},
        )
        return _Related(entity, match)

    def _relation_mention(self, prompt: str, hit: NameHit) -> tuple[NameHit, str | None]:
        """Another place where the prompt names the hit's entity with a relation word
        (the name index keeps one hit per entity), or the hit itself."""
        if not _ANY_POSSESSIVE.search(prompt) and not any(w.text in ACTING for w in words(prompt)):
            return hit, None
        blank = prompt[: hit.start] + " " * (hit.end - hit.start) + prompt[hit.end :]
        for other in self.names.search(blank):
            if other.entity != hit.entity or other.method != "exact":
                continue
            via = _via(prompt, other.start, other.end)
            if via is not None:
                return other, via
        return hit, None

    def _first_name_relation(self, prompt: str) -> tuple[int, Match] | None:
        """A capitalised first name of a registered several-word name, its possessive and a
        relation word that the description of an entity naming it repeats: "Minnie's
        boyfriend" is Mickey Mouse ("Minnie Mouse's boyfriend"), "Luke's father" Darth
        Vader. A first name alone names no one (it is too common to block on), but the
        relation is said exactly as the registry says it; not where the context makes the
        name someone else's ("my neighbour Luke's father")."""
        ws = words(prompt)
        for i, w in enumerate(ws):
            named = self._first_words.get(w.text)
            if not named or not w.capitalized or not _POSSESSIVE.match(prompt[w.end :]):
                continue
            via = _possessive(prompt, w.end)
            if via is None or someone_else(ws, i, prompt):
                continue
            rest = gloss(prompt[: w.start] + " " + prompt[w.end :])
            pw = self.descriptions.prompt_words(rest)
            pool = {r for e in named for r in self._mentioned_by.get(e, ())}
            scored = sorted(
                ((self.descriptions.traits(r, pw), r) for r in pool),
                key=lambda x: (-x[0].specific, -x[0].mass),
            )
            scored = [(t, r) for t, r in scored if via in t.words]
            if not scored:
                continue
            traits, entity = scored[0]
            if len(scored) > 1 and scored[1][0].specific * RELATION_BARE_MARGIN > traits.specific:
                continue
            t = self.targets[entity]
            return entity, Match(
                t.id,
                t.name,
                t.kind,
                t.owner,
                "relation",
                round(min(1.0, 0.5 + traits.mass / 10), 3),
                (w.start, len(prompt)),
                prompt[w.start :],
                {"first_name": w.text, "via": via, "attributes": traits.words},
            )
        return None

    def _member(self, prompt: str, works: list[int]) -> tuple[int, Match] | None:
        """The entity of a named franchise (its description names it) or of a named owner
        whose description the rest of the prompt repeats most, if clearly so."""
        pool: set[int] = set()
        named: list[str] = []
        for w in works:
            pool.update(self._related_to(w))
            if self.targets[w].kind == "work":
                # "the angry green giant from the Avengers": the franchise's owner's
                # characters, whose descriptions need not name the franchise.
                pool.update(self._by_owner.get(self.targets[w].owner, ()))
            pool.add(w)  # the franchise entry's own description (the boy wizard: Harry Potter)
            named.append(self.targets[w].name)
        for owner in self._owners_named(prompt):
            pool.update(self._by_owner[owner])
            named.append(owner)
        if not pool:
            return None
        pw = self.descriptions.prompt_words(prompt)
        scored = sorted(
            ((self.descriptions.attributes(e, pw, ignore=self._owner_words), e) for e in pool),
            key=lambda x: -x[0][0],
        )
        (mass, attrs), entity = scored[0]
        # A maker found by its registered name already settles the request: which of its
        # characters is meant only makes the answer precise, so one rare trait is enough
        # ("Nintendo's plumber"). A franchise's own entry describes its hero ("Harry
        # Potter waving his wand" is the franchise's entry), and an owner that is no
        # entry settles nothing: about two traits.
        makers = any(self.targets[w].kind == "brand" for w in works)
        if mass < (MEMBER_NAMED_MASS if makers else MEMBER_MASS):
            return None
        # A franchise's own entry names its characters' traits ("the snowman Olaf"): it
        # does not compete with them.
        close = [
            e
            for (m, _), e in scored
            if (self.targets[e].kind != "work" or e == entity) and m * MEMBER_MARGIN > mass
        ]
        if len(close) > 1:
            # Only when the prompt repeats the same traits of each: a trait one of them
            # lacks ("noseless") is for the margin to weigh, not the main character.
            same = {frozenset(a) for (_, a), e in scored if e in close}
            main = self._main_character(close, pool) if len(same) == 1 else None
            if main is None:
                return None
            entity = main
            mass, attrs = next(a for a, e in scored if e == main)
        t = self.targets[entity]
        match = Match(
            t.id,
            t.name,
            t.kind,
            t.owner,
            "franchise",
            round(min(1.0, 0.5 + mass / 10), 3),
            (0, len(prompt)),
            prompt,
            {"named": named, "attributes": attrs, "attribute_mass": round(mass, 2)},
        )
        return entity, match

    def _main_character(self, close: list[int], pool: set[int]) -> int | None:
        """Of members the prompt describes equally ("the Nintendo plumber": Mario and
        Luigi), the one most of the franchise's other descriptions name (Luigi's, Peach's,
        Bowser's name Mario; only Mario's names Luigi), if clearly one."""
        named_by = sorted(
            ((len(pool.intersection(self._mentioned_by.get(e, ()))), e) for e in close),
            reverse=True,
        )
        (top, entity), (second, _) = named_by[0], named_by[1]
        return entity if top >= MEMBER_MAIN * max(second, 1) else None

    def _owners_named(self, prompt: str) -> list[str]:
        ws = words(prompt)
        out = []
        for i in range(len(ws)):
            q = ""
            for j in range(i, min(len(ws), i + 3)):
                q += ws[j].text
                owner = self._owner_keys.get(q)
                if owner is not None and ws[i].capitalized and owner not in out:
                    out.append(owner)
        return out

    def _description_match(
        self,
        entity: int,
        method: str,
        final: float,
        score: float,
        window: Window,
        attrs: list[str],
        text: str,
        *,
        mass: float | None = None,
    ) -> Match:
        t = self.targets[entity]
        details: dict[str, Any] = {"static_score": round(score, 3), "attributes": attrs}
        if mass is not None:
            details["attribute_mass"] = round(mass, 2)
        return Match(
            t.id,
            t.name,
            t.kind,
            t.owner,
            method,
            round(float(final), 3),
            (window.start, window.end),
            text,
            details,
        )

    def _context(
        self, hit: NameHit, prompt: str, encoded: dict[str, np.ndarray]
    ) -> dict[str, Any] | None:
        """Does a prompt that uses an everyday-word alias as a common noun mean the entity?

        Its description attributes besides the alias decide when clear; the full model
        otherwise. Returns the evidence, or None when the word is just a word.
        """
        alias_words = frozenset(w.text for w in words(prompt[hit.start : hit.end]))
        pw = self.descriptions.prompt_words(prompt)
        mass, attrs = self.descriptions.attributes(hit.entity, pw, ignore=alias_words)
        if mass < CONTEXT_FEW:
            return None
        before = words(prompt[: hit.start])[-1:]
        if before and before[0].text in NAMING and mass < ATTR_MANY:
            # "a plumber named Mario fixing my sink": the prompt says the name is someone's;
            # one shared trait is that person's job, only a full description is the entity.
            return None
        evidence: dict[str, Any] = {"context_attributes": attrs}
        if mass < min(ATTR_MANY, CONTEXT_SURE):
            score = self._full_score(hit.entity, _around(prompt, hit), encoded)
            if score < CONTEXT:
                return None
            evidence["context_score"] = round(score, 3)
        return evidence

    def encode_descriptions(self, budget_s: float | None = None) -> int:
        """Encode descriptions with the full model ahead of need (all of them, or for at most
        ``budget_s``).

        Otherwise the first uncertain prompt about an entity also pays for its description
        (one more full-model call, 2-4 ms). Returns how many were encoded.
        """
        deadline = time.perf_counter() + (budget_s if budget_s is not None else float("inf"))
        done = 0
        for t in self.targets:
            if time.perf_counter() > deadline:
                break
            if t.description.strip():
                self._facet_vectors(t)
                done += 1
        return done

    def _facet_vectors(self, t: Target) -> list[np.ndarray]:
        """Full-model vectors of a description's facets (``semantic.facets``), each
        encoded once."""
        return [
            self.encoder.encode_cached(t.id if n == 0 else f"{t.id}#{n}", text)
            for n, text in enumerate(facets(t.description))
        ]

    def _full_score(
        self, entity: int, text: str, encoded: dict[str, np.ndarray], *, parts: bool = False
    ) -> float:
        """Full-model cosine of ``text`` (encoded once per prompt) and the description, or
        with ``parts`` its closest facet (a part weighted by ``FACET_WEIGHT``, as the
        description search weighs it)."""
        t = self.targets[entity]
        if text not in encoded:
            encoded[text] = self.encoder.encode(text)
            self.full_calls += 1
        vecs = self._facet_vectors(t) if parts else self._facet_vectors(t)[:1]
        return max(
            float(np.dot(encoded[text], v)) * (1.0 if n == 0 else FACET_WEIGHT)
            for n, v in enumerate(vecs)
        )

    def _name_match(self, prompt: str, hit: NameHit, context: dict[str, Any] | None) -> Match:
        t = self.targets[hit.entity]
        details: dict[str, Any] = {"alias": hit.alias, **(context or {})}
        return Match(
            t.id,
            t.name,
            t.kind,
            t.owner,
            hit.method,
            round(hit.score, 3),
            (hit.start, hit.end),
            prompt[hit.start : hit.end],
            details,
        )


def _outranked(found: dict[int, Match], enough: Callable[[Match], bool], score: float) -> bool:
    """Would a description match at static ``score`` lose to a match already found,
    whatever the full model said? Then the model is not asked (2-4 ms saved).

    ``find`` asks this only once it will answer at its end (a franchise, a maker or a key
    name was named, so nothing is returned early) and when step 2 does not pick this very
    candidate (it would keep the candidate's description match). The answer is then the
    first match that settles the request among step 2's and 4's picks (which do not depend
    on this candidate), then the rest by score: a settled match scoring above the highest
    final score the model could give this candidate (``(score + 1) / 2``) comes before it,
    so its outcome cannot change the answer ("the noseless dark lord from the Harry Potter
    books": the franchise's name, 1.0, blocks before any description could).
    """
    bound = (score + FULL_MAX) / 2
    for m in sorted(found.values(), key=lambda m: -m.score):  # as ``find`` will ask them
        if m.score <= bound:
            return False
        if enough(m):
            return True
    return False


def _memo(f: Callable[[str], float]) -> Callable[[str], float]:
    """``f`` remembered per word, while an index is built (descriptions repeat words)."""
    seen: dict[str, float] = {}

    def g(w: str) -> float:
        v = seen.get(w)
        if v is None:
            v = seen[w] = f(w)
        return v

    return g


def _around(prompt: str, hit: NameHit) -> str:
    """The prompt, or in a long prompt the ``WINDOW`` words centred on the name: the part
    that says what the word means here, at a bounded full-model cost (a 60-word prompt
    would cost 4-8 ms to encode whole)."""
    ws = words(prompt)
    if len(ws) <= WINDOW:
        return prompt
    inside = [k for k, w in enumerate(ws) if w.start < hit.end and w.end > hit.start]
    first, last = (inside[0], inside[-1]) if inside else (0, 0)
    a = max(0, min(first - (WINDOW - (last - first + 1)) // 2, len(ws) - WINDOW))
    return prompt[ws[a].start : ws[min(len(ws), a + WINDOW) - 1].end]
