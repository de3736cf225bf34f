"""The cohort test for oversight: ``POST /api/v1/oversight/cohort`` (auditors only).

The auditor sends person keys and gets counts, rates, the exact p-values and the number of
strata -- never anyone's colour or evidence (``services/cohort.py`` says what is counted).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, Strict

from healthcode.domain.json_values import WHOLE
from healthcode.domain.oversight.cohort import CohortComparison
from healthcode.domain.people import PERSON_KEY_PATTERN
from healthcode.services.cohort import DEFAULT_WINDOW, WINDOW_MAX, CohortReport, CohortTests
from healthcode.web.api.schemas import ERRORS, Bilingual, Closed
from healthcode.web.auth import Caller, access
from healthcode.web.bodies import larger_body
from healthcode.web.checkpoints import carry_checkpoint

router = APIRouter(prefix="/api/v1/oversight", tags=["oversight"])
AUDITOR = access("auditor", scope="all-read")
# 100,000 keys of 32 hex digits are about 3.5 MB of JSON; past this the body is refused whole.
MAX_BODY_BYTES = 8 * 1024 * 1024

PersonKey = Annotated[str, Field(pattern=PERSON_KEY_PATTERN)]

EXPOSURE_NAMES = {  # one for each of services.cohort.EXPOSURES (a test checks)
    "none": Bilingual(zh="无风险暴露证据", en="no exposure in the evidence"),
    "designated_visit": Bilingual(
        zh="经核实到访当时的中高风险区", en="proven visit to a then-designated risk area"
    ),
    "inbound_traveller": Bilingual(zh="入境且须隔离", en="inbound traveller, quarantine required"),
    "close_contact": Bilingual(zh="密切接触者", en="close contact"),
    "positive_test": Bilingual(zh="检测阳性", en="positive test"),
}


class CohortIn(Closed):
    """The persons of the cohort, by person key, and the window to look back over."""

    persons: Annotated[list[PersonKey], Field(min_length=1)] = Field(
        description="person keys; at most 100,000 (duplicates count once)"
    )
    # A JSON integer (domain/json_values.py): read laxly, `true` was a window of one day.
    window_days: Annotated[int, Strict(), Field(ge=1, le=WINDOW_MAX.days), WHOLE] = Field(
        default=DEFAULT_WINDOW.days, description="days before now"
    )


class ComparisonOut(BaseModel):
    matched: int = Field(description="cohort members with controls in their stratum")
    unmatched: int = Field(description="cohort members in strata without controls, left out")
    controls: int
    strata: int
    unmatched_strata: int
    flagged: int = Field(description="flagged cohort members (matched)")
    expected_flagged: float = Field(description="expected under the null, given the strata")
    cohort_rate: float
    control_rate: float = Field(description="the controls' rate, weighted to the cohort's strata")
    risk_difference: float
    odds_ratio: float | None = Field(description="Mantel-Haenszel; null unless finite")
    odds_ratio_kind: Literal["finite", "infinite", "undefined"]
    p_greater: float = Field(description="exact one-sided p: flagged more often")
    p_two_sided: float


class ExposureOut(BaseModel):
    exposure: str
    name: Bilingual
    cohort: int | str = Field(description='matched cohort members; "<10" below ten')
    flagged: int | str
    red: int | str


class CohortOut(BaseModel):
    window_from: datetime
    window_to: datetime
    submitted: int
    distinct: int
    unknown: int = Field(description="keys of no registered person")
    red_or_yellow: ComparisonOut
    red: ComparisonOut
    by_exposure: list[ExposureOut]


def comparison_out(c: CohortComparison) -> ComparisonOut:
    if c.odds_ratio is None:
        kind: Literal["finite", "infinite", "undefined"] = "undefined"
    else:
        kind = "infinite" if math.isinf(c.odds_ratio) else "finite"
    return ComparisonOut(
        matched=c.matched, unmatched=c.unmatched, controls=c.controls, strata=c.strata,
        unmatched_strata=c.unmatched_strata, flagged=c.flagged,
        expected_flagged=c.expected_flagged, cohort_rate=c.cohort_rate,
        control_rate=c.control_rate, risk_difference=c.risk_difference,
        odds_ratio=c.odds_ratio if kind == "finite" else None, odds_ratio_kind=kind,
        p_greater=c.p_greater, p_two_sided=c.p_two_sided,
    )  # fmt: skip


def cohort_out(report: CohortReport) -> CohortOut:
    return CohortOut(
        window_from=report.window_from, window_to=report.window_to, submitted=report.submitted,
        distinct=report.distinct, unknown=report.unknown,
        red_or_yellow=comparison_out(report.red_or_yellow), red=comparison_out(report.red),
        by_exposure=[
            ExposureOut(exposure=row.exposure, name=EXPOSURE_NAMES[row.exposure],
                        cohort=row.cohort, flagged=row.flagged, red=row.red)
            for row in report.by_exposure
        ],
    )  # fmt: skip


@router.post(
    "/cohort",
    response_model=CohortOut,
    responses=ERRORS,
    openapi_extra=larger_body(MAX_BODY_BYTES),
)
def cohort_test(
    request: Request,
    response: Response,
    body: CohortIn,
    _caller: Annotated[Caller, Depends(AUDITOR)],
) -> CohortOut:
    """Are these persons red or yellow more often than people of the same home area and
    exposure? Counts, rates and exact p-values; nothing about any one person. Writes nothing."""
    services = request.app.state.services
    report = CohortTests(services.db, services.log).run(
        body.persons, now=services.clock.now(), window=timedelta(days=body.window_days)
    )
    carry_checkpoint(response, report.checkpoint)
    return cohort_out(report)
