"""The decisions in ``bench.city``'s synthetic city: risk designations drawn around the venues
and districts cases visited, and upheld appeals that set records (and a faulty scanner) aside.

Each takes the city's random generator where ``generate`` is in its draws, so the city is the
same whichever module draws it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.city_frame import DAY, START, record_id
from healthcode.domain import evidence as ev
from healthcode.domain.bulk_columns import KIND_CODE, EvidenceColumns, from_micros
from healthcode.domain.designations import RiskDesignation, RiskLevel
from healthcode.domain.status import SetAside


def appeals_upheld(
    rng: np.random.Generator, columns: EvidenceColumns, days: int
) -> tuple[list[SetAside], dict[str, int]]:
    """Appeals upheld: some positives and contacts set aside, and the faulty scanner revoked
    half-way through; with the rows of the records set aside, by reference."""
    set_asides = [SetAside(effective_at=START + timedelta(days=days / 2), source_id="scan-faulty")]
    contested = np.flatnonzero(
        (columns.kind == KIND_CODE[ev.EvidenceKind.CLOSE_CONTACT])
        | ((columns.kind == KIND_CODE[ev.EvidenceKind.TEST_RESULT]) & (columns.result == 1))
    )
    for n, row in enumerate(
        rng.choice(contested, size=min(len(contested), 25), replace=False).tolist()
    ):
        decided = int(columns.received_at[row]) + int(rng.integers(1, 5)) * DAY
        # Most take effect when decided; some from the record's own receipt (retroactively).
        effective = decided if n % 3 else int(columns.received_at[row])
        ref = f"{columns.sources[int(columns.source[row])]}/{record_id(row)}"
        set_asides.append(
            SetAside(effective_at=from_micros(effective), evidence_ref=ref,
                     person=columns.persons[int(columns.person[row])], recorded_at=from_micros(decided))
        )  # fmt: skip
    refs = {aside.evidence_ref: int(aside.evidence_ref.rsplit("/e", 1)[1])
            for aside in set_asides if aside.evidence_ref}  # fmt: skip
    return set_asides, refs


def designate_around_cases(rng: np.random.Generator, cases: NDArray[Any],
                           positive_day: NDArray[Any], visit_who: NDArray[Any],
                           visit_venue: NDArray[Any], visit_day: NDArray[Any],
                           venue_area: NDArray[Any], venues: tuple[str, ...],
                           home: NDArray[Any], t0: int) -> list[RiskDesignation]:  # fmt: skip
    """High risk around the venues cases visited most, medium for the districts with most
    cases, low for a city; from the day after the positive tests, some recorded late."""
    designations: list[RiskDesignation] = []

    def designate(area: int, level: RiskLevel, start: int, length: int | None,
                  venue: str | None = None, late: int = 0) -> None:  # fmt: skip
        designations.append(RiskDesignation(
            id=f"d{len(designations)}", area=str(area), level=level,
            valid_from=from_micros(start),
            valid_to=None if length is None else from_micros(start + length * DAY),
            authority_id="zz-health", case_count=3, basis="cases", recorded_at=from_micros(start + late),
            venue_id=venue))  # fmt: skip

    case_rows = np.flatnonzero(np.isin(visit_who, cases))
    if len(case_rows):
        counted = np.bincount(visit_venue[case_rows], minlength=len(venues))
        hot = np.argsort(counted)[::-1][:30]
        for n, venue in enumerate(hot.tolist()):
            if counted[venue] == 0:
                continue
            first = int(visit_day[case_rows][visit_venue[case_rows] == venue].min())
            designate(int(venue_area[venue]), RiskLevel.HIGH, t0 + (first + 1) * DAY, 10,
                      venue=venues[venue], late=DAY if n % 4 == 0 else 0)  # fmt: skip
    areas, counts = np.unique(home[cases], return_counts=True)
    for n, area in enumerate(areas[np.argsort(counts)[::-1][:4]].tolist()):
        start = int(positive_day.min()) + 2 + 3 * n
        designate(area, RiskLevel.MEDIUM, t0 + start * DAY, None if n == 0 else 12,
                  late=2 * DAY if n == 1 else 0)  # fmt: skip
    designate(411700, RiskLevel.LOW, t0 + 3 * DAY, 20)
    designate(410100, RiskLevel.HIGH, t0 + 200 * DAY, 5)  # announced, not yet in force
    return designations
