"""Appeals: the person files and follows them, the accountable authority answers its queue,
oversight lists its cases (escalated appeals and findings), and anyone reads the statistics
(invariant 8, A5, A7).

Every body is closed: an answer is an outcome from a closed list with the evidence it cites,
and nothing else. There is no field for a condition, a pledge or any other demand, and a body
that tries to carry one is refused whole (``request.malformed``), writing nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from healthcode.bootstrap import Services
from healthcode.domain.appeals import (
    CITATIONS_MAX,
    LAPSE_OUTCOME,
    TEXT_MAX,
    AppealTarget,
    Ground,
    Outcome,
)
from healthcode.domain.json_values import JsonInstant
from healthcode.domain.oversight.cases import CaseStatus
from healthcode.domain.people import PERSON_KEY_PATTERN
from healthcode.services.appeal_views import AppealView
from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.explain import EvidenceView
from healthcode.store.appeals import StoredAppeal
from healthcode.web.api.idempotency import IdempotencyKey
from healthcode.web.api.officials import actor
from healthcode.web.api.oversight import CaseOut, case_out
from healthcode.web.api.schemas import ERRORS, HALTED, Bilingual, Closed, EvidenceOut
from healthcode.web.auth import PERSON, PUBLIC, Caller, access
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

person_router = APIRouter(prefix="/api/v1/me", tags=["persons"])
officials_router = APIRouter(prefix="/api/v1", tags=["officials"])
oversight_router = APIRouter(prefix="/api/v1/oversight", tags=["oversight"])
public_router = APIRouter(prefix="/api/v1/stats", tags=["public"])
ANSWERER = access("official", "supervisor", scope="jurisdiction")
OVERSIGHT = access("auditor", scope="all-read")

Ref = Annotated[str, Field(min_length=1, max_length=130)]


class AppealIn(Closed):
    """An appeal against one's colour, one order or one evidence record, on a closed ground."""

    # What ``services.appeals`` refuses as malformed, documented: an order or evidence is
    # named by ``ref``, the colour never is.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"target": {"const": "colour"}, "ref": {"type": "null"}}},
                {"properties": {"target": {"enum": ["order", "evidence"]}, "ref": {"type": "string"}},
                 "required": ["ref"]},
            ]
        }
    )  # fmt: skip

    target: AppealTarget
    ref: Ref | None = Field(
        default=None, description="the order id, or `source/record` of the evidence"
    )
    ground: Ground
    text: Annotated[str, Field(min_length=1, max_length=TEXT_MAX)] | None = Field(
        default=None, description="only with the ground `other`"
    )
    on_behalf_of: Annotated[str, Field(pattern=PERSON_KEY_PATTERN)] | None = Field(
        default=None, description="a dependant's person key, when a guardian appeals for them"
    )


class AnswerIn(Closed):
    """One outcome from the closed list, with the evidence it cites; nothing else."""

    outcome: Outcome
    evidence: Annotated[list[Ref], Field(max_length=CITATIONS_MAX)] = Field(
        default_factory=list,
        description="upheld: the evidence supporting the decision; corrected: the replacement",
    )
    ends_at: JsonInstant | None = Field(
        default=None, description="corrected: the order's new, earlier end"
    )


class ReceiptOut(BaseModel):
    step: str
    log_index: int
    at: datetime
    receipt_url: str


class CaseRefOut(BaseModel):
    id: str
    status: str  # open | investigating | referred | closed
    opened_at: datetime
    updated_at: datetime | None = None
    conclusion: str | None = None  # oversight's, once closed


class AppealOut(BaseModel):
    id: str
    person_key: str
    filed_by: str
    target: str
    order_id: str | None
    evidence: str | None
    colour: str | None
    rule_id: str | None
    ground: str
    text: str | None
    authority_id: str
    authority_name: Bilingual
    status: str
    where: str
    holder: str | None
    holder_name: Bilingual | None
    filed_at: datetime
    deadline: datetime
    time_left_seconds: int | None
    outcome: str | None
    answered_at: datetime | None
    answered_by: str | None
    ends_at: datetime | None
    replacement_order_id: str | None
    lapsed_at: datetime | None
    contested_evidence: EvidenceOut | None
    cited_evidence: list[EvidenceOut]
    case: CaseRefOut | None
    receipts: list[ReceiptOut]
    # Filed with a token the operator issued: its `person_token_use` entry; null if not.
    filed_with_operator_token: int | None = None


class QueueItemOut(BaseModel):
    id: str
    person_key: str
    filed_by_guardian: bool
    target: str
    order_id: str | None
    evidence: str | None
    colour: str | None
    rule_id: str | None
    ground: str
    text: str | None
    filed_at: datetime
    deadline: datetime
    time_left_seconds: int


class AnsweredOut(BaseModel):
    id: str
    status: str
    answered_at: datetime | None
    answered_by: str | None
    cited_evidence: list[str]
    ends_at: datetime | None
    replacement_order_id: str | None
    log_index: int | None


