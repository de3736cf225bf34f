"""A supervisor's refusal of a pending bulk request: the second official says no, in one act.

The two-person rule (invariant 4) holds a bulk request's orders pending until a different
supervisor of the authority co-signs them. That supervisor may instead judge the request
unjustified (the Henan list of 1,317 depositors, DESIGN A1) and refuse it, for a reason from
`REFUSAL_REASONS`: every order of the request still pending ends now, by one ``order_refusal``
log entry written in the same transaction, and the official who asked sees the request refused
with its reason. A pending order counts for no one (`StoredOrder.as_input`), so no colour is
recomputed and no status change is written; each person named is told it was refused, as
they were told it was pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthcode.domain.log_entries import order_refusal_entry
from healthcode.domain.orders import REFUSAL_REASONS
from healthcode.errors import Detail, InputRejected, NotFound, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.notifications import Notice, Notifier
from healthcode.services.orders import Actor, staff_secret_key
from healthcode.store import orders as orders_repo
from healthcode.store.database import Database
from healthcode.store.orders import StoredOrder


@dataclass(frozen=True)
class RefusedRequest:
    request_id: str
    reason: str
    refused_by: str
    refused_at: datetime
    log_index: int
    orders: list[StoredOrder]  # every order of the request, as it stands after the refusal


class OrderRefusals:
    def __init__(self, db: Database, secrets: PersonSecrets, notifier: Notifier) -> None:
        self._db = db
        self._secrets = secrets
        self._notifier = notifier

    def refuse(
        self, actor: Actor, request_id: str, *, reason: str, now: datetime
    ) -> RefusedRequest:
        """Refuse a pending request, as co-signing it would be allowed: a supervisor of the
        request's authority who made none of its orders."""
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", Detail("only supervisors refuse a request"))
        if reason not in REFUSAL_REASONS:
            raise InputRejected(
                "request.malformed", f"reason must be one of {sorted(REFUSAL_REASONS)}"
            )
        with self._db.write() as conn:
            orders = orders_repo.by_request(conn, request_id)
            # Another authority's request is not found, as with a co-signature: its ids are
            # none of this supervisor's business.
            if not orders or orders[0].authority_id != actor.authority_id:
                raise NotFound("order.not_found")
            if any(order.official_id == actor.id for order in orders):
                raise Unauthorized("order.refuse_self")
            if any(order.refused for order in orders):
                raise InputRejected("order.request_refused")
            # One withdrawn on its own stays as it ended; co-signed or expired, none is left.
            pending = [order for order in orders if order.state(now) == "pending"]
            if not pending:
                raise InputRejected(
                    "order.not_pending", Detail("co-signed, withdrawn or expired already")
                )
            key = staff_secret_key(actor.id)
            secret = self._secrets.secret(key)
            self._secrets.escrow_missing(conn, [key], now)
            [index] = transparency.append(conn, [("order_refusal", lambda i: order_refusal_entry(
                index=i, supervisor_secret=secret, request_id=request_id,
                authority_id=actor.authority_id, reason=reason, orders=[o.id for o in pending],
                at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="order_refusal", now=now,
            )  # fmt: skip
            orders_repo.refuse_pending(
                conn, pending, reason=reason, refused_by=actor.id, at=now, log_index=index
            )
            self._notifier.notify(
                conn, [Notice(o.person_key, "order", "refused", now, subject=o.id) for o in pending]
            )
            return RefusedRequest(
                request_id, reason, actor.id, now, index, orders_repo.by_request(conn, request_id)
            )
