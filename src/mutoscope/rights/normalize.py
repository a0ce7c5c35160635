"""Text normalisation that undoes the usual evasions before names are matched.

NFKC folds full-width and styled letters; format characters (zero-width spaces) vanish;
Cyrillic and Greek letters that look Latin become Latin inside words written in Latin
(``Ѕоnіс`` → ``sonic``), while words written wholly in another script are transliterated
(``Микки`` → ``mikki``) so that aliases in other languages still match; leetspeak digits and
symbols inside words become letters (``p1k4chu`` → ``pikachu``); runs of single letters
(``S o n i c``) are joined.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

# Letters that render like Latin ones (Cyrillic and Greek, both cases).
HOMOGLYPHS = str.maketrans(
    {
        **dict(
            zip(
                "аВвЕеКкМмНОоРрСсТтУуХхЅѕІіЈјԁӏԛԝЁёЇїЬьАЯ",
                "aBbEeKkMmHOoPpCcTtYyXxSsIiJjdlqwEeIibbAR",
                strict=True,
            )
        ),
        **dict(zip("ΑαΒβΕεΖΗΙιΚκΜΝνΟοΡρΤτΥυΧχ", "AaBbEeZHIiKkMNvOoPpTtYuXx", strict=True)),
    }
)
LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
        "€": "e",
    }
)
LEET_CHARS = "013457 89@$!|+€".replace(" ", "")
_WORD = re.compile(r"[@$€]*(?:[^\W_]|\x00)+(?:[@$!|+€]+(?:[^\W_]|\x00)+)*[@$€]*", re.UNICODE)
_LATIN = re.compile(r"[a-zA-Z]")
_FOREIGN = re.compile(r"[^\x00-\x7f]")
# Sounds-alike folding for fuzzy keys: spellings that read the same map to one form.
_PHONETIC = [
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck|q|c(?=[aou])|c$"), "k"),
    (re.compile(r"c"), "s"),
    (re.compile(r"z"), "s"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"y"), "i"),
    (re.compile(r"ee|ea|ie"), "i"),
    (re.compile(r"oo|ew|ou"), "u"),
    (re.compile(r"w"), "u"),
    (re.compile(r"(?<=[a-z])h"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
]


@dataclass(frozen=True)
class Word:
    """A normalised word and where it came from in the original text."""

    text: str
    start: int
    end: int
    capitalized: bool
    disguised: bool = False
    """Written with digits, symbols, other scripts or spaced-out letters."""
    script: str = ""
    """``kana``, ``hangul``, ``cjk`` or ``cyrillic`` for a word written in that script."""


def fold(text: str) -> str:
    """NFKC, drop format characters (zero-width joiners and spaces)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@lru_cache(maxsize=65_536)
def phonetic(key: str) -> str:
    for pattern, repl in _PHONETIC:
        key = pattern.sub(repl, key)
    return key


def words(text: str, *, transliterate: bool = False) -> list[Word]:
    """Normalised lowercase words of ``text`` with their spans in the original string.

    ``transliterate`` reads non-Latin words phonetically (unidecode) instead of mapping
    look-alike letters; screening tries both readings when a prompt has non-ASCII letters.
    Screening reads one prompt several times (names, descriptions, windows), so recent
    texts are remembered.
    """
    return list(_words(text, transliterate))


@lru_cache(maxsize=1024)
def _words(text: str, transliterate: bool) -> tuple[Word, ...]:
    out: list[Word] = []
    folded = fold_keep_offsets(text)
    for m in _WORD.finditer(folded):
        for raw, start, end, script in _script_runs(m.group(), m.start()):
            word = _normalise(raw, transliterate)
            if word:
                plain = re.sub(r"[^a-z0-9]", "", raw.lower())
                disguised = plain != word or bool(script)
                out.append(Word(word, start, end, raw[:1].isupper(), disguised, script))
    return tuple(_join_spelled_out(out))


