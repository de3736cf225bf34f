"""The status of everyone at once: ``domain.status.decide`` evaluated over columns.

``evaluate(columns, rulebook, at, ...)`` gives, for every person of ``columns``, exactly the
colour, rule and ``valid_until`` that ``decide`` gives for that person's inputs (a property
test holds the two together). It is column-oriented: a pass over the rows per rule, then a
few per-person reductions; no per-person Python.

Why a few reductions suffice. At ``at``, every evidence episode starts at or before ``at``
(only evidence with ``occurred_at <= at`` counts), and a clearing record is itself known, so
it lies at or before ``at`` too: an episode with a clearing after its start is entirely over.
For one person and one evidence rule, the episodes still open are therefore those whose
trigger lies at or after the latest clearing record, and they all cover ``at``; together they
last until the latest trigger's ``occurred_at + lasts`` (or for good). Orders may start later;
so the timeline after ``at`` is a handful of intervals per person, and ``valid_until`` is the
first interval boundary after ``at`` at which the most severe (then first listed) rule
changes — which is what ``decide`` finds by trying every boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from healthcode.domain.bulk_columns import (
    COLOUR_CODE,
    COLOURS,
    KIND_CODE,
    NO_END,
    NOT_LOADED,
    EvidenceColumns,
    area_range,
    attribute_code,
    duration_micros,
    from_micros,
    to_micros,
)
from healthcode.domain.designations import RiskDesignation, in_effect
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.orders import Order, OrderKind
from healthcode.domain.rulebook import Colour, EvidenceTrigger, Rulebook
from healthcode.domain.status import SetAside

_NEVER = np.iinfo(np.int64).min  # "no such time" in per-person maxima
_AREAS = 1_000_000  # six-digit area codes index a lookup table this long

I8 = NDArray[np.int8]
I16 = NDArray[np.int16]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class BulkStatuses:
    """Per person (aligned with ``persons``): the colour (an index into ``COLOURS``), the
    rule that fired (an index into ``rulebook.rules``, -1 for the default rule) and
    ``valid_until`` in microseconds (``NO_END`` for None)."""

    persons: tuple[str, ...]
    colour: I8
    rule: I16
    valid_until: I64
    rule_ids: tuple[str, ...]  # rule_ids[rule] is the id; rule_ids[-1] the default's
    rulebook_version: int
    at: datetime

    def __len__(self) -> int:
        return len(self.persons)

    def colour_of(self, position: int) -> Colour:
        return COLOURS[int(self.colour[position])]

    def rule_id_of(self, position: int) -> str:
        return self.rule_ids[int(self.rule[position])]

    def valid_until_of(self, position: int) -> datetime | None:
        value = int(self.valid_until[position])
        return None if value == NO_END else from_micros(value)

    def key_of(self, position: int) -> tuple[Colour, str]:
        """What ``Status.key`` is for this person: a change of it is a status change."""
        return (self.colour_of(position), self.rule_id_of(position))


@dataclass(frozen=True)
class _Intervals:
    """Open episodes after ``at``: person, rule, start, end (NO_END: for good)."""

    person: I64
    rule: I64
    start: I64
    end: I64


def evaluate(
    columns: EvidenceColumns,
    rulebook: Rulebook,
    at: datetime,
    *,
    designations: Sequence[RiskDesignation] = (),
    orders: Sequence[Order] = (),
    set_asides: Sequence[SetAside] = (),
) -> BulkStatuses:
    """What ``decide`` says at ``at`` for every person of ``columns``.

    ``designations`` apply to everyone, ``set_asides`` to everyone or to the person they name,
    ``orders`` to the person they name (orders of anyone not in ``columns.persons`` are
    ignored). Like ``decide``, only what was received or recorded by ``at`` counts. Columns
    loaded by a plan (``bulk_plan``) are checked against the rulebook, the designations and
    ``at``: a mismatch raises ValueError rather than answering from missing rows.
    """
    if at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    now = to_micros(at)
    if columns.plan is not None:
        # The plan loaded each designation's whole period: its ends only ever cut it.
        columns.plan.check(rulebook, [d for d in designations if d.recorded_at <= at], at)
    known_designations = in_effect(designations, at)
    known = (columns.received_at <= now) & (columns.occurred_at <= now)
    _set_aside(known, columns, set_asides, at)
    parts = [
        _evidence_intervals(index, columns, rulebook, known, known_designations, now)
        for index, rule in enumerate(rulebook.rules)
        if isinstance(rule.trigger, EvidenceTrigger)
    ]
    parts.append(_order_intervals(columns, rulebook, orders, at))
    intervals = _Intervals(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))
    return _timeline(columns.persons, rulebook, intervals, now, at)


_FIELDS = ("person", "rule", "start", "end")


def _set_aside(
    known: Mask, columns: EvidenceColumns, set_asides: Sequence[SetAside], at: datetime
) -> None:
    """Clear ``known`` for records set aside by ``at`` (``SetAside.covers``)."""
    sources = {source: code for code, source in enumerate(columns.sources)}
    dropped_sources = np.zeros(len(columns.sources) + 1, dtype=np.bool_)  # [-1]: no source
    for aside in set_asides:
        if aside.effective_at > at or (aside.recorded_at is not None and aside.recorded_at > at):
            continue
        person = -1  # any
        if aside.person is not None:
            people = columns.person_index
            person = people.get(aside.person, -2)  # -2: nobody here
        if aside.evidence_ref is not None:
            row = columns.refs.get(aside.evidence_ref)
            if row is None and not columns.refs_complete:
                raise ValueError(f"set-aside {aside.evidence_ref} was not resolved when loading")
            if row is not None and row != NOT_LOADED and person in (-1, columns.person[row]):
                known[row] = False
        elif aside.source_id is not None:
            code = sources.get(aside.source_id)
            if code is None and not columns.codes_complete:
                raise ValueError(f"source {aside.source_id} was not coded when loading")
            if code is not None and person == -1:
                dropped_sources[code] = True
            elif code is not None:
                known &= ~((columns.source == code) & (columns.person == person))
    if dropped_sources.any():
        known &= ~dropped_sources[columns.source]


def _matching(
    columns: EvidenceColumns, kind: EvidenceKind, match: tuple[tuple[str, object], ...]
) -> Mask:
    rows: Mask = columns.kind == KIND_CODE[kind]
    for name, value in match:
        rows &= getattr(columns, name) == attribute_code(name, value)
    return rows


def _covered(
    columns: EvidenceColumns, rows: NDArray[np.intp], designations: Sequence[RiskDesignation]
) -> NDArray[np.intp]:
    """The visits among ``rows`` that fall under one of ``designations``."""
    if not designations or not len(rows):
        return rows[:0]
    venues = {venue: code for code, venue in enumerate(columns.venues)}
    ranges = [area_range(d.area) for d in designations]
    starts = [to_micros(d.valid_from) for d in designations]
    ends = [NO_END if d.valid_to is None else to_micros(d.valid_to) for d in designations]
    # First a cheap cut: inside some designation's areas and overall period.
    areas = np.zeros(_AREAS, dtype=np.bool_)
    for low, high in ranges:
        areas[low:high] = True
    occurred, area = columns.occurred_at[rows], columns.area[rows]
    if area.min() < 100_000 or area.max() >= _AREAS:
        raise ValueError("an area code in the columns is not six digits")
    cut = areas[area] & (occurred >= min(starts)) & (occurred < max(ends))
    rows = rows[cut]
    area, venue, occurred = columns.area[rows], columns.venue[rows], columns.occurred_at[rows]
    under = np.zeros(len(rows), dtype=np.bool_)
    for designation, (low, high), start, end in zip(
        designations, ranges, starts, ends, strict=True
    ):
        here = (area >= low) & (area < high) & (occurred >= start) & (occurred < end)
        if designation.venue_id is not None:
            code = venues.get(designation.venue_id)
            if code is None and not columns.codes_complete:
                raise ValueError(f"venue {designation.venue_id} was not coded when loading")
            here &= venue == (-2 if code is None else code)
        under |= here
    return rows[under]


def _latest(persons: int, person: NDArray[np.int32], occurred: I64) -> I64:
    """Per person, the latest of these times (``_NEVER`` for none)."""
    latest = np.full(persons, _NEVER, dtype=np.int64)
    np.maximum.at(latest, person, occurred)
    return latest


def _evidence_intervals(
    index: int,
    columns: EvidenceColumns,
    rulebook: Rulebook,
    known: Mask,
    designations: Sequence[RiskDesignation],
    now: int,
) -> _Intervals:
    rule = rulebook.rules[index]
    trigger = rule.trigger
    assert isinstance(trigger, EvidenceTrigger)
    rows = _matching(columns, trigger.kind, trigger.match) & known
    lasts = None if rule.lasts is None else duration_micros(rule.lasts)
    if lasts is not None:
        rows &= columns.occurred_at > now - lasts  # the others ended by ``at``
    found = np.flatnonzero(rows)
    if trigger.designation_levels:
        levels = trigger.designation_levels
        found = _covered(columns, found, [d for d in designations if d.level in levels])
    persons = len(columns.persons)
    latest = _latest(persons, columns.person[found], columns.occurred_at[found])
    open_ = latest != _NEVER
    if rule.until is not None and open_.any():
        clearing = _matching(columns, rule.until.kind, rule.until.match) & known
        cleared = np.flatnonzero(clearing)
        cleared = cleared[open_[columns.person[cleared]]]
        # An episode ends at the first clearing record after its start: open only if none is.
        open_ &= latest >= _latest(persons, columns.person[cleared], columns.occurred_at[cleared])
    who = np.flatnonzero(open_).astype(np.int64)
    start = latest[who]
    end = np.full(len(who), NO_END, dtype=np.int64) if lasts is None else start + lasts
    return _Intervals(who, np.full(len(who), index, dtype=np.int64), start, end)


def _order_intervals(
    columns: EvidenceColumns, rulebook: Rulebook, orders: Sequence[Order], at: datetime
) -> _Intervals:
    known = [order for order in orders if order.recorded_at <= at]
    index = columns.person_index if known else {}
    kinds = {kind: code for code, kind in enumerate(OrderKind)}
    table = np.array(
        [
            (index.get(o.person, -1), kinds[o.kind], to_micros(o.valid_from),
             to_micros(o.end_as_known_at(at)))
            for o in known
        ],
        dtype=np.int64,
    ).reshape(-1, 4)  # fmt: skip
    table = table[table[:, 0] >= 0]  # orders of people not in ``columns``: not asked about
    parts = []
    for rule_index, rule in enumerate(rulebook.rules):
        if isinstance(rule.trigger, EvidenceTrigger):
            continue
        rows = table[np.isin(table[:, 1], [kinds[kind] for kind in rule.trigger.kinds])]
        parts.append(_Intervals(rows[:, 0], np.full(len(rows), rule_index), rows[:, 2], rows[:, 3]))
    if not parts:
        return _Intervals(*(np.zeros(0, dtype=np.int64) for _ in _FIELDS))
    return _Intervals(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


def _ranks(rulebook: Rulebook) -> tuple[I64, I64]:
    """Rule index -> rank (0 wins: most severe, then first listed), and rank -> rule index."""
    order = sorted(
        range(len(rulebook.rules)), key=lambda i: (-rulebook.rules[i].colour.severity, i)
    )
    rule_of_rank = np.array(order, dtype=np.int64)
    rank_of_rule = np.empty(len(order), dtype=np.int64)
    rank_of_rule[rule_of_rank] = np.arange(len(order))
    return rank_of_rule, rule_of_rank


def _timeline(
    persons: tuple[str, ...], rulebook: Rulebook, intervals: _Intervals, now: int, at: datetime
) -> BulkStatuses:
    count = len(persons)
    none = len(rulebook.rules)  # the rank of "no rule": after every rule
    rank_of_rule, rule_of_rank = _ranks(rulebook)
    # Empty intervals and those over by ``at`` change nothing from ``at`` on.
    live = (intervals.end > intervals.start) & (intervals.end > now)
    person, start, end = intervals.person[live], intervals.start[live], intervals.end[live]
    rank = rank_of_rule[intervals.rule[live]]

    best = np.full(count, none, dtype=np.int64)
    covering = start <= now  # and end > now, as all live intervals
    np.minimum.at(best, person[covering], rank[covering])

    # valid_until: the first boundary after ``at`` at which the best rank differs.
    cand_person = np.concatenate([person[start > now], person[end != NO_END]])
    cand_time = np.concatenate([start[start > now], end[end != NO_END]])
    order = np.argsort(person, kind="stable")
    person, start, end, rank = person[order], start[order], end[order], rank[order]
    first = np.searchsorted(person, cand_person, side="left")
    last = np.searchsorted(person, cand_person, side="right")
    counts = last - first
    pair_cand = np.repeat(np.arange(len(cand_person)), counts)
    offsets = np.arange(len(pair_cand)) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_interval = np.repeat(first, counts) + offsets
    when = cand_time[pair_cand]
    covers = (start[pair_interval] <= when) & (when < end[pair_interval])
    best_then = np.full(len(cand_person), none, dtype=np.int64)
    np.minimum.at(best_then, pair_cand[covers], rank[pair_interval][covers])
    changed = best_then != best[cand_person]
    valid_until = np.full(count, NO_END, dtype=np.int64)
    np.minimum.at(valid_until, cand_person[changed], cand_time[changed])

    colour_of_rank = np.array(
        [COLOUR_CODE[rulebook.rules[i].colour] for i in rule_of_rank] + [COLOUR_CODE[Colour.GREEN]],
        dtype=np.int8,
    )
    rule_of = np.append(rule_of_rank, -1).astype(np.int16)
    return BulkStatuses(
        persons=persons,
        colour=colour_of_rank[best],
        rule=rule_of[best],
        valid_until=valid_until,
        rule_ids=(*(rule.id for rule in rulebook.rules), rulebook.default_rule_id),
        rulebook_version=rulebook.version,
        at=at,
    )
