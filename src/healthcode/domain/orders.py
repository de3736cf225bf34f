"""Orders as the rulebook reads them: a kind, a person, and the period it is in force.

Orders are issued by accountable officials elsewhere; a rule may refer to their kinds, and an
order only counts while it is effective (co-signed where needed, not lifted, not expired).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# How far before now an act's stated start may lie: a client's clock, a form's whole minute.
# Anything earlier would claim a period already past (invariant 1: history is not rewritten).
START_TOLERANCE = timedelta(minutes=5)

# Why a supervisor refuses a pending bulk request (`services/order_refusals.py`): each of its
# orders still pending ends with the reason as its end reason, so these never meet the reasons
# an official or an appeal ends one order for (a refused order is told from its reason alone).
REFUSAL_REASONS = frozenset(
    {"evidence_insufficient", "not_proportionate", "legal_basis_wrong", "request_in_error"}
)


class OrderKind(StrEnum):
    CLOSE_CONTACT_QUARANTINE = "close_contact_quarantine"
    INBOUND_QUARANTINE = "inbound_quarantine"
    HOME_HEALTH_MONITORING = "home_health_monitoring"
    CASE_ISOLATION = "case_isolation"


@dataclass(frozen=True)
class Order:
    id: str
    kind: OrderKind
    person: str
    valid_from: datetime
    valid_until: datetime
    recorded_at: datetime
    # When it stopped counting early (lifted, lapsed, shortened), as known by ``ended_recorded_at``.
    ended_at: datetime | None = None
    ended_recorded_at: datetime | None = None
    # The ends it had before that one, each (ended at, recorded at): an end recorded ahead of
    # time may be replaced by an earlier one.
    earlier_ends: tuple[tuple[datetime, datetime], ...] = ()

    def end_as_known_at(self, at: datetime) -> datetime:
        """Its end as the ends recorded by ``at`` say: the earliest of them (each end replaces
        a later one, so that is the last recorded; two recorded at one instant included), or
        its expiry if none was."""
        ends = list(self.earlier_ends)
        if self.ended_at is not None and self.ended_recorded_at is not None:
            ends.append((self.ended_at, self.ended_recorded_at))
        return min([self.valid_until, *(ended for ended, recorded in ends if recorded <= at)])
