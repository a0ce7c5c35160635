"""The hash-chained audit log: every allow and block decision, tamper-evident.

Each row's ``row_hash`` is SHA-256 over the previous row's hash and the row's own fields
(canonical JSON), so editing, deleting or reordering any row breaks every hash after it.
That chain is public (exports carry it); someone who can write the database could
recompute it, so with ``AuditKeys`` each row also carries a keyed MAC chained the same way
(key outside the database), and signed checkpoints outside the database record the newest
row, so a rewrite or a deleted tail is reported by ``verify``/``report``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.rights.records import AuditRecord
from mutoscope.storage.db import writing

if TYPE_CHECKING:
    from mutoscope.rights.audit_keys import AuditKeys

log = logging.getLogger(__name__)
GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x61756474  # "audt": serialises appends to the chain across processes
_PENDING = "mutoscope.audit.pending"
_LAST = "mutoscope.audit.last"  # (transaction, tail row) this transaction appended
_TABLE: Table = AuditRecord.__table__  # type: ignore[assignment]
_TAIL = select(_TABLE.c.seq, _TABLE.c.row_hash, _TABLE.c.mac).order_by(_TABLE.c.seq.desc()).limit(1)
FIELDS = (
    "seq",
    "created_at",
    "user_id",
    "subject_id",
    "check",
    "prompt_hash",
    "decision",
    "entity_id",
    "method",
    "score",
    "evidence",
)


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


@dataclass
class AuditReport:
    """What ``audit verify`` found: the chain, the keyed MACs and the signed checkpoints."""

    rows: int = 0
    keyed_rows: int = 0
    legacy_rows: int = 0
    """Rows written before the log was keyed (their MAC is ``None``)."""
    checkpoints: int = 0
    head_seq: int | None = None
    problems: list[Broken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def row_hash(prev: str, fields: dict[str, Any]) -> str:
    body = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def _fields(row: AuditRecord) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


class AuditLog:
    def __init__(self, sessions: sessionmaker, *, keys: AuditKeys | None = None):
        self.sessions = sessions
        self.keys = keys

    def append(self, session: Session | None = None, **values: Any) -> AuditRecord:
        """Append one decision; retried when another process appended at the same moment.

        With ``session``, the row joins that transaction instead of committing its own: it
        is written if and only if the caller's transaction commits, and the signed head
        moves after that commit. On SQLite call it after the transaction's first write, so
        the chain's tail is read under the database's write lock (another process cannot
        append in between); on PostgreSQL a transaction-level advisory lock serialises
        appenders across processes until the commit."""
        if session is not None:
            row = self._add(session, values)
            self._checkpoint_after_commit(session, row)
            return row
        for _ in range(20):
            with self.sessions() as s:
                row = self._add(s, values)
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
                    continue
            self._checkpoint(row)
            return row
        raise RuntimeError("could not append to the audit log (too much contention)")

    def _add(self, s: Session, values: dict[str, Any]) -> AuditRecord:
        """Insert the row after the chain's current tail, read under the writer's lock."""
        row = AuditRecord(created_at=round(time.time(), 6), **values)
        row.score = None if row.score is None else round(float(row.score), 4)
        row.evidence = json.loads(json.dumps(row.evidence or {}, default=str))
        transaction = s.get_nested_transaction() or s.get_transaction()  # a savepoint's own
        appended = s.info.get(_LAST)
        if transaction is not None and appended is not None and appended[0] is transaction:
            # This transaction already appended (grouped creates) and still holds the locks
            # taken then, so its last row is the chain's tail: no query.
            last: Any = appended[1]
        else:
            # From here on this transaction holds the writer's lock: keep the work short.
            writing(s)  # read the chain's tail under this process's write lock (SQLite)
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
            last = s.execute(_TAIL).first()
        row.seq, row.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        row.row_hash = row_hash(row.prev_hash, _fields(row))
        if self.keys is not None:
            row.mac = self.keys.mac((last[2] if last else None) or GENESIS, row.row_hash)
        # A Core insert: the ORM's unit of work costs more than the rest of the append.
        s.execute(insert(_TABLE), {c.key: getattr(row, c.key) for c in _TABLE.columns})
        transaction = s.get_nested_transaction() or s.get_transaction()
        s.info[_LAST] = (transaction, (row.seq, row.row_hash, row.mac))
        return row

    def _checkpoint_after_commit(self, session: Session, row: AuditRecord) -> None:
        """Sign the rows this transaction appended once it commits (none on rollback)."""
        pending = session.info.get(_PENDING)
        if pending is not None:
            pending.append(row)  # a listener is already waiting for this transaction
            return
        session.info[_PENDING] = [row]

        def committed(s: Session) -> None:
            rows = s.info.pop(_PENDING, None) or []
            for done in rows[:-1]:  # a transaction with many appends (grouped creates):
                if self.keys is not None and done.seq % self.keys.every == 0:
                    self._checkpoint(done)  # the rows the checkpoint list keeps,
            if rows:
                self._checkpoint(rows[-1])  # and the head once, at the last row

        def rolled_back(s: Session) -> None:
            s.info.pop(_PENDING, None)

        event.listen(session, "after_commit", committed, once=True)
        event.listen(session, "after_rollback", rolled_back, once=True)

    def _checkpoint(self, row: AuditRecord) -> None:
        if self.keys is None or row.mac is None:
            return
        try:
            self.keys.record(self.keys.sign(row.seq, row.row_hash, row.mac, row.created_at))
        except OSError:  # the decision stands; verify will report the stale head
            log.exception("could not write the audit checkpoint for row %s", row.seq)

    def verify(self) -> Broken | None:
        """The first row whose chain, MAC or checkpoint does not check out, or ``None``."""
        problems = self.report().problems
        return problems[0] if problems else None

    def report(self) -> AuditReport:
        """Check the whole log: chain, keyed MACs, signed checkpoints and head."""
        report = AuditReport()
        wanted = self._checkpoint_seqs()
        seen: dict[int, tuple[str, str | None]] = {}
        prev, prev_mac, expected_seq = GENESIS, GENESIS, 1
        for row in self.rows():
            problem = self._check_row(row, prev, prev_mac, expected_seq, report)
            if problem is not None:
                report.problems.append(problem)
                if row.seq != expected_seq:
                    expected_seq = row.seq
            if row.seq in wanted:
                seen[row.seq] = (row.row_hash, row.mac)
            prev, prev_mac, expected_seq = row.row_hash, row.mac or GENESIS, expected_seq + 1
            report.rows += 1
        last_seq = expected_seq - 1
        if self.keys is not None:
            self._check_checkpoints(report, seen, last_seq)
        return report

    def _check_row(
        self, row: AuditRecord, prev: str, prev_mac: str, expected_seq: int, report: AuditReport
    ) -> Broken | None:
        if row.seq != expected_seq:
            return Broken(expected_seq, f"row {expected_seq} is missing (next is {row.seq})")
        if row.prev_hash != prev:
            return Broken(row.seq, f"row {row.seq} does not link to row {row.seq - 1}")
        if row_hash(prev, _fields(row)) != row.row_hash:
            return Broken(row.seq, f"row {row.seq} was modified after it was written")
        if self.keys is None:
            return None
        if row.mac is None:
            report.legacy_rows += 1
            if report.keyed_rows:
                return Broken(row.seq, f"row {row.seq} has no MAC although earlier rows do")
            return None
        report.keyed_rows += 1
        if self.keys.mac(prev_mac, row.row_hash) != row.mac:
            return Broken(
                row.seq,
                f"row {row.seq} fails its keyed MAC: the log was rewritten (its public hashes "
                "recomputed) without the audit key",
            )
        return None

    def _checkpoint_seqs(self) -> set[int]:
        if self.keys is None:
            return set()
        head = self.keys.head()
        return {c.seq for c in self.keys.checkpoints()} | ({head.seq} if head else set())

    def _check_checkpoints(
        self, report: AuditReport, seen: dict[int, tuple[str, str | None]], last_seq: int
    ) -> None:
        assert self.keys is not None
        head = self.keys.head()
        listed = self.keys.checkpoints()
        report.checkpoints = len(listed)
        report.head_seq = head.seq if head else None
        if head is None and report.keyed_rows:
            report.problems.append(
                Broken(last_seq, "the signed head checkpoint is missing (audit/audit-head.json)")
            )
        for cp in [*listed, *([head] if head else [])]:
            what = "the signed head" if cp is head else f"the checkpoint at row {cp.seq}"
            if not self.keys.valid(cp):
                report.problems.append(Broken(cp.seq, f"{what} has an invalid signature"))
            elif cp.seq > last_seq:
                report.problems.append(
                    Broken(
                        cp.seq,
                        f"the log was truncated: {what} vouches for row {cp.seq}, but the log "
                        f"ends at row {last_seq}",
                    )
                )
            elif seen.get(cp.seq) != (cp.row_hash, cp.mac):
                report.problems.append(
                    Broken(cp.seq, f"row {cp.seq} differs from {what} signed when it was written")
                )

    def rows(
        self, *, entity_ids: list[str] | None = None, batch: int = 1000
    ) -> Iterator[AuditRecord]:
        last = 0
        while True:
            with self.sessions() as s:
                q = select(AuditRecord).where(AuditRecord.seq > last)
                if entity_ids is not None:
                    q = q.where(AuditRecord.entity_id.in_(entity_ids))
                chunk = list(s.scalars(q.order_by(AuditRecord.seq).limit(batch)))
            if not chunk:
                return
            yield from chunk
            last = chunk[-1].seq

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def as_dict(row: AuditRecord) -> dict[str, Any]:
    # The MAC stays out of exports: it proves nothing without the key.
    return {**_fields(row), "prev_hash": row.prev_hash, "row_hash": row.row_hash}
