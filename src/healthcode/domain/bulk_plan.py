"""Which evidence records a rulebook can read, given the designations: a load plan.

A bulk recompute needs only the records some rule can use: kinds a trigger or a clearing
names, with the attributes it matches; and for a kind used only by designation triggers
(proven venue visits), only records inside some designation's area, venue and period. For a
city with a visit a day per person that is a small share of the table.

A plan made for evaluations at ``since`` or later also leaves out records too old to matter
then: under a rule that ``lasts``, a trigger (or a clearing) that occurred ``lasts`` before
``since`` can no longer open (or close) an episode. Evaluating the loaded rows at any such
instant gives exactly what evaluating all rows would; the evaluation checks the plan against
the rulebook, the designations and the instant it is given, and refuses a mismatch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from healthcode.domain.areas import prefix as area_prefix
from healthcode.domain.bulk_columns import (
    KIND_CODE,
    NO_END,
    EvidenceColumns,
    area_range,
    attribute_code,
    duration_micros,
    to_micros,
)
from healthcode.domain.designations import RiskDesignation, RiskLevel
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.rulebook import EvidenceTrigger, Rulebook

Match = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Window:
    """Where and when one designation draws visits in: area codes ``[low, high)`` (those
    starting with ``prefix``), maybe one venue, occurred in ``[start, end)`` (microseconds)."""

    designation_id: str
    prefix: str
    low: int
    high: int
    venue_id: str | None
    start: int
    end: int  # NO_END: open-ended

    @classmethod
    def of(cls, designation: RiskDesignation) -> Window:
        low, high = area_range(designation.area)
        end = NO_END if designation.valid_to is None else to_micros(designation.valid_to)
        return cls(
            designation_id=designation.id,
            prefix=area_prefix(designation.area),
            low=low,
            high=high,
            venue_id=designation.venue_id,
            start=to_micros(designation.valid_from),
            end=end,
        )


@dataclass(frozen=True)
class Term:
    """Records matching ``match`` (``()``: every record of the kind) that occurred after
    ``after`` (microseconds; None: at any time)."""

    match: Match
    after: int | None

    def covers(self, match: Match, after: int | None) -> bool:
        """Every record ``(match, after)`` asks for is one of this term's."""
        in_time = self.after is None or (after is not None and self.after <= after)
        return set(self.match) <= set(match) and in_time


@dataclass(frozen=True)
class KindNeed:
    """Records of ``kind`` in one of ``terms``, and, unless ``windows`` is None, inside one of
    the windows."""

    kind: EvidenceKind
    terms: tuple[Term, ...]
    windows: tuple[Window, ...] | None


@dataclass(frozen=True)
class _Use:
    kind: EvidenceKind
    match: Match
    levels: frozenset[RiskLevel] | None  # None: no designation needed
    lasts: int | None  # the rule's ``lasts`` in microseconds

    def after(self, since: int | None) -> int | None:
        """Evaluated at ``since`` or later, a record of this use that occurred at or before
        ``since - lasts`` changes nothing: as a trigger its episode is over by then, and as a
        clearing it comes before any trigger still open."""
        return None if since is None or self.lasts is None else since - self.lasts


def _uses(rulebook: Rulebook) -> list[_Use]:
    uses: list[_Use] = []
    for rule in rulebook.rules:
        lasts = None if rule.lasts is None else duration_micros(rule.lasts)
        trigger = rule.trigger
        if isinstance(trigger, EvidenceTrigger):
            levels = frozenset(trigger.designation_levels) or None
            uses.append(_Use(trigger.kind, trigger.match, levels, lasts))
        if rule.until is not None:
            uses.append(_Use(rule.until.kind, rule.until.match, None, lasts))
    return uses


