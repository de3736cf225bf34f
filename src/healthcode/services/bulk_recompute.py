"""Recomputing many people at once: a designation, a rulebook edition coming into force.

The column-oriented evaluation (``domain.bulk``, exactly ``decide`` for every person) finds,
in one pass over the store, whose colour, rule or ``valid_until`` differs from what is stored;
only those go through the per-person derivation, which records their status changes exactly
as it does for any input write. Everyone else is left as they are, correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from healthcode.domain.bulk import evaluate
from healthcode.domain.bulk_plan import plan_load
from healthcode.domain.rulebook import Colour
from healthcode.services.derivation import Derivation
from healthcode.services.rulebooks import Rulebooks
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store import status as status_repo
from healthcode.store import tables as t
from healthcode.store.columns import load_columns
from healthcode.store.status import StatusChange


def everyone(conn: Connection) -> list[str]:
    """Every person the store knows anything about: evidence, orders or a stored status."""
    found: set[str] = set(conn.scalars(select(t.evidence.c.person_key).distinct()))
    found.update(conn.scalars(select(t.orders.c.person_key).distinct()))
    found.update(conn.scalars(select(t.person_status.c.person_key)))
    return sorted(found)


def changing(
    conn: Connection, rulebooks: Rulebooks, person_keys: Sequence[str], now: datetime
) -> list[str]:
    """The people whose stored status the bulk evaluation says is not their status at ``now``."""
    if not person_keys:
        return []
    rulebook = rulebooks.in_force(conn, now)
    designations = evidence_repo.all_designations(conn)
    set_asides = set_aside_repo.all_set_asides(conn)
    columns = load_columns(
        conn,
        plan=plan_load(rulebook, designations, since=now),
        persons=person_keys,
        set_asides=set_asides,
    )
    orders = [
        order
        for stored in orders_repo.for_people(conn, person_keys).values()
        for order in (o.as_input() for o in stored)
        if order is not None
    ]
    bulk = evaluate(
        columns, rulebook, now, designations=designations, orders=orders, set_asides=set_asides
    )
    stored = status_repo.current(conn, bulk.persons)
    found = []
    for position, key in enumerate(bulk.persons):
        before = stored.get(key)
        if before is None:
            if bulk.key_of(position) != (Colour.GREEN, rulebook.default_rule_id):
                found.append(key)
            continue
        due = before.valid_until is not None and before.valid_until <= now
        same = (before.colour, before.rule_id) == bulk.key_of(position)
        if due or not same or before.valid_until != bulk.valid_until_of(position):
            found.append(key)
    return found


def recompute_bulk(
    conn: Connection,
    derivation: Derivation,
    rulebooks: Rulebooks,
    person_keys: Sequence[str] | None,
    *,
    now: datetime,
    cause: str,
) -> list[StatusChange]:
    """Bring everyone (or ``person_keys``) up to ``now`` inside the caller's write transaction."""
    keys = everyone(conn) if person_keys is None else sorted(set(person_keys))
    return derivation.recompute(conn, changing(conn, rulebooks, keys, now), now=now, cause=cause)
