"""What the authorities did and what oversight found, counted for the public statistics page:
orders per authority and legal basis (and per day), risk designations per authority and level
(and how many were in force each day), appeals and how they ended per authority, oversight's
findings per detector and its cases per status.

Counts that concern people (orders, appeals, findings, cases) are protected like every other
public count (`domain/disclosure.py`). Designations are not: each one is published in full on
`/public/designations` (area, level, period, authority), so hiding that an authority made "<10"
of them would protect no one and only make the page say less than the page next to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from healthcode.domain.appeals import AppealStatus
from healthcode.domain.designations import RiskLevel
from healthcode.domain.disclosure import (
    Count,
    Table,
    crosstab,
    protect,
    small_hidden,
    table_of,
    table_values,
)
from healthcode.services.public_days import Window
from healthcode.store import designations as designations_repo
from healthcode.store import tables as t

OUTCOMES = tuple(status.value for status in AppealStatus)  # open, upheld, ..., lapsed
LEVELS = (RiskLevel.HIGH.value, RiskLevel.MEDIUM.value, RiskLevel.LOW.value)
CASE_STATUSES = ("open", "investigating", "referred", "closed")
CASE_ORIGINS = ("appeal", "finding")
FOUND = "found"  # the one column of the findings table


@dataclass(frozen=True)
class Acts:
    """Each table is None when nothing of its kind was recorded (the page says "none yet")."""

    orders: Table | None  # authority x legal basis, recorded in the window
    order_days: tuple[Count, ...]  # orders recorded each day
    designations: Table | None  # authority x level, put in force in the window; never hidden
    designation_days: dict[str, tuple[int, ...]]  # level -> in force at the end of each day
    appeals: Table | None  # authority x outcome, every appeal so far
    findings: Table | None  # detector x "found", every finding so far
    cases: Table | None  # status x origin (an escalated appeal or a finding)


def count(conn: Connection, window: Window, min_cell: int) -> Acts:
    orders, order_days = _orders(conn, window, min_cell)
    return Acts(
        orders=orders,
        order_days=order_days,
        designations=_designations(conn, window),
        designation_days=_designations_in_force(conn, window),
        appeals=appeals(conn, min_cell),
        findings=_findings(conn, min_cell),
        cases=_cases(conn, min_cell),
    )


def appeals(conn: Connection, min_cell: int) -> Table | None:
    """Every appeal so far per authority and how it stands (open) or ended."""
    return _grouped(conn, t.appeals.c.authority_id, t.appeals.c.status, OUTCOMES, min_cell)


def _orders(
    conn: Connection, window: Window, min_cell: int
) -> tuple[Table | None, tuple[Count, ...]]:
    """Orders per authority and basis, and per day: the days sum to the table's total, so
    both are protected together (one day hidden alone would be the total less the others)."""
    orders = t.orders
    day = window.day_of(orders.c.recorded_at)
    rows = conn.execute(
        select(orders.c.authority_id, orders.c.legal_basis, day, func.count())
        .where(orders.c.recorded_at >= window.start)
        .group_by(orders.c.authority_id, orders.c.legal_basis, day)
    ).all()
    days = len(window.days)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    per_day = [0] * days
    for authority, basis, n, found in rows:
        if int(n) < days:  # recorded after the end of today: a clock ahead; not counted
            counts[(authority, basis)] += found
            per_day[int(n)] += found
    if not counts:
        return None, tuple(small_hidden(0, min_cell) for _ in range(days))
    authorities = sorted({a for a, _ in counts})
    bases = sorted({b for _, b in counts})
    values, sums = table_values(counts, authorities, bases)
    day_keys = [("day", str(n)) for n in range(days)]
    values.update({key: per_day[n] for n, key in enumerate(day_keys)})
    protected = protect(values, [*sums, (("all",), day_keys)], min_cell)
    return table_of(protected, authorities, bases), tuple(protected[key] for key in day_keys)


def _designations(conn: Connection, window: Window) -> Table | None:
    """Designations put in force in the window per authority and level: those the
    designations page shows, so the counts are never hidden. Not a pending one, which is not
    public (another authority asking is told it does not exist), nor one withdrawn while
    pending: it never will be."""
    d = t.designations
    rows = conn.execute(
        select(d.c.authority_id, d.c.level, func.count())
        .where(d.c.activated_at >= window.start, d.c.activated_at <= window.now)
        .group_by(d.c.authority_id, d.c.level)
    ).all()
    counts = {(authority, level): n for authority, level, n in rows}
    if not counts:
        return None
    return crosstab(counts, sorted({a for a, _ in counts}), LEVELS, min_cell=0)


def _designations_in_force(conn: Connection, window: Window) -> dict[str, tuple[int, ...]]:
    """Per level, the designations in force as each day ended (today: now): co-signed and
    begun before that instant and not ended by it (nor by an end recorded by then). One sum per day in a single query grouped
    by level; the designations themselves stay in the database."""
    d = t.designations

    def in_force(end: datetime) -> ColumnElement[int]:
        held = and_(
            d.c.activated_at < end,
            d.c.valid_from < end,
            or_(d.c.valid_to.is_(None), d.c.valid_to >= end),
            # Not cut short or withdrawn as made in error by then, as known then.
            designations_repo.counts_at(end, end),
        )
        return func.sum(case((held, 1), else_=0))

    rows = conn.execute(
        select(d.c.level, *(in_force(end) for end in window.ends))
        .where(d.c.activated_at.is_not(None), d.c.activated_at < window.now)
        .group_by(d.c.level)
    ).all()
    found = {level: (0,) * len(window.days) for level in LEVELS}
    for level, *per_day in rows:
        found[level] = tuple(int(n or 0) for n in per_day)
    return found


def _grouped(
    conn: Connection, row: ColumnElement[str], col: ColumnElement[str], cols: Sequence[str],
    min_cell: int,
) -> Table | None:  # fmt: skip
    """A protected cross-table of every row of a table, grouped by two of its columns."""
    counts = {
        (r, c): n for r, c, n in conn.execute(select(row, col, func.count()).group_by(row, col))
    }
    if not counts:
        return None
    extra = sorted({c for _, c in counts} - set(cols))  # a value the page does not know yet
    return crosstab(counts, sorted({r for r, _ in counts}), (*cols, *extra), min_cell)


def _findings(conn: Connection, min_cell: int) -> Table | None:
    f = t.oversight_findings
    counts = {
        (detector, FOUND): n
        for detector, n in conn.execute(select(f.c.detector, func.count()).group_by(f.c.detector))
    }
    if not counts:
        return None
    return crosstab(counts, sorted(r for r, _ in counts), (FOUND,), min_cell)


def _cases(conn: Connection, min_cell: int) -> Table | None:
    c = t.oversight_cases
    # Grouped by a condition without parameters (a CASE of two string parameters would not
    # match itself between SELECT and GROUP BY on PostgreSQL).
    from_appeal = c.c.finding_id.is_(None)
    rows = conn.execute(
        select(c.c.status, from_appeal, func.count()).group_by(c.c.status, from_appeal)
    )
    counts = {(status, "appeal" if appeal else "finding"): n for status, appeal, n in rows}
    if not counts:
        return None
    statuses = (*CASE_STATUSES, *sorted({s for s, _ in counts} - set(CASE_STATUSES)))
    return crosstab(counts, statuses, CASE_ORIGINS, min_cell)