@dataclass(frozen=True)
class LoadPlan:
    needs: tuple[KindNeed, ...]
    venues: tuple[str, ...]  # the venues designations are drawn around: the ones to code
    since: int | None = None  # for evaluations at this instant (microseconds) or later

    def check(
        self, rulebook: Rulebook, designations: Iterable[RiskDesignation], at: datetime
    ) -> None:
        """Raise ValueError unless the rows loaded by this plan are all ``rulebook`` can read
        at ``at`` under ``designations`` (those known at ``at``)."""
        if self.since is not None and to_micros(at) < self.since:
            raise ValueError("the rows were loaded for evaluations at a later instant")
        by_kind = {need.kind: need for need in self.needs}
        windows = {
            window.designation_id: window for need in self.needs for window in need.windows or ()
        }
        for use in _uses(rulebook):
            need = by_kind.get(use.kind)
            after = use.after(self.since)
            if need is None or not any(term.covers(use.match, after) for term in need.terms):
                raise ValueError(f"the rows were loaded without {use.kind} {dict(use.match)}")
            if need.windows is None:
                continue
            if use.levels is None:
                raise ValueError(f"the rows of {use.kind} were loaded for designations only")
            for designation in designations:
                if designation.level in use.levels and windows.get(designation.id) != Window.of(
                    designation
                ):
                    raise ValueError(f"the rows were loaded without designation {designation.id}")

    def keep(self, columns: EvidenceColumns) -> NDArray[np.bool_]:
        """The rows of ``columns`` this plan loads (what ``store.columns`` selects in SQL)."""
        keep = np.zeros(len(columns), dtype=np.bool_)
        venue_code = {venue: code for code, venue in enumerate(columns.venues)}
        for need in self.needs:
            rows = columns.kind == KIND_CODE[need.kind]
            matched = np.zeros(len(columns), dtype=np.bool_)
            for term in need.terms:
                one = rows.copy()
                for name, value in term.match:
                    one &= getattr(columns, name) == attribute_code(name, value)
                if term.after is not None:
                    one &= columns.occurred_at > term.after
                matched |= one
            rows &= matched
            if need.windows is not None:
                inside = np.zeros(len(columns), dtype=np.bool_)
                for window in need.windows:
                    here = (columns.area >= window.low) & (columns.area < window.high)
                    here &= columns.occurred_at >= window.start
                    here &= columns.occurred_at < window.end
                    if window.venue_id is not None:
                        here &= columns.venue == venue_code.get(window.venue_id, -2)
                    inside |= here
                rows &= inside
            keep |= rows
        return keep


def plan_load(
    rulebook: Rulebook, designations: Sequence[RiskDesignation], since: datetime | None = None
) -> LoadPlan:
    """What to load to evaluate ``rulebook`` under ``designations`` (any recorded time), at
    ``since`` or later (by default at any time)."""
    bound = None if since is None else to_micros(since)
    uses = _uses(rulebook)
    needs: list[KindNeed] = []
    for kind in dict.fromkeys(use.kind for use in uses):
        here = [use for use in uses if use.kind == kind]
        terms: dict[Match, int | None] = {}
        for use in here:  # one term per match, from the earliest time any use needs
            after = use.after(bound)
            known = terms.get(use.match, after)
            terms[use.match] = None if known is None or after is None else min(known, after)
        windows: tuple[Window, ...] | None = None
        if all(use.levels is not None for use in here):
            levels = frozenset().union(*(use.levels or () for use in here))
            windows = tuple(Window.of(d) for d in designations if d.level in levels)
        needs.append(KindNeed(kind, tuple(Term(m, a) for m, a in terms.items()), windows))
    # Every venue a rule's designations are drawn around is coded, whether or not its windows
    # cut the load: a kind one use reads at any level (no windows) has another use that reads
    # only under designations, and evaluating that one needs their venues' codes.
    read = frozenset().union(*(use.levels for use in uses if use.levels is not None))
    venues = tuple(sorted({d.venue_id for d in designations if d.venue_id and d.level in read}))
    return LoadPlan(tuple(needs), venues, bound)
