from __future__ import annotations

import random

from mutoscope.rights.lexical import NameIndex


def _pseudo(rnd: random.Random) -> str:
    return "".join(rnd.choice("bcdfghklmnprstvz") + rnd.choice("aeiou") for _ in range(3))


def _index(extra: int = 3000) -> NameIndex:
    rnd = random.Random(1)
    names = [(0, "Pikachu"), (1, "Exmouse"), (2, "Spongebob Squarepants")]
    names += [(3 + i, _pseudo(rnd).title()) for i in range(extra)]
    return NameIndex(names)


def test_misspellings_are_found_among_thousands_of_similar_names() -> None:
    index = _index()
    for prompt, entity in [
        ("Pikaxhu in a meadow", 0),
        ("an Exmoise cartoon", 1),
        ("Spongebobb Squarpants at sea", 2),
    ]:
        hits = [h for h in index.search(prompt) if h.entity == entity]
        assert hits and hits[0].method == "fuzzy", prompt


def test_a_fuzzy_match_keeps_the_first_letter_and_the_edit_budget() -> None:
    index = _index()
    # "Bikachu": one edit away but another first letter; "Pkchuu": too many edits.
    assert not [h for h in index.search("Bikachu in a meadow") if h.entity == 0]
    assert not [h for h in index.search("Pkchuu in a meadow") if h.entity == 0]


def test_a_common_noun_alias_in_a_long_prompt_is_judged_on_the_words_around_it() -> None:
    from mutoscope.rights.lexical import NameHit
    from mutoscope.rights.screening import _around

    prompt = (
        "A slow dolly shot through a crowded night market full of lanterns where a little "
        "minion is eating a banana next to a noodle stall, steam rising, 35mm film grain"
    )
    start = prompt.index("minion")
    hit = NameHit(0, "Minion", "exact", 1.0, start, start + 6, True, False)
    window = _around(prompt, hit)
    assert "minion is eating a banana" in window
    assert len(window.split()) == 12
    short = "a minion eating a banana"
    assert _around(short, NameHit(0, "Minion", "exact", 1.0, 2, 8, True, False)) == short


def _assert_found(index: NameIndex, cases: list[tuple[str, int, str]]) -> None:
    """Each prompt holds its entity's name, found at exactly the span written."""
    for prompt, entity, span in cases:
        hits = [h for h in index.search(prompt) if h.entity == entity]
        assert hits and prompt[hits[0].start : hits[0].end] == span, prompt


def test_names_in_unspaced_scripts_are_found_inside_a_run_of_that_script() -> None:
    index = NameIndex([(0, "米老鼠"), (1, "アイアンマン"), (2, "스파이더맨"), (3, "Mickey")])
    _assert_found(
        index,
        [
            ("一只米老鼠玩偶放在桌子上", 0, "米老鼠"),
            ("アイアンマンとドラゴン", 1, "アイアンマン"),
            ("스파이더맨과 고양이", 2, "스파이더맨"),
        ],
    )
    assert not [h for h in index.search("老鼠在厨房里") if h.entity == 0]


def test_a_middle_dot_between_the_parts_of_a_foreign_name_is_read_through() -> None:
    """Chinese and Japanese join a foreign name's parts with a middle dot ("哈利·波特",
    "ミッキー・マウス"); an alias is the same name with or without it."""
    index = NameIndex([(0, "哈利波特"), (1, "ミッキー・マウス"), (2, "猫王")])
    _assert_found(
        index,
        [
            ("哈利·波特骑着扫帚在魁地奇比赛中抓金色飞贼", 0, "哈利·波特"),
            ("哈利波特骑着扫帚", 0, "哈利波特"),
            ("ミッキーマウスが踊る", 1, "ミッキーマウス"),
            ("ミッキー・マウスが踊る", 1, "ミッキー・マウス"),
        ],
    )
    # Other punctuation still splits: "猫，王" is two words, not the alias "猫王".
    assert not [h for h in index.search("一只猫，王在花园里") if h.entity == 2]


def test_a_chinese_alias_is_not_read_back_as_pinyin() -> None:
    # 死侍 reads "sishi" in pinyin: that must not make "sushi" a misspelt Deadpool.
    index = NameIndex([(0, "死侍"), (1, "Deadpool")])
    assert not index.search("a sushi chef slicing tuna")
    assert [h.entity for h in index.search("死侍在屋顶上")] == [0]


def test_greek_spellings_of_b_d_g_are_read_as_latin_letters() -> None:
    index = NameIndex([(0, "Batman"), (1, "Donald Duck")])
    hits = index.search("ο Μπάτμαν στη βροχή", transliterate=True)
    assert [h.entity for h in hits] == [0]
    assert [h.entity for h in index.search("ο Ντόναλντ Ντακ", transliterate=True)] == [1]
