"""The screening index is stored on disk and read back by the next process."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from mutoscope.config import Settings
from mutoscope.rights import lexical
from mutoscope.rights import service as service_module
from mutoscope.rights.records import EntityRecord
from mutoscope.rights.service import RightsService
from mutoscope.storage.db import make_engine, session_factory

PROMPTS = (
    "Sonic running through a loop",
    "a blue hedgehog who collects golden rings at supersonic speed",
    "an orange tabby cat wearing a tuxedo",
    "Exmouse waving",
    "a red circle moving left on a blue background",
)


def _decisions(svc: RightsService) -> list[tuple[str, str | None, str | None]]:
    out = []
    for prompt in PROMPTS:
        d = svc.check_prompt(prompt, user_id="someone", record=False)
        out.append((d.decision, (d.entity or {}).get("id"), (d.entity or {}).get("method")))
    return out


def _second_process(settings: Settings) -> RightsService:
    return RightsService(settings, session_factory(make_engine(settings.db_url)))


def test_next_process_screens_with_the_stored_index_and_decides_alike(
    service: RightsService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _decisions(service)
    assert [d[1] for d in first[:3]] == ["sonic", "sonic", "licensed-cat"]
    stored = list((settings.home / "cache" / "rights").glob("screener-*.pickle"))
    assert len(stored) == 1

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was rebuilt instead of read")

    monkeypatch.setattr(service_module, "build_screener", no_build)
    again = _second_process(settings)
    assert _decisions(again) == first
    assert again.snapshot().build_s == pytest.approx(service.snapshot().build_s)


def test_next_process_takes_the_word_lists_from_the_stored_index(
    service: RightsService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _decisions(service)
    # a new process has read no word list yet; reading them again (about 1 s) must not happen
    monkeypatch.setattr(lexical, "_LISTS", {})

    def no_read() -> frozenset[str]:
        raise AssertionError("a word list was read again instead of taken from the index")

    monkeypatch.setattr(lexical, "_read_foreign", no_read)
    monkeypatch.setattr(lexical, "_read_dictionary", no_read)
    lexical.known_words.cache_clear()
    assert _decisions(_second_process(settings)) == first
    assert set(lexical._LISTS) == {"web2", "foreign"}


def test_a_registry_change_builds_a_new_index(service: RightsService, settings: Settings) -> None:
    service.check_prompt("Sonic", user_id="someone", record=False)
    before = {p.name for p in (settings.home / "cache" / "rights").glob("screener-*")}
    with service.sessions.begin() as s:
        s.execute(
            update(EntityRecord)
            .where(EntityRecord.id == "sonic")
            .values(aliases=["Sonic", "Zoomquill"])
        )
    again = _second_process(settings)
    d = again.check_prompt("Zoomquill at the beach", user_id="someone", record=False)
    assert (d.entity or {}).get("id") == "sonic"
    after = {p.name for p in (settings.home / "cache" / "rights").glob("screener-*")}
    assert after and after != before


def test_an_unreadable_index_file_is_rebuilt(service: RightsService, settings: Settings) -> None:
    service.check_prompt("Sonic", user_id="someone", record=False)
    (stored,) = (settings.home / "cache" / "rights").glob("screener-*.pickle")
    stored.write_bytes(b"torn")
    again = _second_process(settings)
    d = again.check_prompt("Sonic running", user_id="someone", record=False)
    assert (d.entity or {}).get("id") == "sonic"
    assert stored.read_bytes() != b"torn"
