"""The auditors' pages: what the detectors found and every case (escalated appeals and
findings), each case with its finding, supporting records, steps and the form that moves it.

Signed in with the ``hc_staff`` cookie (``/staff/login`` sends auditors here). The cookie is
``SameSite=Lax``, so another site cannot post the form with it, as for every staff form. Form
fields are optional strings checked by the service: a caller without an auditor's session gets
the sign-in page (401), never a validation error about a form they were not allowed to send.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.domain.oversight.cases import NOTE_MAX, TRANSITIONS, CaseStatus
from healthcode.errors import HealthcodeError
from healthcode.oversight.api import detector_titles
from healthcode.web.auth import Caller, page, refused_by
from healthcode.web.pages.rendering import error_message, render

router = APIRouter(include_in_schema=False)
AUDITOR_PAGE = page("auditor", scope="all-read")
CASEWORK_PAGE = page("auditor", scope="cases")
STATUSES = [s.value for s in CaseStatus]


@router.get("/oversight")
def oversight_page(
    request: Request, caller: Annotated[Caller | None, Depends(AUDITOR_PAGE)], status: str = ""
) -> Response:
    """Every case, or those in ``status``; a status not on the closed list is refused (422,
    ``oversight.status_unknown``) where the list would be, rather than ignored: the page
    would show every case as if they were the ones asked for."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    try:
        cases, error = services.oversight.cases(status or None), None
    except HealthcodeError as refused:  # the service checks the closed list
        cases, error = [], refused
    return render(
        request, "oversight.html", status_code=error.spec.http_status if error else 200,
        caller=caller, cases=cases, status=None if error else status or None, statuses=STATUSES,
        error=error_message(request, error) if error else None,
        findings=services.oversight.findings(limit=100), detector_titles=detector_titles(),
    )  # fmt: skip


def _case_page(
    request: Request, caller: Caller, case_id: str, *,
    error: HealthcodeError | None = None, status: int = 200, note: str = "",
) -> HTMLResponse:  # fmt: skip
    view = request.app.state.services.oversight.case(case_id)
    return render(
        request, "oversight_case.html", status_code=status, caller=caller, view=view,
        next_statuses=sorted(s.value for s in TRANSITIONS[CaseStatus(view.case.status)]),
        note_max=NOTE_MAX, note=note, error=error_message(request, error) if error else None,
        detector_titles=detector_titles(),
    )  # fmt: skip


def _not_found(request: Request, error: HealthcodeError) -> HTMLResponse:
    return render(
        request, "oversight_case.html", status_code=error.spec.http_status, view=None,
        error=error_message(request, error), next_statuses=[], note_max=NOTE_MAX, note="",
    )  # fmt: skip


@router.get("/oversight/cases/{case_id}")
def case_page(
    request: Request, case_id: str, caller: Annotated[Caller | None, Depends(AUDITOR_PAGE)]
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    try:
        return _case_page(request, caller, case_id)
    except HealthcodeError as error:
        return _not_found(request, error)


@router.post("/oversight/cases/{case_id}/steps")
def move_page(
    request: Request,
    case_id: str,
    caller: Annotated[Caller | None, Depends(CASEWORK_PAGE)],
    status: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now = services.clock.now()
    try:
        services.oversight.move(
            str(caller.subject), case_id, status, note, now=now,
            operator_token=caller.operator_token,
        )  # fmt: skip
    except HealthcodeError as error:
        services.refusals.record(
            error,
            route="/oversight/cases/{case_id}/steps",
            source_id=None,
            now=now,
            by=refused_by(caller),
        )
        try:
            return _case_page(
                request, caller, case_id, error=error, status=error.spec.http_status, note=note
            )
        except HealthcodeError as missing:
            return _not_found(request, missing)
    return RedirectResponse(f"/oversight/cases/{case_id}", status_code=303)
