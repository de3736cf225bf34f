"""The entries the self-check expects for acts of officials: orders, co-signatures, refusals
and ends of orders, ends of designations, reads of people's records, rulebook proposals and
source key and jurisdiction changes, rebuilt from their rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise

from sqlalchemy import Connection, select

from healthcode.domain import jurisdiction_changes as jurisdictions
from healthcode.domain.designations import VOIDING
from healthcode.domain.log_entries import (
    access_entry,
    designation_end_entry,
    order_cosign_entry,
    order_end_entry,
    order_entry,
    order_refusal_entry,
    rulebook_proposal_entry,
)
from healthcode.domain.orders import REFUSAL_REASONS
from healthcode.domain.source_keys import cosign_entry, proposal_entry, withdrawal_entry
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.store import designations as designations_repo
from healthcode.store import jurisdiction_changes as jurisdiction_repo
from healthcode.store import orders as orders_repo
from healthcode.store import source_keys as source_keys_repo
from healthcode.store import tables as t

Expected = dict[int, tuple[str, bytes]]


def expected_acts(conn: Connection, secrets: PersonSecrets) -> tuple[Expected, list[str]]:
    """The entries of officials' acts, and the orders whose ends do not follow one another
    (each entry may match its row while the row's end in effect is not the last recorded)."""
    expected: Expected = {}
    problems: list[str] = []

    def staff(staff_id: str) -> bytes:
        return secrets.secret(staff_secret_key(staff_id))

    cosigns: dict[int, list[orders_repo.StoredOrder]] = defaultdict(list)
    refusals: dict[int, list[orders_repo.StoredOrder]] = defaultdict(list)
    for order in orders_repo.select_orders(conn, select(t.orders)):
        # Pending when issued: not in force yet, or put in force by a co-signature (which may
        # come at the same instant, so the times alone cannot tell).
        issued_pending = order.activated_at is None or order.cosign_log_index is not None
        expected[order.log_index] = ("order", order_entry(
            index=order.log_index, person_secret=secrets.secret(order.person_key),
            official_secret=staff(order.official_id), order_id=order.id, request_id=order.request_id,
            kind=order.kind, legal_basis=order.legal_basis, authority_id=order.authority_id,
            evidence=sorted(order.evidence), valid_from=order.valid_from, valid_until=order.valid_until,
            status="pending" if issued_pending else "active", recorded_at=order.recorded_at,
            extends=order.extends,
        ))  # fmt: skip
        if order.cosign_log_index is not None:
            cosigns[order.cosign_log_index].append(order)
        if order.end_reason in REFUSAL_REASONS:
            # Ended by its request's refusal, one entry for all its orders, rebuilt below.
            refusals[-1 if order.end_log_index is None else order.end_log_index].append(order)
            continue
        ends = list(order.earlier_ends)
        if order.end_log_index is not None:
            assert order.ended_at is not None and order.ended_recorded_at is not None
            ends.append(orders_repo.EarlierEnd(order.ended_at, order.ended_recorded_at, str(order.end_reason),
                                   str(order.ended_by), order.end_log_index))  # fmt: skip
        if not _successive(ends):
            problems.append(
                f"order {order.id}: its ends do not follow one another (the row holds the last"
                " recorded, and each end is earlier than the one it replaced)"
            )
        for end in ends:
            expected[end.log_index] = ("order_end", order_end_entry(
                index=end.log_index, official_secret=staff(end.ended_by), order_id=order.id,
                authority_id=order.authority_id, ended_at=end.ended_at, reason=end.reason,
                recorded_at=end.recorded_at,
            ))  # fmt: skip
    for index, orders in cosigns.items():
        first = orders[0]
        assert first.activated_at is not None
        expected[index] = ("order_cosign", order_cosign_entry(
            index=index, supervisor_secret=staff(str(first.cosigned_by)), request_id=first.request_id,
            authority_id=first.authority_id, orders=[o.id for o in orders], at=first.activated_at,
        ))  # fmt: skip
    for index, orders in refusals.items():
        entry, problem = _refusal(index, orders, staff)
        if entry is not None:
            expected[index] = entry
        if problem is not None:
            problems.append(problem)
    for row in conn.execute(select(t.access_log)):
        expected[row.log_index] = ("access", access_entry(
            index=row.log_index, person_secret=secrets.secret(row.person_key),
            accessor_secret=staff(row.accessor_id), accessor_role=row.accessor_role,
            authority_id=row.authority_id, purpose=row.purpose, at=row.at,
        ))  # fmt: skip
    for row in conn.execute(select(t.rulebook_proposals)):
        expected[row.log_index] = ("rulebook_proposal", rulebook_proposal_entry(
            index=row.log_index, official_secret=staff(row.proposed_by), version=row.version,
            digest=row.digest, authority_id=row.authority_id, effective_from=row.effective_from,
            proposed_at=row.proposed_at,
        ))  # fmt: skip
    ended = conn.execute(
        select(t.designations).where(t.designations.c.end_log_index.is_not(None))
    ).all()
    all_ends = designations_repo.ends_of(conn, ended)
    for row in ended:
        found = all_ends[row.id]
        if not _designation_ends_follow(found, row.activated_at):
            problems.append(
                f"designation {row.id}: its ends do not follow one another (the row holds the"
                " last recorded, each no later than the one it replaced, none after a"
                " withdrawal, and no co-signature after one)"
            )
        for stored in found:
            expected[stored.log_index] = ("designation_end", designation_end_entry(
                index=stored.log_index, official_secret=staff(stored.ended_by), designation_id=row.id,
                authority_id=row.authority_id, ended_at=stored.ended_at, reason=stored.reason,
                recorded_at=stored.recorded_at,
            ))  # fmt: skip
    expected.update(_key_changes(conn, staff))
    expected.update(_jurisdiction_changes(conn, staff))
    return expected, problems


def _refusal(
    index: int, orders: list[orders_repo.StoredOrder], staff: Callable[[str], bytes]
) -> tuple[tuple[str, bytes] | None, str | None]:
    """A refusal's entry, from the orders it ended; and a problem if their rows do not tell
    one refusal (one request and reason, one supervisor and instant, orders never in force,
    no other end): the entry is rebuilt from the first, so any other's row must agree."""
    first = orders[0]
    at = first.ended_recorded_at
    if index < 0 or at is None or first.ended_by is None:
        return None, f"order {first.id}: refused with no refusal entry recorded"
    one = {(o.request_id, o.authority_id, o.end_reason, o.ended_by, o.ended_at, o.ended_recorded_at)
           for o in orders}  # fmt: skip
    problem = None
    # Refused at the instant recorded (the entry's ``at``), and never in force before.
    if len(one) > 1 or any(
        o.ended_at != at or o.activated_at is not None or o.earlier_ends for o in orders
    ):
        problem = f"order refusal {index}: its orders' rows do not tell one refusal"
    return ("order_refusal", order_refusal_entry(
        index=index, supervisor_secret=staff(first.ended_by), request_id=first.request_id,
        authority_id=first.authority_id, reason=str(first.end_reason),
        orders=[o.id for o in orders], at=at,
    )), problem  # fmt: skip


def _key_changes(conn: Connection, staff: Callable[[str], bytes]) -> Expected:
    """Each key change's entries (that each source has the key and kinds its last co-signed
    change or registration logged is `selfcheck_sources`'s check)."""
    expected: Expected = {}
    for change in source_keys_repo.every(conn):
        proposer = None if change.proposed_by is None else staff(change.proposed_by)
        expected[change.log_index] = ("source_key_proposal", proposal_entry(
            change, index=change.log_index, proposer_secret=proposer,
        ))  # fmt: skip
        index, at = change.decision_log_index, change.decided_at
        if index is None or at is None:
            continue
        if change.status == "cosigned":
            expected[index] = ("source_key_cosign", cosign_entry(
                index=index, change_id=change.id, source_id=change.source_id,
                authority_id=change.authority_id, supervisor_secret=staff(str(change.decided_by)),
                at=at,
            ))  # fmt: skip
        else:
            by = None if change.decided_by is None else staff(change.decided_by)
            expected[index] = ("source_key_withdrawal", withdrawal_entry(
                index=index, change_id=change.id, source_id=change.source_id,
                authority_id=change.authority_id, withdrawn_by_secret=by, at=at,
            ))  # fmt: skip
    return expected


def _jurisdiction_changes(conn: Connection, staff: Callable[[str], bytes]) -> Expected:
    """Each jurisdiction change's entries (that each authority's jurisdiction is the one its
    last registration or co-signed change logged is `selfcheck_sources`'s check)."""
    expected: Expected = {}
    for change in jurisdiction_repo.every(conn):
        expected[change.log_index] = ("jurisdiction_proposal", jurisdictions.proposal_entry(change))
        index, at = change.decision_log_index, change.decided_at
        if index is None or at is None:
            continue
        if change.status == "cosigned":
            expected[index] = ("jurisdiction_cosign", jurisdictions.cosign_entry(
                index=index, change_id=change.id, authority_id=change.authority_id,
                supervisor_secret=staff(str(change.decided_by)), at=at,
            ))  # fmt: skip
        else:
            by = None if change.decided_by is None else staff(change.decided_by)
            expected[index] = ("jurisdiction_withdrawal", jurisdictions.withdrawal_entry(
                index=index, change_id=change.id, authority_id=change.authority_id,
                withdrawn_by_secret=by, at=at,
            ))  # fmt: skip
    return expected


def _successive(ends: list[orders_repo.EarlierEnd]) -> bool:
    """Ends in the order of their entries (the row's, the last, included last): each recorded
    no earlier than, and ending before, the one it replaced."""
    if [end.log_index for end in ends] != sorted(end.log_index for end in ends):
        return False
    return all(
        later.recorded_at >= earlier.recorded_at and later.ended_at < earlier.ended_at
        for earlier, later in pairwise(ends)
    )


def _designation_ends_follow(
    ends: list[designations_repo.StoredEnd], activated_at: datetime | None
) -> bool:
    """A designation's ends in the order of their entries (the row's last): each recorded no
    earlier than the one before and cutting its period further (a withdrawal as made in error
    may leave it where it was); nothing follows a withdrawal, made in error or while pending;
    and a designation withdrawn while pending was never co-signed after."""
    if [end.log_index for end in ends] != sorted(end.log_index for end in ends):
        return False
    if activated_at is None and len(ends) > 1:
        return False
    if activated_at is not None and activated_at > ends[0].recorded_at:
        return False
    return all(
        earlier.reason != VOIDING
        and later.recorded_at >= earlier.recorded_at
        and (
            later.ended_at < earlier.ended_at
            or (later.reason == VOIDING and later.ended_at == earlier.ended_at)
        )
        for earlier, later in pairwise(ends)
    )
