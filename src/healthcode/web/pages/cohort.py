"""The auditor's cohort test page: paste or upload a list of person keys, read how their red
and yellow rates compare with matched controls (the same computation as
``POST /api/v1/oversight/cohort``; docs/oversight.md). Nothing about any one person is shown."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from healthcode.domain.people import PERSON_KEY_PATTERN
from healthcode.errors import HealthcodeError, InputRejected
from healthcode.services.cohort import COHORT_MAX, DEFAULT_WINDOW, WINDOW_MAX, CohortTests
from healthcode.web.api.cohort import EXPOSURE_NAMES, MAX_BODY_BYTES
from healthcode.web.auth import Caller, page, refused_by
from healthcode.web.bodies import larger_body
from healthcode.web.pages.rendering import error_message, render

router = APIRouter(include_in_schema=False)
AUDITOR_PAGE = page("auditor", scope="all-read")
_KEY = re.compile(PERSON_KEY_PATTERN)
_SEPARATORS = re.compile(r"[\s,;]+")


def parse_keys(text: str) -> list[str]:
    """Person keys separated by new lines, spaces, commas or semicolons; anything else refused."""
    keys = [item for item in _SEPARATORS.split(text.strip().lower()) if item]
    if not keys:
        raise InputRejected("request.malformed", "no person keys")
    if len(keys) > COHORT_MAX:
        raise InputRejected("cohort.too_large", f"at most {COHORT_MAX} persons")
    if not all(_KEY.match(key) for key in keys):
        raise InputRejected("request.malformed", "a person key is 32 lower-case hex digits")
    return keys


def _form(
    request: Request, caller: Caller, status: int = 200, *,
    window_days: int = DEFAULT_WINDOW.days, persons: str = "", **context: object,
) -> Response:  # fmt: skip
    """The form; after a refusal, with the keys the auditor pasted still in it (a list of up to
    100,000, to correct, not to paste again). A result shows no key, and an uploaded file is
    not echoed."""
    return render(
        request, "oversight_cohort.html", status_code=status, caller=caller, persons=persons,
        window_max=WINDOW_MAX.days, window_days=window_days, names=EXPOSURE_NAMES, **context,
    )  # fmt: skip


@router.get("/oversight/cohort")
def cohort_form(
    request: Request, caller: Annotated[Caller | None, Depends(AUDITOR_PAGE)]
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    return _form(request, caller)


@router.post("/oversight/cohort", openapi_extra=larger_body(MAX_BODY_BYTES + 64 * 1024))
async def cohort_result(
    request: Request,
    caller: Annotated[Caller | None, Depends(AUDITOR_PAGE)],
    persons: Annotated[str, Form(max_length=MAX_BODY_BYTES)] = "",
    file: UploadFile | None = None,
    window_days: Annotated[int, Form(ge=1, le=WINDOW_MAX.days)] = DEFAULT_WINDOW.days,
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now = services.clock.now()
    try:
        text = persons
        if file is not None and file.filename:
            raw = await file.read(MAX_BODY_BYTES + 1)
            if len(raw) > MAX_BODY_BYTES:
                raise InputRejected("request.too_large")
            text += "\n" + raw.decode("utf-8", errors="replace")
        report = CohortTests(services.db, services.log).run(
            parse_keys(text), now=now, window=timedelta(days=window_days)
        )
    except HealthcodeError as error:
        services.refusals.record(
            error, route="/oversight/cohort", source_id=None, now=now, by=refused_by(caller)
        )
        return _form(request, caller, status=error.spec.http_status,
                     error=error_message(request, error),
                     window_days=window_days, persons=persons)  # fmt: skip
    return _form(request, caller, report=report, window_days=window_days)