# Scripts written without spaces between words (Japanese, Chinese) or with particles glued
# to the noun (Korean): a name is a run of one script inside the "word" the regex finds
# ("スポンジボブがハンバーガーを焼く" -> スポンジボブ | が | ハンバーガー | を | 焼 | く).
_KANA = re.compile(r"[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
# Greek spells a foreign b, d, g as μπ, ντ, γκ ("Μπάτμαν" is Batman, "Ντόναλντ" Donald):
# read that way before transliterating, or the name comes back as "mpatman".
_GREEK_DIGRAPHS = [
    (re.compile(r"^[Μμ][Ππ]"), "b"),
    (re.compile(r"^[Νν][Ττ]"), "d"),
    (re.compile(r"^[Γγ][Κκ]"), "g"),
    (re.compile(r"(?<=\w)[μΜ][πΠ]"), "b"),
    (re.compile(r"(?<=\w)[νΝ][τΤ]"), "d"),
    (re.compile(r"(?<=\w)[γΓ][κΚ]"), "g"),
]
_HANGUL_PARTICLES = tuple("에서 으로 이 가 은 는 을 를 의 에 와 과 도 로".split())  # noqa: SIM905


def is_unspaced(ch: str) -> bool:
    """Is ``ch`` a letter of a script written without spaces between words (Han, kana) or
    with particles glued to nouns (hangul)?"""
    return script_of(ch) != ""


def script_of(ch: str) -> str:
    """``kana``, ``hiragana``, ``cjk`` (Han), ``hangul``, or "" for any other script."""
    if _KANA.match(ch):
        return "kana"
    if _HIRAGANA.match(ch):
        return "hiragana"
    if _HAN.match(ch):
        return "cjk"
    if _HANGUL.match(ch):
        return "hangul"
    return ""


def _script_runs(raw: str, offset: int) -> list[tuple[str, int, int, str]]:
    """Split a regex word into runs of one East Asian script (others stay whole)."""
    if raw.isascii() or not any(script_of(ch) for ch in raw):
        script = ""
        if not _LATIN.search(raw):
            script = "cyrillic" if _CYRILLIC.search(raw) else "greek" if _GREEK.search(raw) else ""
        return [(raw, offset, offset + len(raw), script)]
    runs: list[tuple[str, int, int, str]] = []
    start = 0
    for k in range(1, len(raw) + 1):
        if k < len(raw) and raw[k] == "\x00":
            continue  # a dropped middle dot or format character: the run goes on
        if k == len(raw) or script_of(raw[k]) != script_of(raw[start]):
            runs.append((raw[start:k], offset + start, offset + k, script_of(raw[start])))
            start = k
    out = []
    for text, a, b, script in runs:
        if script == "hangul":
            for particle in _HANGUL_PARTICLES:
                if text.endswith(particle) and len(text) > len(particle) + 1:
                    cut = len(text) - len(particle)
                    out += [(text[:cut], a, a + cut, script), (text[cut:], a + cut, b, script)]
                    break
            else:
                out.append((text, a, b, script))
        else:
            out.append((text, a, b, script))
    return out


@lru_cache(maxsize=65_536)
def _normalise(raw: str, transliterate: bool) -> str:
    """One word as a key (prompts repeat their words: remembered)."""
    raw = raw.replace("\x00", "")
    if _KANA.search(raw):
        # The small tsu doubles the next consonant and the long-vowel mark lengthens a
        # vowel; unidecode spells them "tsu" and "-", which no Latin spelling of the name has.
        raw = raw.replace("ッ", "").replace("ー", "")
    if transliterate and _GREEK.search(raw) and not _LATIN.search(raw):
        for pattern, repl in _GREEK_DIGRAPHS:
            raw = pattern.sub(repl, raw)
    if not transliterate and (_LATIN.search(raw) or not _FOREIGN.search(raw)):
        raw = raw.translate(HOMOGLYPHS)
    elif not _LATIN.search(raw) and all(ch in HOMOGLYPHS_SET for ch in raw if ch.isalpha()):
        raw = raw.translate(HOMOGLYPHS) if not transliterate else raw
    word = unidecode(raw)
    if any(ch.isalpha() for ch in word) or all(ch in LEET_CHARS for ch in word):
        word = word.translate(LEET)
    return re.sub(r"[^a-z0-9]", "", word.lower())


HOMOGLYPHS_SET = {chr(c) for c in HOMOGLYPHS}
NAME_DOTS = frozenset("\u00b7\u30fb\u2027\uff65\u2022")
"""Middle dots that join the parts of a foreign name in Chinese and Japanese."""
HONORIFICS = ("さん", "様", "씨", "님")
"""Honorifics after the name of someone addressed (not "-chan", which fans give characters):
"ミクさん" is a person called Miku."""


def fold_keep_offsets(text: str) -> str:
    """Fold character by character so offsets keep pointing into the original text."""
    if text.isascii():
        return text  # NFKC leaves ASCII as it is and it has no format characters
    out = []
    for k, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            out.append("\x00")  # removed inside words below
            continue
        if (
            ch in NAME_DOTS
            and 0 < k < len(text) - 1
            and script_of(text[k - 1])
            and script_of(text[k + 1])
        ):
            # Chinese and Japanese write a foreign name's parts with a middle dot
            # ("哈利·波特", "ミッキー・マウス"); the name is one word with or without it.
            out.append("\x00")
            continue
        f = unicodedata.normalize("NFKC", ch)
        out.append(f[:1] if f else " ")
    return "".join(out)


def _join_spelled_out(ws: list[Word]) -> list[Word]:
    """``S o n i c`` or ``S.o.n.i.c`` → one word ``sonic`` (runs of three or more letters)."""
    out: list[Word] = []
    i = 0
    while i < len(ws):
        j = i
        while j < len(ws) and len(ws[j].text) == 1:
            j += 1
        if j - i >= 3:
            joined = "".join(w.text for w in ws[i:j])
            out.append(Word(joined, ws[i].start, ws[j - 1].end, ws[i].capitalized, True))
            i = j
        else:
            out.append(ws[i])
            i += 1
    return out


def squash(name: str, *, transliterate: bool = False) -> str:
    """An alias as one key: normalised letters and digits only (``Sponge-Bob`` → ``spongebob``)."""
    return "".join(w.text for w in words(name, transliterate=transliterate))


# Consonant skeletons: how a name survives being written in katakana or hangul and read
# back (スパイダーマン -> "supaidaman", バットマン -> "batoman"): vowels are added or
# changed, r before a consonant vanishes, l and r merge, v becomes b, soft consonants shift.
_SKELETON = [
    (re.compile(r"r(?![aeiouy])"), lambda m: ""),
    (re.compile(r"gh"), lambda m: ""),
    (re.compile(r"tch|ch|sh|ts|th|j|z|x"), lambda m: {"x": "ks"}.get(m.group(), "s")),
    (re.compile(r"ph|f"), lambda m: "h"),
    (re.compile(r"c(?=[eiy])|g(?=[eiy])"), lambda m: "s"),
    (re.compile(r"ck|c|q"), lambda m: "k"),
    (re.compile(r"v"), lambda m: "b"),
    (re.compile(r"l"), lambda m: "r"),
    (re.compile(r"m(?=[pb])"), lambda m: "n"),
    (re.compile(r"[aeiouyw]"), lambda m: ""),
    (re.compile(r"(.)\1+"), lambda m: m.group(1)),
]
SKELETON_MIN = 4
"""Shorter skeletons ("mns", "snp") are shared by too many unrelated words to identify a name."""


def skeleton(key: str) -> str:
    """The consonant skeleton of a normalised key (``spiderman``, ``supaidaman``: ``spdmn``)."""
    for pattern, repl in _SKELETON:
        key = pattern.sub(repl, key)
    return key
