"""Orders by accountable officials: legal basis, per-person evidence, jurisdiction, expiry,
the two-person rule for bulk orders, and lifting, shortening or extending them.

An order never sets a colour: while active it is an input the rulebook reads (invariant 4).
"""

from __future__ import annotations

import secrets as token_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain import areas
from healthcode.domain.appeals import AppealStatus
from healthcode.domain.legal import LegalBasis, OrderPolicy
from healthcode.domain.log_entries import order_cosign_entry, order_end_entry, order_entry
from healthcode.domain.orders import START_TOLERANCE, OrderKind
from healthcode.domain.status import SetAside
from healthcode.errors import Detail, InputRejected, NotFound, Unauthorized
from healthcode.services import crashpoints, staff_tokens, transparency
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.escrow import PersonSecrets
from healthcode.services.idempotency import Keyed
from healthcode.services.notifications import Notice, Notifier
from healthcode.store import appeals as appeals_repo
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store.database import Database
from healthcode.store.orders import StoredOrder

# Why an official lifts or shortens an order. An appeal's outcome ends one with a reason of its
# own (`APPEAL_REASONS`), which only the appeal records: an official who could write it would
# misstate, in the log, why an order ended.
END_REASONS = frozenset({"no_longer_needed", "issued_in_error", "shortened"})
APPEAL_REASONS = frozenset({"appeal_overturned", "appeal_lapsed", "appeal_corrected"})
ISSUERS = frozenset({"official", "supervisor"})
# An order whose appeal the person won (overturned, or lapsed on silence) cannot be re-issued on
# the same evidence, whether the appeal ended it or it had ended already: a new order needs new
# evidence (invariant 8, docs/appeals.md).
APPEALS_WON = frozenset({AppealStatus.OVERTURNED.value, AppealStatus.LAPSED.value})


@dataclass(frozen=True)
class Actor:
    """An official acting for their authority (from the authenticated caller)."""

    id: str
    role: str
    authority_id: str
    jurisdiction: frozenset[str]
    # Set when the caller's token is one the operator issued (services/staff_tokens.py): the
    # acts of `domain.staff_tokens.ACTS` it makes are logged as made with it.
    operator_token: str | None = None


@dataclass(frozen=True)
class PersonEvidence:
    person: str
    evidence: tuple[str, ...]  # "source/record"


@dataclass(frozen=True)
class OrderRequest:
    kind: OrderKind
    legal_basis: str
    persons: tuple[PersonEvidence, ...]
    valid_until: datetime
    valid_from: datetime | None = None
    extends: str | None = None


@dataclass(frozen=True)
class IssuedOrders:
    request_id: str
    pending: bool
    orders: list[StoredOrder]


def staff_secret_key(staff_id: str) -> str:
    return f"staff:{staff_id}"


