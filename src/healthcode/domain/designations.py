"""Risk designations: an authority's statement that an area (or one venue) is low, medium or
high risk over a period, with the case counts it rests on, what an official's designation
may reach (the two-person rule), and how its ends change what the rules read (docs/api.md,
"Risk designations")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from healthcode.domain import areas
from healthcode.domain.orders import START_TOLERANCE
from healthcode.errors import InputRejected


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# Why an official ends a designation early. Each but one cuts its period: a visit while it was
# in force still counts for the rules' look-back. `VOIDING` says it should never have been: from
# the moment that is recorded it counts for no one (history is not rewritten: invariant 1).
VOIDING = "issued_in_error"
END_REASONS = frozenset({"no_longer_needed", "shortened", VOIDING})


@dataclass(frozen=True)
class DesignationEnd:
    """An end recorded for a designation at ``recorded_at``: its period cut to ``ended_at``,
    or, for `VOIDING`, the designation withdrawn as made in error."""

    ended_at: datetime
    recorded_at: datetime
    reason: str

    @property
    def voids(self) -> bool:
        return self.reason == VOIDING


@dataclass(frozen=True)
class RiskDesignation:
    id: str
    area: str
    level: RiskLevel
    valid_from: datetime
    valid_to: datetime | None
    authority_id: str
    case_count: int
    basis: str
    recorded_at: datetime
    # A designation may be drawn around a single venue rather than a whole area.
    venue_id: str | None = None
    # Every end recorded for it, in the order they were recorded (each earlier than the last).
    ends: tuple[DesignationEnd, ...] = ()

    def covers(self, area: str, venue_id: str | None, at: datetime) -> bool:
        """Whether a visit to ``venue_id`` in ``area`` at ``at`` falls under this designation."""
        if self.venue_id is not None and self.venue_id != venue_id:
            return False
        if at < self.valid_from or (self.valid_to is not None and at >= self.valid_to):
            return False
        return areas.contains(self.area, area)

    def as_known_at(self, at: datetime) -> RiskDesignation | None:
        """The designation as the rules read it at ``at``, by the ends recorded by then: None
        once withdrawn as made in error, else its period cut to the earliest end (ends only
        ever bring it forward, so that is the last recorded)."""
        if any(end.voids for end in self.ends if end.recorded_at <= at):
            return None
        return self.as_in_force_by(at)

    def as_in_force_by(self, at: datetime) -> RiskDesignation:
        """The designation as it was in force up to ``at``: its period cut to the earliest end
        recorded by then, a withdrawal as made in error included (it is cut to the instant it
        was withdrawn). What it reached while it counted, for the two-person rule: withdrawing
        one as made in error un-reaches no one, as an order issued in error and ended still
        counts towards its authority's bulk threshold."""
        known = [end for end in self.ends if end.recorded_at <= at]
        if not known:
            return self
        cut = min(end.ended_at for end in known)
        if self.valid_to is not None and self.valid_to <= cut:
            return self
        return replace(self, valid_to=cut)

    def last_end(self, at: datetime) -> DesignationEnd | None:
        """The end in effect at ``at``: the last recorded by then."""
        known = [end for end in self.ends if end.recorded_at <= at]
        return known[-1] if known else None

    def phase(self, at: datetime) -> str:
        """Where it stands at ``at``, by the ends recorded by then: ``scheduled``,
        ``in_force`` or ``ended`` (withdrawn as made in error included)."""
        known = self.as_known_at(at)
        if known is None or (
            known.valid_to is not None
            and (at >= known.valid_to or known.valid_to <= known.valid_from)
        ):
            return "ended"  # one cut to before its start never comes into force
        return "scheduled" if at < known.valid_from else "in_force"


def in_effect(designations: Iterable[RiskDesignation], at: datetime) -> list[RiskDesignation]:
    """What the rules read at ``at``: the designations recorded (in force) by then, as the
    ends recorded by then leave them (`RiskDesignation.as_known_at`)."""
    found = []
    for designation in designations:
        if designation.recorded_at > at:
            continue
        known = designation.as_known_at(at)
        if known is not None:
            found.append(known)
    return found


Span = tuple[datetime, datetime]


def reach(valid_from: datetime, valid_to: datetime | None, now: datetime) -> list[Span] | None:
    """The spans whose people with a proven visit a designation made at ``now`` may reach, or
    None when that cannot be known now and a second official must judge it.

    The part of its period up to now reaches those who visited then. The part after now reaches
    people who have not visited yet; those who visited over an equally long span just before
    now stand for them. A designation with no end, or starting in the future, has no such
    measure: no later visitor is known and its cases are yet to come.
    """
    if valid_to is None or valid_from > now + START_TOLERANCE:
        return None
    spans = [(valid_from, min(valid_to, now))] if valid_from < now else []
    ahead = valid_to - max(valid_from, now)
    if ahead > timedelta(0):
        spans.append((now - ahead, now))
    return spans


def end_time(
    designation: RiskDesignation, *, pending: bool, reason: str, ends_at: datetime | None,
    now: datetime,
) -> datetime:  # fmt: skip
    """When an end recorded at ``now`` cuts ``designation``'s period, or why it cannot be
    recorded. A stated end may lie up to a client's clock before now (it then ends now), never
    further back: the period that was in force stays as it was (invariant 1). A pending one is
    withdrawn now; one made in error (`VOIDING`) counts for no one from now, even once its period
    is over (a visit during it would count for the rules' look-back until then)."""
    known = designation.as_known_at(now)
    if known is None or (pending and designation.ends):
        raise InputRejected("designation.not_in_force", "it was withdrawn already")
    if not pending and reason != VOIDING and designation.phase(now) == "ended":
        raise InputRejected("designation.not_in_force", "its period is over")
    if ends_at is not None and ends_at < now - START_TOLERANCE:
        raise InputRejected("designation.invalid_end", "ends_at lies in the past")
    if pending or reason == VOIDING:
        if ends_at is not None and ends_at > now:
            raise InputRejected(
                "designation.invalid_end", "a pending designation, or one made in error, ends now"
            )
        # Its period, as it stands, is cut to now if it has not ended yet, so that each end
        # is no later than the one before.
        return now if pending or known.valid_to is None else min(now, known.valid_to)
    end = now if ends_at is None else max(now, ends_at)
    if known.valid_to is not None and end >= known.valid_to:
        raise InputRejected("designation.invalid_end", "a designation can only be shortened")
    return end
