"""Risk designations: an authority's statement that an area (or one venue) is low, medium or
high risk over a period, with the case counts it rests on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from healthcode.domain import areas


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
