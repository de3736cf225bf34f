"""Source anomalies: a lab, tracing team or scanner producing evidence about people outside the
population it serves (A1: one source used to fabricate evidence about people in other cities).

A record is *outside* when its person neither lives inside the source's area nor has any
visit inside it during the window; the detector gathers those. A source with at least
``min_outside`` outside records in the window is a finding. Venue visits are not judged here
(their area is the venue's, and presence is judged by the presence detectors), nor are border
entries (travellers arrive from outside by definition).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NOT_JUDGED = frozenset({"venue_visit", "border_entry"})


@dataclass(frozen=True)
class ReachPolicy:
    min_outside: int = 5


@dataclass(frozen=True)
class SourceReach:
    source_id: str
    records: int  # every judged record of the source in the window
    outside: tuple[str, ...]  # evidence refs of the outside ones

    @property
    def share(self) -> float:
        return len(self.outside) / self.records if self.records else 0.0


def anomalous_sources(
    totals: Mapping[str, int],
    outside: Mapping[str, Sequence[str]],
    policy: ReachPolicy = ReachPolicy(),
) -> list[SourceReach]:
    return [
        SourceReach(source, totals.get(source, len(refs)), tuple(sorted(refs)))
        for source, refs in sorted(outside.items())
        if len(refs) >= policy.min_outside
    ]
