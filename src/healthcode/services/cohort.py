"""The cohort test for oversight (A1, A8): an auditor lists person keys -- a bank's depositors,
say -- and learns whether those people were red or yellow more often than people like them.

*Flagged* means red or yellow at some moment of the window ``(now - window, now]``, read from
the recorded status history: a status change inside the window to or from red or yellow, or a
current status that is red or yellow and has not run out before the window began. (The red
test counts red alone.) A colour that came and went inside the window counts, which is what
the 2022 depositors' codes did.

*Like them* means the same stratum: the same home area, and the same **exposure class** --
the strongest evidence-based reason the person had to be flagged, from evidence that occurred
in the window or in the ``EXPOSURE_LEAD`` before it (the longest a rule of edition 1 lasts
after its evidence, 14 days, so a colour carried into the window is explained by the evidence
that started it), and was received by ``now``. In decreasing strength:

``positive_test``      a positive PCR or antigen test (red until recovery)
``close_contact``      traced as a close contact (yellow; red only through an order)
``inbound_traveller``  a border entry with quarantine required (yellow; red only by order)
``designated_visit``   a *proven* visit to an area or venue while it was designated medium or
                       high risk by an active designation (yellow or red directly)
``none``               none of these

These are exactly the evidence routes by which the rulebook may flag someone (orders need the
same evidence), so inside a stratum the evidence gives everyone the same reason to be flagged;
what is left to differ is the list. An unverified visit is no exposure: it cannot flag anyone.
A cohort flagged with exposure class ``none`` while its controls are green is the A1 pattern.

Everything is counted by the database -- one GROUP BY over the whole population per home area,
exposure class and flag level, and the same for the cohort in chunks of keys -- never one
query per person, so a cohort of 100,000 in a city of millions is a few dozen statements read
in one snapshot. The controls are the population less the cohort. The answer holds counts,
rates, p-values and the number of strata: nobody's colour or evidence, and person keys that
are not registered are only counted. The exact test is ``domain.oversight.cohort``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)

from healthcode.domain.appeals import suppress
from healthcode.domain.oversight.cohort import CohortComparison, CohortTooSmall, Stratum, compare
from healthcode.errors import Detail, InputRejected
from healthcode.services.log_reader import CheckpointRef, LogReader
from healthcode.store import designations as designations_repo
from healthcode.store import tables as t
from healthcode.store.database import Database

COHORT_MAX = 100_000
DEFAULT_WINDOW = timedelta(days=30)
WINDOW_MAX = timedelta(days=366)
EXPOSURE_LEAD = timedelta(days=14)
# Index = rank: a person's class is the strongest one their evidence gives.
EXPOSURES = ("none", "designated_visit", "inbound_traveller", "close_contact", "positive_test")
MIN_CELL = 10  # cohort counts per exposure class below this are shown as "<10"
# Keys per statement: each appears in four IN lists, well under SQLite's 32,766 parameters
# and PostgreSQL's 65,535.
CHUNK = 2_000
_FLAGGING = ("red", "yellow")
# Flag levels, the worst colour held in the window; they also index lists of counts.
NOT_FLAGGED, YELLOW, RED = 0, 1, 2
# As SQL literals, not parameters: a parameter's type in a UNION's select list is a guess.
_LEVEL: dict[int, ColumnElement[int]] = {
    level: literal_column(str(level), Integer) for level in (YELLOW, RED)
}


@dataclass(frozen=True)
class ExposureCounts:
    exposure: str
    cohort: int | str  # matched cohort members of this class (suppressed below MIN_CELL)
    flagged: int | str
    red: int | str


@dataclass(frozen=True)
class CohortReport:
    window_from: datetime
    window_to: datetime
    submitted: int  # keys in the request
    distinct: int
    unknown: int  # keys of no registered person
    red_or_yellow: CohortComparison
    red: CohortComparison
    by_exposure: list[ExposureCounts]
    checkpoint: CheckpointRef | None


# (home area, exposure class, flag level) -> people
Cells = Counter[tuple[str, str, int]]


class CohortTests:
    def __init__(self, db: Database, log: LogReader) -> None:
        self._db = db
        self._log = log

    def run(
        self, persons: Sequence[str], *, now: datetime, window: timedelta = DEFAULT_WINDOW
    ) -> CohortReport:
        if len(persons) > COHORT_MAX:
            raise InputRejected(
                "cohort.too_large", Detail("at most %(most)d persons", most=COHORT_MAX)
            )
        if not timedelta(0) < window <= WINDOW_MAX:
            raise InputRejected(
                "request.malformed", Detail("window: 1 to %(days)d days", days=WINDOW_MAX.days)
            )
        keys = list(dict.fromkeys(persons))
        since = now - window
        with self._db.read() as conn:
            if not self._db.is_sqlite:
                # One snapshot for every statement; SQLite's read transaction already is one.
                conn.execution_options(isolation_level="REPEATABLE READ")
            checkpoint = self._log.checkpoint_at(conn)
            cohort, population = count_cells(conn, keys, since=since, now=now)
        try:
            red_or_yellow = compare(strata(cohort, population, YELLOW))
            red = compare(strata(cohort, population, RED))
        except CohortTooSmall as small:
            raise InputRejected(
                "cohort.too_small",
                Detail(
                    "%(matched)d of the persons have controls; at least %(minimum)d needed",
                    matched=small.matched,
                    minimum=small.minimum,
                ),
            ) from None
        return CohortReport(
            window_from=since, window_to=now, submitted=len(persons), distinct=len(keys),
            unknown=len(keys) - sum(cohort.values()), red_or_yellow=red_or_yellow, red=red,
            by_exposure=_by_exposure(cohort, population), checkpoint=checkpoint,
        )  # fmt: skip


def count_cells(
    conn: Connection, keys: Sequence[str], *, since: datetime, now: datetime
) -> tuple[Cells, Cells]:
    """People per cell: of the (distinct) ``keys``, and of everyone living where they do."""
    cohort: Cells = Counter()
    chunked = _query(since, now, chunked=True)
    for start in range(0, len(keys), CHUNK):
        cohort.update(_counts(conn, chunked, {"keys": list(keys[start : start + CHUNK])}))
    areas = sorted({area for area, _, _ in cohort})
    population = _counts(conn, _query(since, now, areas=areas), {}) if areas else Counter()
    return cohort, population


def _counts(conn: Connection, query: Select[Any], params: dict[str, Any]) -> Cells:
    found: Cells = Counter()
    for area, rank, level, people in conn.execute(query, params):
        found[(area, EXPOSURES[rank or 0], level or NOT_FLAGGED)] += int(people)
    return found


def strata(cohort: Cells, population: Cells, worst: int) -> list[Stratum]:
    """A stratum per (area, exposure) of the cohort; flagged means a level of ``worst`` or up
    (``YELLOW``: red or yellow; ``RED``: red). Controls are the population less the cohort."""
    found = []
    for area, exposure in sorted({(a, x) for a, x, _ in cohort}):
        mine = [cohort[(area, exposure, level)] for level in (NOT_FLAGGED, YELLOW, RED)]
        everyone = [population[(area, exposure, level)] for level in (NOT_FLAGGED, YELLOW, RED)]
        flagged, all_flagged = sum(mine[worst:]), sum(everyone[worst:])
        found.append(Stratum(
            key=f"{area}/{exposure}", cohort=sum(mine), cohort_flagged=flagged,
            controls=sum(everyone) - sum(mine), controls_flagged=all_flagged - flagged,
        ))  # fmt: skip
    return found


def _by_exposure(cohort: Cells, population: Cells) -> list[ExposureCounts]:
    """The matched cohort members per exposure class, flagged and red (small counts hidden)."""
    matched = {s.key for s in strata(cohort, population, YELLOW) if s.matched}
    rows = []
    for name in EXPOSURES:
        cells = [(n, lv) for (a, x, lv), n in cohort.items() if x == name and f"{a}/{x}" in matched]
        rows.append(ExposureCounts(
            exposure=name,
            cohort=suppress(sum(n for n, _ in cells), MIN_CELL),
            flagged=suppress(sum(n for n, level in cells if level >= YELLOW), MIN_CELL),
            red=suppress(sum(n for n, level in cells if level >= RED), MIN_CELL),
        ))  # fmt: skip
    return rows


# --- the statements -------------------------------------------------------------------------


def _query(
    since: datetime, now: datetime, *, chunked: bool = False, areas: Sequence[str] = ()
) -> Select[Any]:
    """People per (home area, exposure rank, flag level): of the chunk of ``keys`` (bound at
    execution), or of everyone living in ``areas``. No exposure or flag comes out as NULL."""
    keys: BindParameter[list[str]] = bindparam("keys", expanding=True)
    exposure = _exposures(since - EXPOSURE_LEAD, now, keys if chunked else None)
    flags = _flags(since, now, keys if chunked else None)
    p = t.persons.c
    where = [p.registered_at <= now]
    where.append(p.person_key.in_(keys) if chunked else p.home_area.in_(areas))
    joined = t.persons.outerjoin(exposure, exposure.c.person_key == p.person_key).outerjoin(
        flags, flags.c.person_key == p.person_key
    )
    return (
        select(p.home_area, exposure.c.rank, flags.c.level, func.count())
        .select_from(joined)
        .where(*where)
        .group_by(p.home_area, exposure.c.rank, flags.c.level)
    )


def _exposures(since: datetime, now: datetime, keys: Any) -> Any:
    """Each person's strongest exposure rank from evidence in ``(since, now]`` received by now."""
    e, d = t.evidence.c, t.designations.c
    timely = [e.occurred_at > since, e.occurred_at <= now, e.received_at <= now]
    if keys is not None:
        timely.append(e.person_key.in_(keys))

    def rank(name: str) -> Any:
        return literal_column(str(EXPOSURES.index(name))).label("rank")

    # A designation covers the codes from its own up to the next code at its level: a province
    # xx0000 the next 10000, a city xxyy00 the next 100, a district itself (domain.areas).
    step = case((d.area_code.like("__0000"), 10_000), (d.area_code.like("____00"), 100), else_=1)
    covered = and_(
        d.activated_at.is_not(None), d.activated_at <= now, d.level.in_(("medium", "high")),
        e.area_code >= d.area_code, e.area_code < cast(cast(d.area_code, Integer) + step, String),
        e.occurred_at >= d.valid_from, or_(d.valid_to.is_(None), e.occurred_at < d.valid_to),
        or_(d.venue_id.is_(None), d.venue_id == e.venue_id),
        designations_repo.counts_at(e.occurred_at, now),  # as its ends known now leave it
    )  # fmt: skip
    parts = union_all(
        select(e.person_key, rank("positive_test"))
        .where(e.kind == "test_result", e.result == "positive", *timely),
        select(e.person_key, rank("close_contact")).where(e.kind == "close_contact", *timely),
        select(e.person_key, rank("inbound_traveller"))
        .where(e.kind == "border_entry", e.quarantine_required.is_(true()), *timely),
        select(e.person_key, rank("designated_visit"))
        .select_from(t.evidence.join(t.designations, covered))
        .where(e.kind == "venue_visit", e.presence == "proven", *timely),
    ).subquery()  # fmt: skip
    return (
        select(parts.c.person_key, func.max(parts.c.rank).label("rank"))
        .group_by(parts.c.person_key)
        .subquery()
    )


