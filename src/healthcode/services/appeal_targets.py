"""What an appeal contests: the order or evidence record it names, or, against the colour, the
input that decides it (an order before evidence, each in the status's own order, skipping inputs
already under appeal), with the authority accountable for it, where the appeal is routed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.appeals import AppealTarget
from healthcode.domain.evidence import Evidence
from healthcode.errors import InputRejected, NotFound
from healthcode.services.derivation import Derivation
from healthcode.store import appeals as appeals_repo
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import registry as registry_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store.orders import StoredOrder


@dataclass(frozen=True)
class Contested:
    order: StoredOrder | None
    evidence: Evidence | None
    authority_id: str
    colour: str | None = None
    rule_id: str | None = None


def order_in_force(order: StoredOrder, now: datetime) -> bool:
    """Active at ``now``: counting, or to count, until its end (one recorded ahead included)."""
    return order.state(now) == "active"


def pair(ref: str) -> tuple[str, str]:
    """An evidence reference ``source/record`` as (source, record)."""
    source, _, record = ref.partition("/")
    return source, record


def set_aside(conn: Connection, item: Evidence, now: datetime) -> bool:
    return any(aside.covers(item, now) for aside in set_aside_repo.all_set_asides(conn))


def contested(
    conn: Connection,
    derivation: Derivation,
    person: str,
    target: AppealTarget,
    ref: str | None,
    now: datetime,
) -> Contested:
    """The input an appeal of ``person`` against ``target`` (``ref`` naming it) contests;
    refused if it is not theirs, no longer in force, or already under appeal."""
    if target is AppealTarget.COLOUR:
        if ref is not None:
            raise InputRejected("request.malformed", "an appeal against the colour names no ref")
        return _decisive(conn, derivation, person, now)
    if ref is None:
        raise InputRejected("request.malformed", f"an appeal against {target} needs ref")
    if target is AppealTarget.ORDER:
        order = orders_repo.by_id(conn, ref)
        if order is None or order.person_key != person:
            raise NotFound("appeal.not_theirs")
        if not order_in_force(order, now):
            raise InputRejected("appeal.target_inactive")
        found = Contested(order, None, order.authority_id)
    else:
        source, record = pair(ref)
        items = evidence_repo.evidence_by_refs(conn, [(source, record)]) if record else []
        if not items or items[0].person != person:
            raise NotFound("appeal.not_theirs")
        found = _evidence_item(conn, items[0], now)
    if _under_appeal(conn, person, found):
        raise InputRejected("appeal.duplicate")
    return found


def _evidence_item(conn: Connection, item: Evidence, now: datetime) -> Contested:
    if set_aside(conn, item, now):
        raise InputRejected("appeal.target_inactive")
    source = registry_repo.source(conn, item.source_id)
    assert source is not None  # evidence is only ever stored from registered sources
    return Contested(None, item, source.authority_id)


def _under_appeal(conn: Connection, person: str, contested: Contested) -> bool:
    order_id = contested.order.id if contested.order else None
    ref = (
        (contested.evidence.source_id, contested.evidence.record_id) if contested.evidence else None
    )
    return bool(appeals_repo.live_on_item(conn, person, order_id, ref))


def _decisive(conn: Connection, derivation: Derivation, person: str, now: datetime) -> Contested:
    """The input an appeal against the colour contests: its first order, else its first
    evidence record, that is not already under an open or upheld appeal."""
    status = derivation.status_at(conn, person, now)
    order_ids = [ref.removeprefix("order:") for ref in status.inputs if ref.startswith("order:")]
    refs = [
        pair(ref.removeprefix("evidence:")) for ref in status.inputs if ref.startswith("evidence:")
    ]
    candidates: list[Contested] = []
    for order_id in order_ids:
        order = orders_repo.by_id(conn, order_id)
        if order is not None:
            candidates.append(Contested(order, None, order.authority_id))
    found = {item.ref: item for item in evidence_repo.evidence_by_refs(conn, refs)}
    for source, record in refs:
        item = found.get(f"{source}/{record}")
        if item is not None:
            candidates.append(_evidence_item(conn, item, now))
    if not candidates:
        raise InputRejected("appeal.nothing_to_contest")
    for candidate in candidates:
        if not _under_appeal(conn, person, candidate):
            return Contested(
                candidate.order, candidate.evidence, candidate.authority_id,
                str(status.colour), status.rule_id,
            )  # fmt: skip
    raise InputRejected("appeal.duplicate")
