"""What screening skips or remembers to save time must not change what it finds."""

from __future__ import annotations

import numpy as np

from mutoscope.rights.lexical import NameIndex
from mutoscope.rights.screening import Match, _outranked
from mutoscope.rights.semantic import DescriptionIndex, StaticEmbedder


def _match(entity_id: str, score: float) -> Match:
    return Match(entity_id, entity_id, "work", "Owner", "exact", score, (0, 1), "x")


def test_a_named_franchise_outranks_a_description_whatever_the_full_model_says() -> None:
    found = {0: _match("franchise", 1.0), 1: _match("other", 0.5)}
    asked: list[str] = []

    def blocks(m: Match) -> bool:
        asked.append(m.entity_id)
        return True

    # A candidate at static 0.7 could reach at most (0.7 + 1) / 2 = 0.85 < 1.0.
    assert _outranked(found, blocks, 0.7)
    assert asked == ["franchise"]  # asked in the order find asks, and no further


def test_a_close_or_unsettled_match_does_not_outrank_a_description() -> None:
    # 0.88 is below what the model could give a candidate at static 0.78 ((0.78 + 1) / 2).
    assert not _outranked({0: _match("fuzzy-name", 0.88)}, lambda m: True, 0.78)
    # A match that does not settle the request (a licence this user holds) outranks nothing.
    assert not _outranked({0: _match("licensed", 1.0)}, lambda m: False, 0.6)


def test_an_accented_prompt_read_twice_finds_what_a_fresh_index_finds() -> None:
    names = [(0, "Sonic the Hedgehog"), (1, "Pikachu"), (2, "Dark Vador")]
    prompt = "le hérisson Pikachuu et Dark Vadorr à toute vitesse"
    index = NameIndex(names)
    index.search(prompt)  # the plain reading, remembered
    again = index.search(prompt, transliterate=True)
    assert again == NameIndex(names).search(prompt, transliterate=True)
    assert {h.entity for h in again} == {1, 2}


def test_the_description_search_keeps_the_best_above_the_floor() -> None:
    rnd = np.random.default_rng(0)
    embedder = StaticEmbedder()
    words = ["hedgehog", "plumber", "wizard", "mouse", "robot", "dragon", "cape", "gloves"]
    descriptions = [" ".join(rnd.choice(words, 4)) for _ in range(300)]
    index = DescriptionIndex(embedder, descriptions)
    prompt = "a blue hedgehog in red gloves racing a robot"
    vecs, _ = embedder.embed_windows(prompt)
    best = (vecs @ index.matrix.T).max(0)
    for k, floor in [(3, 0.3), (16, 0.55), (400, 0.0)]:
        got = index.search(prompt, k=k, floor=floor)
        want = sorted(np.flatnonzero(best >= floor), key=lambda e: -best[e])[:k]
        assert sorted(e for e, _, _ in got) == sorted(int(e) for e in want)
        assert [s for _, s, _ in got] == sorted((s for _, s, _ in got), reverse=True)
