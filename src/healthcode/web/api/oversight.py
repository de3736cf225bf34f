"""Oversight's findings and cases, for auditors only (the brief's A8).

Auditors read every finding and case, and move a case along its lifecycle
(``domain/oversight/cases.py``) with a note; each step is one log entry. The body of a step is
closed: a status from the closed list and a note. There is no field that could reach a colour,
an order or evidence. The list of cases is ``GET /api/v1/oversight/cases`` (web/api/appeals.py,
where escalated appeals first opened them); its shape is ``CaseOut`` here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field

from healthcode.domain.oversight.cases import NOTE_MAX, CaseStatus
from healthcode.services.oversight import DETECTOR_NAMES, CaseView, FindingView
from healthcode.store.oversight import StoredFinding
from healthcode.web.api.schemas import ERRORS, Bilingual, Closed, closed_list
from healthcode.web.auth import Caller, access
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

router = APIRouter(prefix="/api/v1/oversight", tags=["oversight"])
AUDITOR = access("auditor", scope="all-read")
CASEWORK = access("auditor", scope="cases")


class FindingOut(BaseModel):
    id: str
    detector: str
    subject: str
    subject_kind: str
    fingerprint: str
    score: float
    summary: Bilingual
    window_from: datetime
    window_to: datetime
    records: list[str]
    found_at: datetime
    case_id: str | None
    case_status: str | None


class StepOut(BaseModel):
    seq: int
    status: str
    by: str
    at: datetime
    note: str
    log_index: int


class CaseOut(BaseModel):
    """A case as auditors list it: what opened it (an escalated appeal or a finding) and
    where it stands."""

    id: str
    origin: str  # appeal | finding
    status: str
    opened_at: datetime
    updated_at: datetime | None
    conclusion: str | None
    log_index: int
    # an escalated appeal's case
    appeal_id: str | None
    person_key: str | None
    authority_id: str | None
    appeal_target: str | None
    appeal_ground: str | None
    appeal_outcome: str | None
    answered_by: str | None
    cited_evidence: list[str]
    # a finding's case
    finding_id: str | None
    detector: str | None
    subject: str | None
    summary: Bilingual | None


class CaseDetailOut(CaseOut):
    finding: FindingOut | None
    steps: list[StepOut]


class StepIn(Closed):
    """One step of a case: the status it moves to and a note (the conclusion, to close)."""

    status: CaseStatus
    note: Annotated[str, Field(max_length=NOTE_MAX)] = ""


def finding_out(finding: StoredFinding, case_id: str | None, case_status: str | None) -> FindingOut:
    return FindingOut(
        id=finding.id, detector=finding.detector, subject=finding.subject,
        subject_kind=finding.subject_kind, fingerprint=finding.fingerprint, score=finding.score,
        summary=Bilingual(zh=finding.summary_zh, en=finding.summary_en),
        window_from=finding.window_from, window_to=finding.window_to,
        records=list(finding.records), found_at=finding.found_at, case_id=case_id,
        case_status=case_status,
    )  # fmt: skip


def case_out(view: CaseView) -> CaseOut:
    case, appeal, finding = view.case, view.appeal, view.finding
    return CaseOut(
        id=case.id, origin=view.origin, status=case.status, opened_at=case.opened_at,
        updated_at=case.updated_at, conclusion=case.conclusion, log_index=case.log_index,
        appeal_id=case.appeal_id, person_key=case.person_key,
        authority_id=appeal.authority_id if appeal else None,
        appeal_target=appeal.target if appeal else None,
        appeal_ground=appeal.ground if appeal else None,
        appeal_outcome=appeal.status if appeal else None,
        answered_by=appeal.answered_by if appeal else None,
        cited_evidence=list(appeal.cited) if appeal else [],
        finding_id=case.finding_id, detector=finding.detector if finding else None,
        subject=finding.subject if finding else None,
        summary=Bilingual(zh=finding.summary_zh, en=finding.summary_en) if finding else None,
    )  # fmt: skip


def case_detail_out(view: CaseView) -> CaseDetailOut:
    finding = view.finding
    return CaseDetailOut(
        **case_out(view).model_dump(),
        finding=finding_out(finding, view.case.id, view.case.status) if finding else None,
        steps=[
            StepOut(seq=s.seq, status=s.status, by=s.by_id, at=s.at, note=s.note,
                    log_index=s.log_index)
            for s in view.steps
        ],
    )  # fmt: skip


def _finding_view_out(view: FindingView) -> FindingOut:
    case = view.case
    return finding_out(view.finding, case.id if case else None, case.status if case else None)


def _registered(name: str | None) -> str | None:
    """A closed list, as ``cases?status=`` is: an unknown detector is malformed, not empty."""
    if name is not None and name not in DETECTOR_NAMES:
        raise ValueError("not a registered detector")
    return name


@router.get("/findings", response_model=list[FindingOut], responses=ERRORS)
def findings(
    request: Request,
    response: Response,
    _caller: Annotated[Caller, Depends(AUDITOR)],
    detector: Annotated[
        str | None,
        Query(json_schema_extra=closed_list(DETECTOR_NAMES)),
        AfterValidator(_registered),
    ] = None,
) -> list[FindingOut]:
    """What the detectors found, the newest first, each with its case and the records that
    support it."""
    carry_checkpoint(response, latest_checkpoint(request.app.state.services))
    found = request.app.state.services.oversight.findings(detector=detector)
    return [_finding_view_out(view) for view in found]


@router.get("/cases/{case_id}", response_model=CaseDetailOut, responses=ERRORS)
def case(
    request: Request, response: Response, case_id: str, _caller: Annotated[Caller, Depends(AUDITOR)]
) -> CaseDetailOut:
    """One case: what opened it (the finding, or the escalated appeal) and every step."""
    view = request.app.state.services.oversight.case(case_id)
    carry_checkpoint(response, view.checkpoint)
    return case_detail_out(view)


@router.post("/cases/{case_id}/steps", response_model=CaseDetailOut, responses=ERRORS)
def move_case(
    request: Request,
    response: Response,
    case_id: str,
    body: StepIn,
    caller: Annotated[Caller, Depends(CASEWORK)],
) -> CaseDetailOut:
    """Move the case one step: open -> investigating -> referred -> closed (or closed from
    open or investigating); closing needs the conclusion as the note."""
    services = request.app.state.services
    view = services.oversight.move(
        str(caller.subject), case_id, body.status.value, body.note, now=services.clock.now(),
        operator_token=caller.operator_token,
    )  # fmt: skip
    carry_checkpoint(response, view.checkpoint)
    return case_detail_out(view)
