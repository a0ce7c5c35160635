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


def fold(text: str) -> str:
    """NFKC, drop format characters (zero-width joiners and spaces)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


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
    folded = _fold_keep_offsets(text)
    for m in _WORD.finditer(folded):
        raw = m.group().replace("\x00", "")
        start, end = m.start(), m.end()
        if not transliterate and (_LATIN.search(raw) or not _FOREIGN.search(raw)):
            raw = raw.translate(HOMOGLYPHS)
        elif not _LATIN.search(raw) and all(ch in HOMOGLYPHS_SET for ch in raw if ch.isalpha()):
            raw = raw.translate(HOMOGLYPHS) if not transliterate else raw
        word = unidecode(raw)
        if any(ch.isalpha() for ch in word) or all(ch in LEET_CHARS for ch in word):
            word = word.translate(LEET)
        word = re.sub(r"[^a-z0-9]", "", word.lower())
        if word:
            plain = re.sub(r"[^a-z0-9]", "", m.group().lower())
            out.append(Word(word, start, end, raw[:1].isupper(), plain != word))
    return tuple(_join_spelled_out(out))


HOMOGLYPHS_SET = {chr(c) for c in HOMOGLYPHS}


def _fold_keep_offsets(text: str) -> str:
    """Fold character by character so offsets keep pointing into the original text."""
    if text.isascii():
        return text  # NFKC leaves ASCII as it is and it has no format characters
    out = []
    for ch in text:
        if unicodedata.category(ch) == "Cf":
            out.append("\x00")  # removed inside words below
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
