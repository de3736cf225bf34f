"""An appeal as the person (or their guardian) follows it: where it is, who holds it, the time
left, the evidence it contests and cites, and a log receipt for every step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from healthcode.domain.appeals import AppealStatus
from healthcode.errors import NotFound
from healthcode.services.appeal_targets import pair
from healthcode.services.explain import EvidenceView, Named
from healthcode.services.log_reader import CheckpointRef, LogReader
from healthcode.store import appeals as appeals_repo
from healthcode.store import evidence as evidence_repo
from healthcode.store import person_tokens as person_tokens_repo
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store.appeals import StoredAppeal, StoredCase


@dataclass(frozen=True)
class Receipt:
    step: str  # filed | answered | lapsed | escalated
    log_index: int
    at: datetime


@dataclass(frozen=True)
class AppealView:
    """An appeal as the person follows it: where it is, who holds it, the time left, the
    outcome with the evidence it cites, and a log receipt for every step."""

    appeal: StoredAppeal
    authority: Named
    where: str  # with_authority | awaiting_lapse | answered | lapsed | with_oversight
    time_left: timedelta | None
    contested: EvidenceView | None
    cited: list[EvidenceView]
    case: StoredCase | None
    receipts: list[Receipt]
    checkpoint: CheckpointRef | None  # the log checkpoint it was read at
    # Filed with a token the operator issued, not the filer's own: that use's entry
    # (services/person_token_uses.py); None otherwise.
    filed_with_operator_token: int | None = None


_DETAILS = ("method", "result", "presence", "venue_id", "quarantine_required", "vaccine", "dose",
            "port", "case_ref")  # fmt: skip


def visible(conn: Connection, caller: str) -> list[str]:
    """Whose appeals the caller sees: their own and their dependants'."""
    return [caller, *staff_repo.dependants(conn, caller)]


def mine(conn: Connection, caller: str, appeal_id: str) -> StoredAppeal:
    """The caller's (or a dependant's) appeal; any other is "not found", never "forbidden", so
    the answer does not tell whether someone else's appeal exists."""
    appeal = appeals_repo.by_id(conn, appeal_id)
    if appeal is None or appeal.person_key not in visible(conn, caller):
        raise NotFound("appeal.not_found")
    return appeal


def view(conn: Connection, log: LogReader, appeal: StoredAppeal, now: datetime) -> AppealView:
    names = registry_repo.authority_names(conn)
    case = appeals_repo.case_of(conn, appeal.id)
    refs = [pair(ref) for ref in appeal.cited]
    if appeal.evidence_ref is not None:
        refs.append(pair(appeal.evidence_ref))
    views = {item.ref: item for item in _evidence_views(conn, refs)}
    use = person_tokens_repo.use_of_act(conn, appeal.filed_by, appeal.log_index)
    if case is not None:
        where = "with_oversight"
    elif appeal.status == AppealStatus.LAPSED:
        where = "lapsed"
    elif not appeal.is_open:
        where = "answered"
    elif now < appeal.deadline:
        where = "with_authority"
    else:
        where = "awaiting_lapse"  # the deadline passed; the scheduler lapses it shortly
    return AppealView(
        appeal=appeal,
        authority=Named(appeal.authority_id, *names.get(appeal.authority_id, ("", ""))),
        where=where,
        time_left=max(appeal.deadline - now, timedelta(0)) if appeal.is_open else None,
        contested=views.get(appeal.evidence_ref) if appeal.evidence_ref else None,
        cited=[views[ref] for ref in appeal.cited if ref in views],
        case=case,
        receipts=receipts(appeal, case),
        checkpoint=log.checkpoint_at(conn),
        filed_with_operator_token=None if use is None else use.log_index,
    )


def receipts(appeal: StoredAppeal, case: StoredCase | None) -> list[Receipt]:
    """One log receipt for each step the appeal has taken."""
    steps = [Receipt("filed", appeal.log_index, appeal.filed_at)]
    if appeal.answer_log_index is not None and appeal.answered_at is not None:
        steps.append(Receipt("answered", appeal.answer_log_index, appeal.answered_at))
    if appeal.lapse_log_index is not None and appeal.lapsed_at is not None:
        steps.append(Receipt("lapsed", appeal.lapse_log_index, appeal.lapsed_at))
    if case is not None:
        steps.append(Receipt("escalated", case.log_index, case.opened_at))
    return steps


def _evidence_views(conn: Connection, refs: Sequence[tuple[str, str]]) -> list[EvidenceView]:
    items = evidence_repo.evidence_by_refs(conn, refs)
    areas = registry_repo.all_areas(conn)
    names = registry_repo.authority_names(conn)
    views = []
    for item in items:
        source = registry_repo.source(conn, item.source_id)
        authority = source.authority_id if source else ""
        area = areas.get(item.area)
        views.append(
            EvidenceView(
                ref=item.ref, kind=str(item.kind), occurred_at=item.occurred_at,
                received_at=item.received_at,
                area=Named(item.area, area.name_zh if area else "", area.name_en if area else ""),
                source_id=item.source_id, authority=Named(authority, *names.get(authority, ("", ""))),
                details={
                    name: value if isinstance(value, bool | int) else str(value)
                    for name in _DETAILS
                    if (value := getattr(item, name, None)) is not None
                },
            )
        )  # fmt: skip
    return views
