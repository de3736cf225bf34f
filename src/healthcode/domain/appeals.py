"""Appeals that end (invariant 8): closed grounds, closed outcomes, a deadline per kind, and
the public statistics of how each authority answers.

An appeal contests exactly one input of a person's status: an order, or one evidence record
(an appeal against the colour is resolved, when filed, to the input that decides it). Its
outcomes are epidemiological and closed: *upheld* (citing the evidence that supports it),
*overturned* (the order is lifted or the evidence set aside for this person) or *corrected*
(a shorter order, or the input replaced by different evidence). There is no field for a
condition, a pledge or any other demand; silence past the deadline lapses the contested input.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healthcode.domain.disclosure import protect
from healthcode.errors import Detail, InputRejected

TEXT_MAX = 280  # the short text of the ground `other`
CITATIONS_MAX = 20
LAPSE_OUTCOME = "no_answer_in_time"


class AppealTarget(StrEnum):
    COLOUR = "colour"
    ORDER = "order"
    EVIDENCE = "evidence"


class Ground(StrEnum):
    NOT_THERE = "not_there"
    NOT_MINE = "not_mine"
    EVIDENCE_WRONG = "evidence_wrong"
    ORDER_EXPIRED = "order_expired"
    OTHER = "other"


class Outcome(StrEnum):
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    CORRECTED = "corrected"


class AppealStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    CORRECTED = "corrected"
    LAPSED = "lapsed"


class ItemKind(StrEnum):
    """What an appeal finally contests: one order, or one evidence record."""

    ORDER = "order"
    EVIDENCE = "evidence"


@dataclass(frozen=True)
class AppealPolicy:
    deadlines: dict[AppealTarget, timedelta]
    # Statistics cells with fewer appeals than this are shown as "<10" (for 10), so nobody can
    # be singled out.
    min_cell: int

    def deadline(self, target: AppealTarget, filed_at: datetime) -> datetime:
        return filed_at + self.deadlines[target]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AppealsIn(_Strict):
    deadline_hours: dict[AppealTarget, int]
    statistics_min_cell: int = Field(ge=1)


class AppealPolicyError(ValueError):
    """An `appeals:` policy section that cannot be used."""


def load_appeal_policy(source: dict[str, Any]) -> AppealPolicy:
    try:
        spec = _AppealsIn.model_validate(source)
    except ValidationError as exc:
        raise AppealPolicyError(str(exc.errors()[0])) from None
    missing = set(AppealTarget) - set(spec.deadline_hours)
    if missing:
        raise AppealPolicyError(f"no deadline for {sorted(missing)}")
    if any(hours < 1 for hours in spec.deadline_hours.values()):
        raise AppealPolicyError("a deadline is at least one hour")
    return AppealPolicy(
        deadlines={k: timedelta(hours=h) for k, h in spec.deadline_hours.items()},
        min_cell=spec.statistics_min_cell,
    )


def check_ground(target: AppealTarget, ground: Ground, text: str | None) -> None:
    """The ground `other` carries a short text; no other ground carries any."""
    if ground is Ground.OTHER:
        if text is None or not text.strip() or len(text) > TEXT_MAX:
            raise InputRejected(
                "appeal.ground_invalid",
                Detail("`other` needs 1 to %(most)d characters", most=TEXT_MAX),
            )
    elif text is not None:
        raise InputRejected(
            "appeal.ground_invalid", Detail("only the ground `other` carries a text")
        )
    if ground is Ground.ORDER_EXPIRED and target is AppealTarget.EVIDENCE:
        raise InputRejected(
            "appeal.ground_invalid", Detail("`order_expired` is a ground against an order")
        )


def check_answer(
    outcome: Outcome, item: ItemKind, evidence: Sequence[str], ends_at: datetime | None
) -> None:
    """Each outcome takes exactly what it needs, and nothing else."""
    if outcome is Outcome.UPHELD:
        if not evidence:
            raise InputRejected("appeal.evidence_missing")
        if ends_at is not None:
            raise InputRejected("appeal.answer_invalid", Detail("an upheld appeal changes nothing"))
    elif outcome is Outcome.OVERTURNED:
        if evidence or ends_at is not None:
            raise InputRejected(
                "appeal.answer_invalid", Detail("overturned takes no evidence or end")
            )
    elif item is ItemKind.EVIDENCE:
        if not evidence or ends_at is not None:
            raise InputRejected(
                "appeal.answer_invalid",
                Detail("corrected evidence names the evidence replacing it"),
            )
    elif not evidence and ends_at is None:
        raise InputRejected(
            "appeal.answer_invalid",
            Detail("a corrected order is shorter (`ends_at`) or cites different evidence"),
        )
    if len(evidence) > CITATIONS_MAX or len(set(evidence)) != len(evidence):
        raise InputRejected(
            "appeal.citation_invalid", Detail("at most %(most)d, no repeats", most=CITATIONS_MAX)
        )


# --- public statistics --------------------------------------------------------------------


@dataclass(frozen=True)
class AppealFact:
    """One appeal as the statistics see it: no person, only its authority and its times."""

    authority_id: str
    status: AppealStatus
    filed_at: datetime
    answered_at: datetime | None
    escalated: bool


@dataclass(frozen=True)
class AuthorityStatistics:
    authority_id: str
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


def suppress(count: int, min_cell: int) -> int | str:
    """A count, or ``"<10"`` (for ``min_cell`` 10) when it is below the threshold."""
    return count if count >= min_cell else f"<{min_cell}"


def nearest_rank(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def authority_statistics(
    facts: Iterable[AppealFact], authorities: Iterable[str], min_cell: int
) -> list[AuthorityStatistics]:
    """Per authority: how many appeals were filed, how each ended, how fast it was answered.

    Times to answer count the answered appeals only (a lapse is counted as a lapse, not as a
    time); they are shown only when at least ``min_cell`` appeals were answered.
    """
    grouped: dict[str, list[AppealFact]] = {authority: [] for authority in authorities}
    for fact in facts:
        grouped.setdefault(fact.authority_id, []).append(fact)
    found = []
    for authority, items in sorted(grouped.items()):
        by_status = {status: 0 for status in AppealStatus}
        for item in items:
            by_status[item.status] += 1
        waits = [
            (item.answered_at - item.filed_at).total_seconds()
            for item in items
            if item.answered_at is not None
        ]
        shown = len(waits) >= min_cell
        counts = {str(status): count for status, count in by_status.items()}
        counts |= {"filed": len(items), "answered": len(waits)}
        counts["escalated"] = sum(item.escalated for item in items)
        # The row publishes two sums: filed over every status, answered over the three
        # outcomes; neither may give away a count hidden alone (domain/disclosure.py).
        answered = [str(s) for s in (AppealStatus.UPHELD, AppealStatus.OVERTURNED,
                                     AppealStatus.CORRECTED)]  # fmt: skip
        shown_counts = protect(
            counts,
            [("filed", [str(status) for status in AppealStatus]), ("answered", answered)],
            min_cell,
        )
        found.append(
            AuthorityStatistics(
                authority_id=authority,
                filed=shown_counts["filed"],
                open=shown_counts["open"],
                upheld=shown_counts["upheld"],
                overturned=shown_counts["overturned"],
                corrected=shown_counts["corrected"],
                lapsed=shown_counts["lapsed"],
                escalated=shown_counts["escalated"],
                answered=shown_counts["answered"],
                median_seconds_to_answer=round(statistics.median(waits)) if shown else None,
                p90_seconds_to_answer=round(nearest_rank(waits, 0.9)) if shown else None,
            )
        )
    return found