class Orders:
    def __init__(
        self, db: Database, derivation: Derivation, secrets: PersonSecrets,
        bases: dict[str, LegalBasis], policy: OrderPolicy, notifier: Notifier,
    ) -> None:  # fmt: skip
        self._db = db
        self._notifier = notifier
        self._derivation = derivation
        self._secrets = secrets
        self.bases = bases
        self.policy = policy

    def issue(
        self, actor: Actor, request: OrderRequest, *, now: datetime,
        idempotency_key: str | None = None,
    ) -> IssuedOrders:  # fmt: skip
        """Issue the orders; with ``idempotency_key`` (services/idempotency.py) a retry of the
        same request answers with the orders the first one issued, and writes nothing."""
        keyed = Keyed.of(actor.id, idempotency_key, "orders", request)
        with self._db.write() as conn:
            earlier = keyed.earlier(conn) if keyed else None
            if earlier is not None:
                orders = orders_repo.by_request(conn, earlier)
                return IssuedOrders(earlier, any(o.status == "pending" for o in orders), orders)
            issued = self.issue_in(conn, actor, request, now=now)
            if keyed:
                keyed.remember(conn, issued.request_id, now)
            crashpoints.reach("orders.before_commit")
        crashpoints.reach("orders.after_commit")
        return issued

    def issue_in(
        self, conn: Connection, actor: Actor, request: OrderRequest, *, now: datetime
    ) -> IssuedOrders:
        """Issue orders inside the caller's write transaction (also used by appeals)."""
        if actor.role not in ISSUERS:
            raise Unauthorized("auth.forbidden", Detail("only officials issue orders"))
        basis = self.bases.get(request.legal_basis)
        if basis is None or request.kind not in basis.orders:
            raise InputRejected("order.basis_invalid")
        valid_from = request.valid_from or now
        if valid_from < now - START_TOLERANCE or request.valid_until <= valid_from:
            raise InputRejected("order.invalid_period")
        if request.valid_until - valid_from > self.policy.max_duration[request.kind]:
            raise InputRejected(
                "order.expiry_too_long",
                Detail("at most %(days)d days", days=self.policy.max_duration[request.kind].days),
            )
        if not request.persons:
            raise InputRejected("order.evidence_missing", Detail("no person is named"))
        if len({named.person for named in request.persons}) < len(request.persons):
            # Two orders of one kind for one person at once: one is all the rules read.
            raise InputRejected("request.malformed", Detail("a person is named twice"))
        previous = self._extended(conn, actor, request, now)
        asides = set_aside_repo.all_set_asides(conn)
        earlier = orders_repo.for_people(conn, [named.person for named in request.persons])
        # The orders of these people whose appeal the person won, read once for all of them.
        won = {
            appeal.order_id
            for appeal in (appeals_repo.of_people(conn, earlier) if earlier else [])
            if appeal.status in APPEALS_WON
        }
        for named in request.persons:
            self._check_evidence(conn, actor, basis, request.kind, named, previous)
            self._check_not_appealed_away(
                conn, named, asides, earlier.get(named.person, []), won, now
            )
        touched = orders_repo.people_touched(
            conn, actor.authority_id, now - self.policy.bulk_window
        )
        people = {named.person for named in request.persons}
        pending = len(touched | people) > self.policy.bulk_threshold_people
        request_id = "req-" + token_secrets.token_hex(8)
        orders = self._write(conn, actor, request, request_id, valid_from, pending, now)
        self._notify(conn, orders, "pending" if pending else "issued", now)
        if not pending:
            self._derivation.recompute(conn, people, now=now, cause=Cause.ORDER)
        return IssuedOrders(request_id, pending, orders)

    def _extended(
        self, conn: Connection, actor: Actor, request: OrderRequest, now: datetime
    ) -> StoredOrder | None:
        if request.extends is None:
            return None
        previous = orders_repo.by_id(conn, request.extends)
        if previous is None or previous.authority_id != actor.authority_id:
            raise NotFound("order.not_found")
        if (
            previous.state(now) != "active"
            or len(request.persons) != 1
            or request.persons[0].person != previous.person_key
        ):
            raise InputRejected(
                "order.not_active", Detail("an extension continues one active order of one person")
            )
        return previous

    @staticmethod
    def _check_not_appealed_away(
        conn: Connection, named: PersonEvidence, asides: list[SetAside],
        earlier: list[StoredOrder], won: set[str | None], now: datetime,
    ) -> None:  # fmt: skip
        """Evidence set aside for the person (an appeal, a revoked source) cites nothing, and
        the evidence of an order whose appeal the person won (``won``) cannot carry a new order
        on its own."""
        if asides:
            pairs = [(ref.partition("/")[0], ref.partition("/")[2]) for ref in named.evidence]
            for item in evidence_repo.evidence_by_refs(conn, pairs):
                if any(aside.covers(item, now) for aside in asides):
                    raise InputRejected("order.evidence_set_aside", Detail("%(ref)s", ref=item.ref))
        for order in earlier:
            if order.id in won and set(named.evidence) <= set(order.evidence):
                raise InputRejected(
                    "order.evidence_set_aside", Detail("an appeal ended %(order)s", order=order.id)
                )

    def _check_evidence(
        self, conn: Connection, actor: Actor, basis: LegalBasis, kind: OrderKind,
        named: PersonEvidence, previous: StoredOrder | None,
    ) -> None:  # fmt: skip
        if not named.evidence:
            raise InputRejected("order.evidence_missing")
        pairs = []
        for ref in named.evidence:
            source, _, record = ref.partition("/")
            if not source or not record:
                raise InputRejected("order.evidence_unknown", Detail("%(ref)s", ref=ref))
            pairs.append((source, record))
        found = {item.ref: item for item in evidence_repo.evidence_by_refs(conn, pairs)}
        requirements = basis.orders[kind]
        for ref in named.evidence:
            item = found.get(ref)
            if item is None:
                raise InputRejected("order.evidence_unknown", Detail("%(ref)s", ref=ref))
            # Outside the jurisdiction first: whose a record there is, and what it says, is
            # none of this official's business.
            if not areas.contained_in_any(actor.jurisdiction, item.area):
                raise InputRejected("order.outside_jurisdiction", Detail("%(ref)s", ref=ref))
            if item.person != named.person:
                raise InputRejected(
                    "order.evidence_not_theirs", Detail("%(ref)s", ref=ref)
                )  # A4: no relative's evidence
            if not any(need.met_by(item) for need in requirements):
                raise InputRejected("order.evidence_wrong_kind", Detail("%(ref)s", ref=ref))
        if previous is not None and not set(named.evidence) - set(previous.evidence):
            raise InputRejected("order.extension_needs_new_evidence")

    def _write(
        self, conn: Connection, actor: Actor, request: OrderRequest, request_id: str,
        valid_from: datetime, pending: bool, now: datetime,
    ) -> list[StoredOrder]:  # fmt: skip
        status = "pending" if pending else "active"
        official_secret = self._secrets.secret(staff_secret_key(actor.id))
        self._secrets.escrow_missing(
            conn, [staff_secret_key(actor.id), *(p.person for p in request.persons)], now
        )
        ids = ["ord-" + token_secrets.token_hex(8) for _ in request.persons]

        def builder(order_id: str, named: PersonEvidence) -> transparency.EntryBuilder:
            person_secret = self._secrets.secret(named.person)
            return lambda index: order_entry(
                index=index, person_secret=person_secret, official_secret=official_secret,
                order_id=order_id, request_id=request_id, kind=str(request.kind),
                legal_basis=request.legal_basis, authority_id=actor.authority_id,
                evidence=sorted(named.evidence), valid_from=valid_from,
                valid_until=request.valid_until, status=status, recorded_at=now,
                extends=request.extends,
            )  # fmt: skip

        indices = transparency.append(
            conn,
            [
                ("order", builder(oid, named))
                for oid, named in zip(ids, request.persons, strict=True)
            ],
            now,
        )
        staff_tokens.record_uses(
            conn, actor.operator_token, staff_id=actor.id, act_indices=indices, act="order",
            now=now,
        )  # fmt: skip
        rows, cited = [], []
        for order_id, named, index in zip(ids, request.persons, indices, strict=True):
            rows.append({
                "id": order_id, "request_id": request_id, "authority_id": actor.authority_id,
                "official_id": actor.id, "kind": str(request.kind), "legal_basis": request.legal_basis,
                "person_key": named.person, "valid_from": valid_from, "valid_until": request.valid_until,
                "status": status, "recorded_at": now, "activated_at": None if pending else now,
                "extends": request.extends, "log_index": index,
            })  # fmt: skip
            for ref in sorted(set(named.evidence)):
                source, _, record = ref.partition("/")
                cited.append(
                    {
                        "order_id": order_id,
                        "source_id": source,
                        "record_id": record,
                        "person_key": named.person,
                    }
                )
        orders_repo.insert(conn, rows, cited)
        return orders_repo.by_request(conn, request_id)

    def cosign(self, actor: Actor, request_id: str, *, now: datetime) -> list[StoredOrder]:
        """A different supervisor of the same authority co-signs a pending bulk request."""
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", Detail("only supervisors co-sign"))
        with self._db.write() as conn:
            orders = orders_repo.by_request(conn, request_id)
            if not orders or orders[0].authority_id != actor.authority_id:
                raise NotFound("order.not_found")
            if any(order.official_id == actor.id for order in orders):
                raise Unauthorized("order.cosign_self")
            if any(order.refused for order in orders):  # services/order_refusals.py
                raise InputRejected("order.request_refused")
            # The request's orders still pending: one withdrawn, or all expired before anyone
            # co-signed, are not put in force.
            orders = [order for order in orders if order.state(now) == "pending"]
            if not orders:
                raise InputRejected("order.not_pending")
            secret = self._secrets.secret(staff_secret_key(actor.id))
            self._secrets.escrow_missing(conn, [staff_secret_key(actor.id)], now)
            [index] = transparency.append(conn, [("order_cosign", lambda i: order_cosign_entry(
                index=i, supervisor_secret=secret, request_id=request_id,
                authority_id=actor.authority_id, orders=[o.id for o in orders], at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="order_cosign", now=now,
            )  # fmt: skip
            for order in orders:
                orders_repo.update(
                    conn,
                    order.id,
                    status="active",
                    activated_at=now,
                    cosigned_by=actor.id,
                    cosign_log_index=index,
                )
            self._notify(conn, orders, "activated", now)
            self._derivation.recompute(
                conn, {o.person_key for o in orders}, now=now, cause=Cause.ORDER
            )
            return orders_repo.by_request(conn, request_id)

    def end(
        self, actor: Actor, order_id: str, *, reason: str, ends_at: datetime | None, now: datetime
    ) -> StoredOrder:
        """Lift an order now, or shorten it to ``ends_at`` (never later than it runs), for one
        of `END_REASONS`."""
        if actor.role not in ISSUERS:
            raise Unauthorized("auth.forbidden", Detail("only officials lift orders"))
        if reason not in END_REASONS:
            raise InputRejected("request.malformed", f"reason must be one of {sorted(END_REASONS)}")
        with self._db.write() as conn:
            order = orders_repo.by_id(conn, order_id)
            if order is None or order.authority_id != actor.authority_id:
                raise NotFound("order.not_found")
            return self.end_in(
                conn, order, actor_id=actor.id, reason=reason, ends_at=ends_at, now=now,
                operator_token=actor.operator_token,
            )  # fmt: skip

    def end_in(
        self, conn: Connection, order: StoredOrder, *, actor_id: str, reason: str,
        ends_at: datetime | None, now: datetime, operator_token: str | None = None,
    ) -> StoredOrder:  # fmt: skip
        """End an order inside the caller's write transaction (also used by appeals): an
        active one now or at ``ends_at``, before the end it has (it may be shortened again,
        lifted, or ended by an appeal until then); a pending one is withdrawn, now.
        ``operator_token``: the actor's `Actor.operator_token`."""
        if reason not in END_REASONS | APPEAL_REASONS:
            raise ValueError(f"an order ends for a reason of the closed list, not {reason!r}")
        state = order.state(now)
        if state == "ended":
            raise InputRejected("order.not_active")
        if state == "pending" and ends_at is not None and ends_at > now:
            raise InputRejected("order.invalid_period", Detail("a pending order is withdrawn now"))
        end = max(now, ends_at) if ends_at is not None else now
        if end >= order.ends:
            raise InputRejected("order.invalid_period", Detail("an order can only be shortened"))
        secret = self._secrets.secret(staff_secret_key(actor_id))
        self._secrets.escrow_missing(conn, [staff_secret_key(actor_id)], now)
        [index] = transparency.append(conn, [("order_end", lambda i: order_end_entry(
            index=i, official_secret=secret, order_id=order.id, authority_id=order.authority_id,
            ended_at=end, reason=reason, recorded_at=now,
        ))], now)  # fmt: skip
        staff_tokens.record_use(
            conn, operator_token, staff_id=actor_id, act_index=index, act="order_end", now=now
        )
        orders_repo.record_end(
            conn, order, ended_at=end, recorded_at=now, reason=reason, ended_by=actor_id,
            log_index=index,
        )  # fmt: skip
        self._notify(conn, [order], "ended", now)
        self._derivation.recompute(conn, [order.person_key], now=now, cause=Cause.ORDER)
        found = orders_repo.by_id(conn, order.id)
        assert found is not None
        return found

    def _notify(
        self, conn: Connection, orders: Sequence[StoredOrder], step: str, now: datetime
    ) -> None:
        self._notifier.notify(
            conn, [Notice(o.person_key, "order", step, now, subject=o.id) for o in orders]
        )

    def of_authority(
        self, actor: Actor, now: datetime, state: str | None = None
    ) -> list[StoredOrder]:
        """The authority's orders; with ``state``, those in it at ``now`` (`ORDER_STATES`)."""
        with self._db.read() as conn:
            return orders_repo.of_authority(conn, actor.authority_id, now, state)
