"""The lifecycle of an oversight case: a closed set of statuses and the steps between them.

A case opens (from an escalated appeal or a detector's finding) and moves
open -> investigating -> referred -> closed; it may be closed straight from open (nothing to
answer) or from investigating (settled without a referral). It never goes back: a case that
needs looking at again is a new finding, so every step stays one entry of the log. Closing
needs a conclusion, so no case ends without saying why. A step changes only the case: no
colour, order or evidence (oversight decides nothing about a person).
"""

from __future__ import annotations

from enum import StrEnum

from healthcode.errors import InputRejected

NOTE_MAX = 4000  # a step's note; the conclusion when it closes


class CaseStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    REFERRED = "referred"
    CLOSED = "closed"


TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.INVESTIGATING, CaseStatus.CLOSED}),
    CaseStatus.INVESTIGATING: frozenset({CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


def case_status(value: str) -> CaseStatus:
    """A status from the closed list, or the stable refusal ``oversight.status_unknown``."""
    try:
        return CaseStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in CaseStatus)
        raise InputRejected("oversight.status_unknown", f"one of {choices}") from None


def allowed(current: str, new: str) -> bool:
    try:
        return CaseStatus(new) in TRANSITIONS[CaseStatus(current)]
    except ValueError:
        return False


def check_step(current: str, new: str, note: str) -> CaseStatus:
    """The status a case moves to, if it may; otherwise the refusal, before anything is written."""
    status = case_status(new)
    if not allowed(current, status):
        raise InputRejected("oversight.transition_invalid", f"{current} -> {status}")
    if len(note) > NOTE_MAX:
        raise InputRejected("request.malformed", f"a note has at most {NOTE_MAX} characters")
    if status is CaseStatus.CLOSED and not note.strip():
        raise InputRejected("oversight.conclusion_missing")
    return status