def _flags(since: datetime, now: datetime, keys: Any) -> Any:
    """Each person's worst colour held in ``(since, now]``: 2 red, 1 yellow (absent: neither)."""
    c, s = t.status_changes.c, t.person_status.c
    changes = [
        c.effective_at > since, c.effective_at <= now, c.recorded_at <= now,
        or_(c.colour.in_(_FLAGGING), c.previous_colour.in_(_FLAGGING)),
    ]  # fmt: skip
    current = [
        s.colour.in_(_FLAGGING),
        s.since <= now,
        or_(s.valid_until.is_(None), s.valid_until > since),
    ]
    if keys is not None:
        changes.append(c.person_key.in_(keys))
        current.append(s.person_key.in_(keys))
    red_change = or_(c.colour == "red", c.previous_colour == "red")
    parts = union_all(
        select(
            c.person_key, case((red_change, _LEVEL[RED]), else_=_LEVEL[YELLOW]).label("level")
        ).where(*changes),
        select(s.person_key, case((s.colour == "red", _LEVEL[RED]), else_=_LEVEL[YELLOW])).where(
            *current
        ),
    ).subquery()
    return (
        select(parts.c.person_key, func.max(parts.c.level).label("level"))
        .group_by(parts.c.person_key)
        .subquery()
    )
