"""What anyone may read: the rulebooks (current and past) and the risk designations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from healthcode.domain.designations import RiskDesignation
from healthcode.errors import NotFound
from healthcode.services.rulebooks import Edition
from healthcode.web.api.schemas import ERRORS, DesignationOut, RulebookOut, Version
from healthcode.web.auth import PUBLIC
from healthcode.web.checkpoints import carry_checkpoint

router = APIRouter(prefix="/api/v1", tags=["public"])


def _out(edition: Edition) -> RulebookOut:
    return RulebookOut(
        version=edition.rulebook.version,
        published_at=edition.published_at,
        effective_from=edition.effective_from,
        digest=edition.rulebook.digest,
        source=edition.rulebook.source,
    )


@router.get("/rulebooks", response_model=list[RulebookOut], dependencies=[Depends(PUBLIC)])
def list_rulebooks(request: Request, response: Response) -> list[RulebookOut]:
    services = request.app.state.services
    with services.db.read() as conn:
        carry_checkpoint(response, services.log.checkpoint_at(conn))
        return [_out(edition) for edition in services.rulebooks.editions(conn)]


@router.get(
    "/rulebooks/current",
    response_model=RulebookOut,
    responses=ERRORS,
    dependencies=[Depends(PUBLIC)],
)
def current_rulebook(request: Request, response: Response) -> RulebookOut:
    services = request.app.state.services
    now = services.clock.now()
    with services.db.read() as conn:
        carry_checkpoint(response, services.log.checkpoint_at(conn))
        editions = [e for e in services.rulebooks.editions(conn) if e.effective_from <= now]
    if not editions:
        raise NotFound("rulebook.not_found", "no edition in force")
    return _out(editions[-1])


@router.get(
    "/rulebooks/{version:int}",
    response_model=RulebookOut,
    responses=ERRORS,
    dependencies=[Depends(PUBLIC)],
)
def rulebook(request: Request, version: Version) -> RulebookOut:
    return _out(request.app.state.services.rulebooks.edition(version))


def designation_out(d: RiskDesignation, now: datetime, state: str | None = None) -> DesignationOut:
    """``d`` as it stands at ``now``: its phase, unless ``state`` says what it is (pending)."""
    end = d.last_end(now)
    return DesignationOut(
        id=d.id,
        area=d.area,
        venue_id=d.venue_id,
        level=str(d.level),
        valid_from=d.valid_from,
        valid_to=d.valid_to,
        authority_id=d.authority_id,
        case_count=d.case_count,
        basis=d.basis,
        recorded_at=d.recorded_at,
        status=state or d.phase(now),
        ended_at=end.ended_at if end else None,
        end_reason=end.reason if end else None,
    )


@router.get("/designations", response_model=list[DesignationOut], dependencies=[Depends(PUBLIC)])
def designations(
    request: Request,
    response: Response,
    status: Annotated[Literal["in_force", "scheduled", "ended", "all"], Query()] = "in_force",
) -> list[DesignationOut]:
    """The co-signed designations in force now; ``status=`` ``scheduled`` (starting later),
    ``ended`` (its period over, cut short or withdrawn as made in error: ``end_reason``) or
    ``all`` (the history /public/designations shows)."""
    services = request.app.state.services
    now = services.clock.now()
    with services.db.read() as conn:
        carry_checkpoint(response, services.log.checkpoint_at(conn))
        return [
            designation_out(d, now)
            for d in services.designations.all(conn)
            if status == "all" or d.phase(now) == status
        ]
