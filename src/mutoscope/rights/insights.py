"""What a rights holder learns from the audit log about their entities.

Matches over time (per day, blocked and allowed), the phrasings that matched most often (the
matched words of the prompt, never the whole prompt, with how many different people used
them), licences with their attribution lines and uses, and a CSV of every decision. Users
appear only as pseudonyms (``anon_…``), from ``mutoscope.trust.secret.pseudonym``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from mutoscope.rights.records import AuditRecord, EntityRecord

DAYS = 30
TOP = 15
CSV_FIELDS = (
    "seq",
    "time",
    "entity_id",
    "entity",
    "decision",
    "reason",
    "registry",
    "check",
    "method",
    "score",
    "matched_text",
    "user",
    "prompt_sha256",
    "row_hash",
)


@dataclass(frozen=True)
class Day:
    day: date
    blocked: int
    allowed: int


@dataclass
class Phrasing:
    text: str
    count: int = 0
    users: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    last: float = 0.0


@dataclass(frozen=True)
class Licence:
    entity: EntityRecord
    licensees: list[str]
    """Display names (or ids where no account or organisation has that id)."""
    attribution: str
    forbidden_themes: list[str]
    uses: int
    """Allowed generations (licensees) in the audit log."""
    refused: int
    """Blocked attempts (non-licensees, forbidden themes)."""


@dataclass(frozen=True)
class Insights:
    days: list[Day]
    phrasings: list[Phrasing]
    licences: list[Licence]
    blocked: int
    allowed: int
    people: int


def rows_for(
    sessions: sessionmaker, entity_ids: list[str] | None, *, since: float | None = None
) -> Iterator[AuditRecord]:
    """Audit rows about these entities (all rows about any entity for ``None``), oldest first."""
    last = 0
    while True:
        with sessions() as s:
            q = select(AuditRecord).where(AuditRecord.seq > last)
            q = q.where(AuditRecord.entity_id.is_not(None))
            if entity_ids is not None:
                q = q.where(AuditRecord.entity_id.in_(entity_ids))
            if since is not None:
                q = q.where(AuditRecord.created_at >= since)
            chunk = list(s.scalars(q.order_by(AuditRecord.seq).limit(1000)))
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def matched_text(row: AuditRecord) -> str:
    """The words of the prompt that matched the entity (empty for media checks)."""
    ev = row.evidence or {}
    own = ev.get("evidence") or {}
    if own.get("text"):
        return str(own["text"])
    for m in ev.get("matches") or []:
        if m.get("entity_id") == row.entity_id and m.get("text"):
            return str(m["text"])
    return ""


def reason_of(row: AuditRecord) -> str:
    return str((row.evidence or {}).get("reason") or "")


def registry_of(row: AuditRecord) -> str:
    return str((row.evidence or {}).get("registry") or "")


def summarise(
    rows: Iterable[AuditRecord],
    entities: dict[str, EntityRecord],
    who: Callable[[str | None], str | None],
    names: dict[str, str],
    *,
    days: int = DAYS,
    today: date | None = None,
) -> Insights:
    """Fold audit rows (already limited to the holder's entities) into what the portal shows."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    phrasings: dict[str, Phrasing] = {}
    uses: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    people: set[str] = set()
    totals: Counter[str] = Counter()
    for row in rows:
        totals[row.decision] += 1
        (uses if row.decision == "allow" else refused)[row.entity_id or ""] += 1
        person = who(row.user_id)
        if person:
            people.add(person)
        day = datetime.fromtimestamp(row.created_at, UTC).date()
        if day >= first:
            per_day[day][row.decision] += 1
        text = _phrase(matched_text(row))
        if text:
            p = phrasings.setdefault(text, Phrasing(text))
            p.count += 1
            p.entities.add(row.entity_id or "")
            p.last = max(p.last, row.created_at)
            if person:
                p.users.add(person)
    series = [
        Day(d, per_day[d]["block"], per_day[d]["allow"])
        for d in (first + timedelta(days=i) for i in range(days))
    ]
    top = sorted(phrasings.values(), key=lambda p: (-p.count, -len(p.users), p.text))[:TOP]
    licences = [
        Licence(
            e,
            [names.get(x, x) for x in (e.license or {}).get("licensees", [])],
            (e.license or {}).get("attribution", ""),
            list((e.license or {}).get("forbidden_themes", [])),
            uses[e.id],
            refused[e.id],
        )
        for e in entities.values()
        if e.policy == "license"
    ]
    return Insights(series, top, licences, totals["block"], totals["allow"], len(people))


def to_csv(
    rows: Iterable[AuditRecord],
    entities: dict[str, EntityRecord],
    who: Callable[[str | None], str | None],
) -> str:
    """Every decision as CSV (one row per audit row), users as ``who`` shows them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        entity = entities.get(row.entity_id or "")
        writer.writerow(
            [
                row.seq,
                datetime.fromtimestamp(row.created_at, UTC).isoformat(timespec="seconds"),
                row.entity_id or "",
                entity.name if entity is not None else "",
                row.decision,
                reason_of(row),
                registry_of(row),
                row.check,
                row.method or "",
                "" if row.score is None else row.score,
                _safe_cell(matched_text(row)),
                who(row.user_id) or "",
                row.prompt_hash or "",
                row.row_hash,
            ]
        )
    return out.getvalue()


def since_days(days: int = DAYS) -> float:
    """The start (epoch seconds, UTC midnight) of the window ``summarise`` charts."""
    start = datetime.now(UTC).date() - timedelta(days=days - 1)
    return datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()


def _phrase(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())[:120]


def _safe_cell(text: str) -> str:
    """Prompt words go into a spreadsheet: keep them from being read as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