class AuthorityAppealsOut(BaseModel):
    authority_id: str
    authority_name: Bilingual
    filed: int | str
    open: int | str
    upheld: int | str
    overturned: int | str
    corrected: int | str
    lapsed: int | str
    escalated: int | str
    answered: int | str
    median_seconds_to_answer: int | None
    p90_seconds_to_answer: int | None


class AppealStatsOut(BaseModel):
    suppressed_below: int
    authorities: list[AuthorityAppealsOut]


OVERSIGHT_NAME = Bilingual(zh="独立监督机构", en="independent oversight")


def evidence_out(item: EvidenceView) -> EvidenceOut:
    return EvidenceOut(
        ref=item.ref, kind=item.kind, occurred_at=item.occurred_at, received_at=item.received_at,
        area=item.area.id, area_name=Bilingual(zh=item.area.zh, en=item.area.en),
        source_id=item.source_id, authority_id=item.authority.id,
        authority_name=Bilingual(zh=item.authority.zh, en=item.authority.en), details=item.details,
    )  # fmt: skip


def outcome_of(appeal: StoredAppeal) -> str | None:
    if appeal.is_open:
        return None
    return LAPSE_OUTCOME if appeal.status == "lapsed" else appeal.status


def appeal_out(view: AppealView) -> AppealOut:
    appeal = view.appeal
    authority = Bilingual(zh=view.authority.zh, en=view.authority.en)
    holder, holder_name = None, None
    if view.case is not None:
        holder, holder_name = "oversight", OVERSIGHT_NAME
    elif appeal.is_open:
        holder, holder_name = appeal.authority_id, authority
    return AppealOut(
        id=appeal.id, person_key=appeal.person_key, filed_by=appeal.filed_by, target=appeal.target,
        order_id=appeal.order_id, evidence=appeal.evidence_ref, colour=appeal.colour,
        rule_id=appeal.rule_id, ground=appeal.ground, text=appeal.text,
        authority_id=appeal.authority_id, authority_name=authority, status=appeal.status,
        where=view.where, holder=holder, holder_name=holder_name, filed_at=appeal.filed_at,
        deadline=appeal.deadline,
        time_left_seconds=None if view.time_left is None else int(view.time_left.total_seconds()),
        outcome=outcome_of(appeal), answered_at=appeal.answered_at, answered_by=appeal.answered_by,
        ends_at=appeal.ends_at, replacement_order_id=appeal.replacement_order_id,
        lapsed_at=appeal.lapsed_at,
        contested_evidence=evidence_out(view.contested) if view.contested else None,
        cited_evidence=[evidence_out(item) for item in view.cited],
        case=CaseRefOut(id=view.case.id, status=view.case.status, opened_at=view.case.opened_at,
                        updated_at=view.case.updated_at, conclusion=view.case.conclusion)
        if view.case else None,
        receipts=[
            ReceiptOut(step=r.step, log_index=r.log_index, at=r.at,
                       receipt_url=f"/api/v1/me/appeals/{appeal.id}/receipts/{r.log_index}")
            for r in view.receipts
        ],
        filed_with_operator_token=view.filed_with_operator_token,
    )  # fmt: skip


def answered_out(appeal: StoredAppeal) -> AnsweredOut:
    return AnsweredOut(
        id=appeal.id, status=appeal.status, answered_at=appeal.answered_at,
        answered_by=appeal.answered_by, cited_evidence=list(appeal.cited), ends_at=appeal.ends_at,
        replacement_order_id=appeal.replacement_order_id, log_index=appeal.answer_log_index,
    )  # fmt: skip


# --- the person (or their guardian) ---------------------------------------------------------


@person_router.post("/appeals", response_model=AppealOut, status_code=201, responses=ERRORS)
def file_appeal(
    request: Request, response: Response, body: AppealIn, person: Annotated[Caller, Depends(PERSON)],
    idempotency_key: IdempotencyKey = None,
) -> AppealOut:  # fmt: skip
    """Appeal my colour, one of my orders or one of my evidence records (or a dependant's);
    retried safely with an ``Idempotency-Key``."""
    services = request.app.state.services
    now = services.clock.now()
    filed = services.appeals.file(
        str(person.subject),
        AppealRequest(target=body.target, ground=body.ground, ref=body.ref, text=body.text,
                      on_behalf_of=body.on_behalf_of),
        now=now, idempotency_key=idempotency_key, operator_token=person.operator_token,
    )  # fmt: skip
    view = services.appeals.view(str(person.subject), filed.id, now=now)
    carry_checkpoint(response, view.checkpoint)
    return appeal_out(view)


@person_router.get("/appeals", response_model=list[AppealOut], responses=ERRORS)
def my_appeals(
    request: Request, response: Response, person: Annotated[Caller, Depends(PERSON)]
) -> list[AppealOut]:
    """My appeals and my dependants': where each is, who holds it, the time left, the outcome."""
    services = request.app.state.services
    before = latest_checkpoint(services)  # for an empty list (web/checkpoints.py)
    views = services.appeals.of_person(str(person.subject), now=services.clock.now())
    carry_checkpoint(response, views[0].checkpoint if views else before)
    return [appeal_out(view) for view in views]


