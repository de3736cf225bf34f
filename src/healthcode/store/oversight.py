"""Rows of oversight: the detectors' findings, every case (an escalated appeal's or a
finding's) and the steps of each case's lifecycle (services/oversight.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from healthcode.store import tables as t
from healthcode.store.appeals import StoredCase, case_from_row

_CHUNK = 500  # keeps IN lists well under both backends' parameter limits


@dataclass(frozen=True)
class StoredFinding:
    id: str
    detector: str
    subject: str  # "<kind>:<id>", e.g. official:<badge>, venue:<id>
    fingerprint: str
    score: float
    summary_zh: str
    summary_en: str
    window_from: datetime
    window_to: datetime
    records: tuple[str, ...]  # "<kind>:<id>", sorted
    found_at: datetime

    @property
    def subject_kind(self) -> str:
        return self.subject.partition(":")[0]


@dataclass(frozen=True)
class StoredStep:
    case_id: str
    seq: int  # 1, 2, ... in the order the steps were taken
    status: str  # the status the case moved to
    by_id: str  # the auditor's badge
    at: datetime
    note: str
    log_index: int


def _finding(row: Any) -> StoredFinding:
    return StoredFinding(
        row.id, row.detector, row.subject, row.fingerprint, float(row.score), row.summary_zh,
        row.summary_en, row.window_from, row.window_to, tuple(json.loads(row.records)),
        row.found_at,
    )  # fmt: skip


def _step(row: Any) -> StoredStep:
    return StoredStep(
        row.case_id, row.seq, row.status, row.by_id, row.at, row.note, int(row.log_index)
    )


# --- findings ---------------------------------------------------------------------------------


def known_fingerprints(conn: Connection, fingerprints: Iterable[str]) -> set[str]:
    """Which of these fingerprints are stored already (a finding seen by an earlier run)."""
    wanted = sorted(set(fingerprints))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            conn.scalars(
                select(t.oversight_findings.c.fingerprint).where(
                    t.oversight_findings.c.fingerprint.in_(chunk)
                )
            )
        )
    return found


def insert_finding(conn: Connection, row: dict[str, Any]) -> bool:
    """Store a finding unless one with its fingerprint is stored; True if it was new.

    Check-then-insert is safe: the caller holds the store's single write lock."""
    if known_fingerprints(conn, [row["fingerprint"]]):
        return False
    values = dict(row, records=json.dumps(sorted(row["records"])))
    conn.execute(t.oversight_findings.insert().values(**values))
    return True


def finding(conn: Connection, finding_id: str) -> StoredFinding | None:
    row = conn.execute(
        select(t.oversight_findings).where(t.oversight_findings.c.id == finding_id)
    ).first()
    return None if row is None else _finding(row)


def findings(
    conn: Connection, *, detector: str | None = None, limit: int | None = None
) -> list[StoredFinding]:
    """The newest first."""
    f = t.oversight_findings
    query = select(f).order_by(f.c.found_at.desc(), f.c.id)
    if detector is not None:
        query = query.where(f.c.detector == detector)
    if limit is not None:
        query = query.limit(limit)
    return [_finding(row) for row in conn.execute(query)]


def findings_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, StoredFinding]:
    wanted = sorted(set(ids))
    found: dict[str, StoredFinding] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(t.oversight_findings).where(
            t.oversight_findings.c.id.in_(wanted[start : start + _CHUNK])
        )
        found.update((row.id, _finding(row)) for row in conn.execute(query))
    return found


# --- cases --------------------------------------------------------------------------------


def case(conn: Connection, case_id: str) -> StoredCase | None:
    row = conn.execute(select(t.oversight_cases).where(t.oversight_cases.c.id == case_id)).first()
    return None if row is None else case_from_row(row)


def cases(conn: Connection, *, status: str | None = None) -> list[StoredCase]:
    """Every case, escalated appeals' and findings', the oldest first."""
    c = t.oversight_cases
    query = select(c).order_by(c.c.opened_at, c.c.id)
    if status is not None:
        query = query.where(c.c.status == status)
    return [case_from_row(row) for row in conn.execute(query)]


def cases_of_findings(conn: Connection, finding_ids: Sequence[str]) -> dict[str, StoredCase]:
    c = t.oversight_cases
    wanted = sorted(set(finding_ids))
    found: dict[str, StoredCase] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(c).where(c.c.finding_id.in_(wanted[start : start + _CHUNK]))
        for row in conn.execute(query):
            found[row.finding_id] = case_from_row(row)
    return found


def update_case(conn: Connection, case_id: str, **values: Any) -> None:
    c = t.oversight_cases
    conn.execute(c.update().where(c.c.id == case_id).values(**values))


# --- steps --------------------------------------------------------------------------------


def next_seq(conn: Connection, case_id: str) -> int:
    s = t.oversight_case_steps
    last = conn.scalar(select(func.max(s.c.seq)).where(s.c.case_id == case_id))
    return int(last or 0) + 1


def insert_step(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.oversight_case_steps.insert().values(**row))


def steps(conn: Connection, case_id: str) -> list[StoredStep]:
    s = t.oversight_case_steps
    query = select(s).where(s.c.case_id == case_id).order_by(s.c.seq)
    return [_step(row) for row in conn.execute(query)]


def steps_by_case(
    conn: Connection, case_ids: Sequence[str] | None = None
) -> dict[str, list[StoredStep]]:
    """Each case's steps in order; every case's when ``case_ids`` is None (the self-check)."""
    s = t.oversight_case_steps
    grouped: dict[str, list[StoredStep]] = defaultdict(list)
    if case_ids is None:
        chunks: list[list[str] | None] = [None]
    else:
        wanted = sorted(set(case_ids))
        chunks = [wanted[i : i + _CHUNK] for i in range(0, len(wanted), _CHUNK)]
    for chunk in chunks:
        query = select(s).order_by(s.c.case_id, s.c.seq)
        if chunk is not None:
            query = query.where(s.c.case_id.in_(chunk))
        for row in conn.execute(query):
            grouped[row.case_id].append(_step(row))
    return dict(grouped)
