"""Risk designations: an authority's statement that an area (or one venue) is low, medium or
high risk over a period, with the case counts it rests on, and what an official's designation
may reach (the two-person rule, docs/api.md, "Risk designations")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from healthcode.domain import areas
from healthcode.domain.orders import START_TOLERANCE


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


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

    def covers(self, area: str, venue_id: str | None, at: datetime) -> bool:
        """Whether a visit to ``venue_id`` in ``area`` at ``at`` falls under this designation."""
        if self.venue_id is not None and self.venue_id != venue_id:
            return False
        if at < self.valid_from or (self.valid_to is not None and at >= self.valid_to):
            return False
        return areas.contains(self.area, area)

    def phase(self, at: datetime) -> str:
        """Where it stands at ``at``: ``scheduled``, ``in_force`` or ``ended``."""
        if at < self.valid_from:
            return "scheduled"
        return "in_force" if self.valid_to is None or at < self.valid_to else "ended"


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