@person_router.get("/appeals/{appeal_id}", response_model=AppealOut, responses=ERRORS)
def my_appeal(
    request: Request, response: Response, appeal_id: str, person: Annotated[Caller, Depends(PERSON)]
) -> AppealOut:
    services = request.app.state.services
    view = services.appeals.view(str(person.subject), appeal_id, now=services.clock.now())
    carry_checkpoint(response, view.checkpoint)
    return appeal_out(view)


@person_router.post("/appeals/{appeal_id}/escalate", response_model=AppealOut, responses=ERRORS)
def escalate_appeal(
    request: Request, response: Response, appeal_id: str, person: Annotated[Caller, Depends(PERSON)]
) -> AppealOut:
    """Take an upheld appeal to oversight, which opens a case."""
    services = request.app.state.services
    now = services.clock.now()
    services.appeals.escalate(
        str(person.subject), appeal_id, now=now, operator_token=person.operator_token
    )
    view = services.appeals.view(str(person.subject), appeal_id, now=now)
    carry_checkpoint(response, view.checkpoint)
    return appeal_out(view)


@person_router.get(
    "/appeals/{appeal_id}/receipts/{log_index}",
    response_class=PlainTextResponse,
    responses=ERRORS | HALTED,
)
def my_appeal_receipt(
    request: Request, appeal_id: str, log_index: int, person: Annotated[Caller, Depends(PERSON)]
) -> PlainTextResponse:
    """A tlog-proof that one step of my appeal is in the log: verifies offline."""
    services = request.app.state.services
    return PlainTextResponse(services.appeals.receipt(str(person.subject), appeal_id, log_index))


# --- the accountable authority --------------------------------------------------------------


@officials_router.get("/appeals", response_model=list[QueueItemOut], responses=ERRORS)
def appeal_queue(
    request: Request, response: Response, caller: Annotated[Caller, Depends(ANSWERER)]
) -> list[QueueItemOut]:
    """The open appeals my authority holds, the nearest deadline first."""
    services = request.app.state.services
    now = services.clock.now()
    carry_checkpoint(response, latest_checkpoint(services))
    return [
        QueueItemOut(
            id=a.id, person_key=a.person_key, filed_by_guardian=a.filed_by != a.person_key,
            target=a.target, order_id=a.order_id, evidence=a.evidence_ref, colour=a.colour,
            rule_id=a.rule_id, ground=a.ground, text=a.text, filed_at=a.filed_at,
            deadline=a.deadline, time_left_seconds=max(0, int((a.deadline - now).total_seconds())),
        )
        for a in services.appeals.queue(actor(caller))
    ]  # fmt: skip


@officials_router.post("/appeals/{appeal_id}/answer", response_model=AnsweredOut, responses=ERRORS)
def answer_appeal(
    request: Request, appeal_id: str, body: AnswerIn, caller: Annotated[Caller, Depends(ANSWERER)]
) -> AnsweredOut:
    """Answer: upheld (citing evidence), overturned, or corrected; before the deadline."""
    services = request.app.state.services
    answered = services.appeals.answer(
        actor(caller),
        appeal_id,
        Answer(outcome=body.outcome, evidence=tuple(body.evidence), ends_at=body.ends_at),
        now=services.clock.now(),
    )
    return answered_out(answered)


# --- oversight and the public ---------------------------------------------------------------


@oversight_router.get("/cases", response_model=list[CaseOut], responses=ERRORS)
def oversight_cases(
    request: Request,
    response: Response,
    _caller: Annotated[Caller, Depends(OVERSIGHT)],
    status: CaseStatus | None = None,
) -> list[CaseOut]:
    """Oversight's cases, oldest first: escalated appeals and the detectors' findings (or
    only those in ``status``). Oversight reads and moves its cases; it sets no colour."""
    before = latest_checkpoint(request.app.state.services)  # for an empty list
    views = request.app.state.services.oversight.cases(None if status is None else status.value)
    carry_checkpoint(response, views[0].checkpoint if views else before)
    return [case_out(view) for view in views]


def stats_out(services: Services) -> AppealStatsOut:
    appeals = services.appeals
    return AppealStatsOut(
        suppressed_below=appeals.policy.min_cell,
        authorities=[
            AuthorityAppealsOut(
                authority_id=row.authority_id, authority_name=Bilingual(zh=name.zh, en=name.en),
                filed=row.filed, open=row.open, upheld=row.upheld, overturned=row.overturned,
                corrected=row.corrected, lapsed=row.lapsed, escalated=row.escalated,
                answered=row.answered, median_seconds_to_answer=row.median_seconds_to_answer,
                p90_seconds_to_answer=row.p90_seconds_to_answer,
            )
            for row, name in appeals.statistics()
        ],
    )  # fmt: skip


@public_router.get(
    "/appeals", response_model=AppealStatsOut, responses=ERRORS, dependencies=[Depends(PUBLIC)]
)
def appeal_statistics(request: Request, response: Response) -> AppealStatsOut:
    """Per authority: appeals filed, outcomes, lapses, median and 90th-percentile time to
    answer. A count below the threshold is shown as "<10", so no one can be singled out."""
    carry_checkpoint(response, latest_checkpoint(request.app.state.services))
    return stats_out(request.app.state.services)
