"""The rights holder's view: matches over time, top phrasings, licences, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI

from tests.studio.conftest import Browser
from tests.studio.test_rights_portal import _verified_org, rights_app  # noqa: F401

pytest.importorskip("mutoscope.rights.service", reason="the rights layer is not installed")


def _row(seq: int, day: int, decision: str, text: str, user: str, entity: str = "hero"):  # type: ignore[no-untyped-def]
    from mutoscope.rights.records import AuditRecord

    when = datetime(2026, 11, day, 12, tzinfo=UTC).timestamp()
    ev = {"text": text, "entity_id": entity} if decision == "block" else {}
    matches = [{"entity_id": entity, "text": text}]
    return AuditRecord(
        seq=seq,
        created_at=when,
        user_id=user,
        check="prompt",
        prompt_hash=f"{seq:064x}",
        decision=decision,
        entity_id=entity,
        method="exact",
        score=1.0,
        evidence={"evidence": ev, "matches": matches, "reason": f"r{seq}", "registry": "operator"},
        prev_hash="0" * 64,
        row_hash=f"{seq:064x}",
    )


def test_summary_buckets_days_counts_phrasings_by_people_and_licences() -> None:
    from mutoscope.rights.insights import summarise
    from mutoscope.rights.records import EntityRecord

    hero = EntityRecord(
        id="hero",
        name="Hero",
        policy="license",
        license={"licensees": ["user_1"], "attribution": "Hero by Co", "forbidden_themes": []},
    )
    rows = [
        _row(1, 28, "block", "Hero", "u1"),
        _row(2, 28, "block", "hero ", "u2"),
        _row(3, 29, "block", "HERO", "u1"),
        _row(4, 30, "allow", "the caped hero", "user_1"),
        _row(5, 1, "block", "Hero", "u3"),  # before the window: counted, not charted
    ]
    got = summarise(
        rows,
        {"hero": hero},
        lambda u: f"anon_{u}",
        {"user_1": "fan"},
        days=3,
        today=date(2026, 11, 30),
    )
    assert [(d.day.day, d.blocked, d.allowed) for d in got.days] == [
        (28, 2, 0),
        (29, 1, 0),
        (30, 0, 1),
    ]
    top = got.phrasings[0]
    assert (top.text, top.count, len(top.users)) == ("hero", 4, 3)
    assert (got.blocked, got.allowed, got.people) == (4, 1, 4)
    (lic,) = got.licences
    assert (lic.licensees, lic.attribution, lic.uses, lic.refused) == (["fan"], "Hero by Co", 1, 4)


def test_csv_has_one_row_per_decision_and_defuses_formulas() -> None:
    from mutoscope.rights.insights import CSV_FIELDS, to_csv

    rows = [_row(1, 28, "block", "=HYPERLINK()", "u1"), _row(2, 29, "allow", "Hero", "u2")]
    out = list(csv.DictReader(io.StringIO(to_csv(rows, {}, lambda u: f"anon_{u}"))))
    assert list(out[0]) == list(CSV_FIELDS)
    assert out[0]["matched_text"] == "'=HYPERLINK()" and out[0]["user"] == "anon_u1"
    assert out[0]["reason"] == "r1" and out[0]["prompt_sha256"] == f"{1:064x}"
    assert out[1]["decision"] == "allow" and out[1]["time"].startswith("2026-11-29T12:00:00")


def test_an_organisation_sees_its_matches_chart_phrasings_licences_and_csv(
    rights_app: FastAPI,  # noqa: F811
) -> None:
    admin, owner, fan, other = (Browser(rights_app, n) for n in ("admin", "owner", "fan", "other"))
    org_id = _verified_org(rights_app, admin, owner, "Owner Co")
    r = owner.post(
        "/rights/entities",
        id="my-hero",
        name="My Hero",
        kind="character",
        policy="license",
        licensees="fan",
        attribution="My Hero by Owner Co",
        org_id=org_id,
    )
    assert r.status_code == 200 and "Registered" in r.text, r.text
    fan.create("My Hero rides a bike")
    for prompt in ("My Hero rides a bike", "my hero at sea", "a poster of My Hero"):
        assert other.post("/create", prompt=prompt, model="mutoscope-test").status_code == 400
    assert admin.post("/create", prompt="My Hero again", model="mutoscope-test").status_code == 400

    page = owner.get(f"/rights?org={org_id}").text
    assert "<svg" in page and "4 blocked and 1 allowed prompts matched" in page
    assert "4 blocked" in page and "1 allowed" in page and "3 people" in page
    assert "“my hero”" in page  # the top phrasing, lower-cased, counted 5 times
    assert "My Hero by Owner Co" in page and "fan" in page and "1 / 4" in page

    export = owner.get(f"/rights/matches.csv?org={org_id}")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 5 and {r["entity_id"] for r in rows} == {"my-hero"}
    assert all(r["user"].startswith("anon_") and len(r["prompt_sha256"]) == 64 for r in rows)
    blocked = [r for r in rows if r["decision"] == "block"]
    assert all("only its licensees may generate" in r["reason"] for r in blocked)
    assert {r["registry"] for r in rows} == {"operator"}
    assert len({r["user"] for r in rows}) == 3  # fan, other, admin: stable pseudonyms

    assert other.get(f"/rights/matches.csv?org={org_id}").status_code == 403
    others_view = other.get("/rights").text
    assert "0 blocked" in others_view and "my-hero" not in others_view


def test_the_chart_labels_whole_numbers_and_describes_itself() -> None:
    import re
    from datetime import timedelta

    from mutoscope.rights.insights import Day
    from mutoscope.studio.charts import matches_chart

    start = date(2026, 11, 1)
    empty = str(matches_chart([Day(start + timedelta(days=i), 0, 0) for i in range(30)]))
    assert re.findall(r'class="axis">(\d+)<', empty) == ["0", "1"]
    busy = [Day(start + timedelta(days=i), i % 5, 1) for i in range(30)]
    svg = str(matches_chart(busy, title="Matches <per> day"))
    assert re.findall(r'class="axis">(\d+)<', svg) == ["0", "5"]
    assert "Matches &lt;per&gt; day" in svg and "60 blocked and 30 allowed" in svg
    assert svg.count('class="blocked"') == 24 and svg.count('class="allowed"') == 30
