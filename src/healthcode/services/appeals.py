"""Appeals that end (invariant 8; the seed's A5 and A7): filed by the person or their guardian
against one input of their status, routed to the authority accountable for that input,
answered with a closed outcome before a deadline, or lapsed by the scheduler on silence.

Routing: an order's appeal goes to the authority that issued it; an evidence record's to the
authority that registered its source; an appeal against the colour is resolved when filed to
the input that decides it (an order before evidence, each in the status's own order, skipping
inputs already under appeal) and routed like an appeal against that input.

Every step appends its log entry in the same transaction as its rows; the person's colour is
only ever recomputed by the derivation, from the orders and set-asides the outcome leaves.
"""

from __future__ import annotations

import secrets as token_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.appeal_entries import (
    appeal_answered_entry,
    appeal_escalated_entry,
    appeal_filed_entry,
    appeal_lapsed_entry,
)
from healthcode.domain.appeals import (
    AppealPolicy,
    AppealStatus,
    AppealTarget,
    AuthorityStatistics,
    Ground,
    ItemKind,
    Outcome,
    authority_statistics,
    check_answer,
    check_ground,
)
from healthcode.domain.orders import OrderKind
from healthcode.errors import Detail, InputRejected, NotFound, Unauthorized
from healthcode.services import (
    appeal_targets,
    appeal_views,
    crashpoints,
    person_token_uses,
    staff_tokens,
    transparency,
)
from healthcode.services.appeal_targets import order_in_force, pair
from healthcode.services.appeal_views import AppealView
from healthcode.services.derivation import Derivation
from healthcode.services.escrow import PersonSecrets
from healthcode.services.explain import Named
from healthcode.services.idempotency import Keyed
from healthcode.services.log_reader import LogReader
from healthcode.services.notifications import Notice, Notifier
from healthcode.services.orders import Actor, OrderRequest, Orders, PersonEvidence, staff_secret_key
from healthcode.store import appeals as appeals_repo
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import registry as registry_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store import staff as staff_repo
from healthcode.store.appeals import StoredAppeal, StoredCase
from healthcode.store.database import Database

ANSWERERS = frozenset({"official", "supervisor"})
# Who "ends" an order that lapsed: no official did; the entry names the authority it lapsed on.
LAPSE_ACTOR = "system:appeal-lapse"
APPEAL_CAUSE = "appeal"  # the cause recorded with a status change an appeal's outcome made
_BATCH = 200


@dataclass(frozen=True)
class AppealRequest:
    target: AppealTarget
    ground: Ground
    ref: str | None = None  # an order id, or "source/record"; none for the colour
    text: str | None = None  # only with the ground `other`
    on_behalf_of: str | None = None  # a dependant's person key, for their guardian


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    evidence: tuple[str, ...] = ()  # upheld: supporting; corrected: the replacement
    ends_at: datetime | None = None  # corrected: the order's new, earlier end


class Appeals:
    def __init__(
        self, db: Database, derivation: Derivation, secrets: PersonSecrets, orders: Orders,
        log: LogReader, policy: AppealPolicy, notifier: Notifier,
    ) -> None:  # fmt: skip
        self._db = db
        self._notifier = notifier
        self._derivation = derivation
        self._secrets = secrets
        self._orders = orders
        self._log = log
        self.policy = policy

    # --- the person ------------------------------------------------------------------------

    def file(
        self, filer: str, request: AppealRequest, *, now: datetime,
        idempotency_key: str | None = None, operator_token: str | None = None,
    ) -> StoredAppeal:  # fmt: skip
        """File an appeal for oneself, or (``on_behalf_of``) for a dependant; with
        ``idempotency_key`` (services/idempotency.py) a retry of the same request answers with
        the appeal the first one filed, and writes nothing. ``operator_token``: the filer's
        token's id if the operator issued it (services/person_token_uses.py)."""
        person = request.on_behalf_of or filer
        check_ground(request.target, request.ground, request.text)
        keyed = Keyed.of(filer, idempotency_key, "appeals", request)
        with self._db.write() as conn:
            earlier = keyed.earlier(conn) if keyed else None
            if earlier is not None:
                return appeal_views.mine(conn, filer, earlier)
            if person != filer and person not in staff_repo.dependants(conn, filer):
                raise Unauthorized("appeal.not_guardian")
            contested = appeal_targets.contested(
                conn, self._derivation, person, request.target, request.ref, now
            )
            appeal_id = "apl-" + token_secrets.token_hex(8)
            deadline = self.policy.deadline(request.target, now)
            secret = self._secrets.secret(person)
            self._secrets.escrow_missing(conn, [person], now)
            order_id = contested.order.id if contested.order else None
            evidence_ref = contested.evidence.ref if contested.evidence else None
            [index] = transparency.append(conn, [("appeal_filed", lambda i: appeal_filed_entry(
                index=i, person_secret=secret, appeal_id=appeal_id, by_guardian=person != filer,
                target=str(request.target), order_id=order_id, evidence=evidence_ref,
                colour=contested.colour, rule_id=contested.rule_id, ground=str(request.ground),
                text=request.text, authority_id=contested.authority_id, filed_at=now, deadline=deadline,
            ))], now)  # fmt: skip
            person_token_uses.record_uses(conn, operator_token, person_key=filer,
                                          act_indices=[index], act="appeal_filed", now=now)  # fmt: skip
            appeals_repo.insert(conn, {
                "id": appeal_id, "person_key": person, "filed_by": filer, "target": str(request.target),
                "order_id": order_id,
                "source_id": contested.evidence.source_id if contested.evidence else None,
                "record_id": contested.evidence.record_id if contested.evidence else None,
                "colour": contested.colour, "rule_id": contested.rule_id, "ground": str(request.ground),
                "text": request.text, "authority_id": contested.authority_id, "filed_at": now,
                "deadline": deadline, "log_index": index, "status": AppealStatus.OPEN.value,
            })  # fmt: skip
            self._notify(conn, person, appeal_id, "filed", now)
            if keyed:
                keyed.remember(conn, appeal_id, now)
            found = appeals_repo.by_id(conn, appeal_id)
            crashpoints.reach("appeals.before_commit")
        crashpoints.reach("appeals.after_commit")
        assert found is not None
        return found

    def of_person(self, caller: str, *, now: datetime) -> list[AppealView]:
        """The caller's appeals and their dependants', the newest first."""
        with self._db.read() as conn:
            found = appeals_repo.of_people(conn, appeal_views.visible(conn, caller))
            return [appeal_views.view(conn, self._log, appeal, now) for appeal in found]

    def view(self, caller: str, appeal_id: str, *, now: datetime) -> AppealView:
        with self._db.read() as conn:
            appeal = appeal_views.mine(conn, caller, appeal_id)
            return appeal_views.view(conn, self._log, appeal, now)

    def receipt(self, caller: str, appeal_id: str, log_index: int) -> str:
        """A tlog-proof for one step of the caller's appeal, once it is in a checkpoint."""
        with self._db.read() as conn:
            appeal = appeal_views.mine(conn, caller, appeal_id)
            steps = appeal_views.receipts(appeal, appeals_repo.case_of(conn, appeal.id))
        if log_index not in {step.log_index for step in steps}:
            raise NotFound("log.not_found", "no step of this appeal has that index")
        proof = self._log.receipt(log_index)
        if proof is None:
            raise NotFound(
                "log.not_found", Detail("not yet in a signed checkpoint; try again in a second")
            )
        return proof

    def escalate(
        self, caller: str, appeal_id: str, *, now: datetime, operator_token: str | None = None
    ) -> StoredCase:
        """Take an upheld appeal to oversight: a case opens (oversight sets no colour either).
        ``operator_token`` as for `file`."""
        with self._db.write() as conn:
            appeal = appeal_views.mine(conn, caller, appeal_id)
            if appeal.status != AppealStatus.UPHELD:
                raise InputRejected("appeal.not_upheld")
            if appeals_repo.case_of(conn, appeal.id) is not None:
                raise InputRejected("appeal.already_escalated")
            case_id = "case-" + token_secrets.token_hex(8)
            secret = self._secrets.secret(appeal.person_key)
            [index] = transparency.append(conn, [("appeal_escalated", lambda i: appeal_escalated_entry(
                index=i, person_secret=secret, appeal_id=appeal.id, case_id=case_id,
                authority_id=appeal.authority_id, at=now,
            ))], now)  # fmt: skip
            person_token_uses.record_uses(conn, operator_token, person_key=caller,
                                          act_indices=[index], act="appeal_escalated", now=now)  # fmt: skip
            appeals_repo.insert_case(conn, {
                "id": case_id, "appeal_id": appeal.id, "person_key": appeal.person_key,
                "status": "open", "opened_at": now, "log_index": index,
            })  # fmt: skip
            self._notify(conn, appeal.person_key, appeal.id, "escalated", now)
            case = appeals_repo.case_of(conn, appeal.id)
        assert case is not None
        return case

    # --- the accountable authority ---------------------------------------------------------

    def queue(self, actor: Actor) -> list[StoredAppeal]:
        """The open appeals the actor's authority holds, the nearest deadline first."""
        if actor.role not in ANSWERERS:
            raise Unauthorized("auth.forbidden")
        with self._db.read() as conn:
            return appeals_repo.queue(conn, actor.authority_id)

    def answer(
        self, actor: Actor, appeal_id: str, answer: Answer, *, now: datetime
    ) -> StoredAppeal:
        """Answer with one closed outcome, before the deadline, for the authority holding it."""
        if actor.role not in ANSWERERS:
            raise Unauthorized("auth.forbidden", Detail("only officials answer appeals"))
        with self._db.write() as conn:
            appeal = appeals_repo.by_id(conn, appeal_id)
            if appeal is None:
                raise NotFound("appeal.not_found")
            if appeal.authority_id != actor.authority_id:
                raise Unauthorized("appeal.wrong_authority")
            if not appeal.is_open:
                raise InputRejected("appeal.closed")
            if now >= appeal.deadline:
                raise InputRejected("appeal.deadline_passed")
            check_answer(answer.outcome, appeal.item, answer.evidence, answer.ends_at)
            self._check_citations(conn, appeal, answer.evidence, now)
            # Told first: the order and colour it changes follow, in this transaction.
            self._notify(conn, appeal.person_key, appeal.id, str(answer.outcome), now)
            ends_at, replacement = None, None
            if appeal.item is ItemKind.ORDER:
                ends_at, replacement = self._answer_order(conn, actor, appeal, answer, now)
            set_aside = appeal.item is ItemKind.EVIDENCE and answer.outcome is not Outcome.UPHELD
            person_secret = self._secrets.secret(appeal.person_key)
            official_secret = self._secrets.secret(staff_secret_key(actor.id))
            self._secrets.escrow_missing(conn, [staff_secret_key(actor.id)], now)
            [index] = transparency.append(conn, [("appeal_answered", lambda i: appeal_answered_entry(
                index=i, person_secret=person_secret, official_secret=official_secret,
                appeal_id=appeal.id, authority_id=appeal.authority_id, outcome=str(answer.outcome),
                evidence=answer.evidence, ends_at=ends_at, replacement_order=replacement,
                set_aside=set_aside, answered_at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="appeal_answered", now=now,
            )  # fmt: skip
            appeals_repo.insert_citations(conn, appeal.id, appeal.person_key, answer.evidence)
            appeals_repo.update(
                conn, appeal.id, status=str(answer.outcome), answered_at=now, answered_by=actor.id,
                ends_at=ends_at, replacement_order_id=replacement, answer_log_index=index,
            )  # fmt: skip
            if set_aside:
                self._set_aside_for_person(conn, appeal, f"appeal_{answer.outcome}", index, now)
            found = appeals_repo.by_id(conn, appeal.id)
        assert found is not None
        return found

    def _check_citations(
        self, conn: Connection, appeal: StoredAppeal, refs: Sequence[str], now: datetime
    ) -> None:
        pairs = [pair(ref) for ref in refs]
        if any(not source or not record for source, record in pairs):
            raise InputRejected(
                "appeal.citation_invalid", Detail("evidence is named source/record")
            )
        found = {item.ref: item for item in evidence_repo.evidence_by_refs(conn, pairs)}
        for ref in refs:
            item = found.get(ref)
            if (
                item is None
                or item.person != appeal.person_key
                or appeal_targets.set_aside(conn, item, now)
            ):
                raise InputRejected("appeal.citation_invalid", Detail("%(ref)s", ref=ref))
            if ref == appeal.evidence_ref:
                raise InputRejected(
                    "appeal.citation_invalid", Detail("the contested record itself")
                )

    def _answer_order(
        self, conn: Connection, actor: Actor, appeal: StoredAppeal, answer: Answer, now: datetime
    ) -> tuple[datetime | None, str | None]:
        """Lift, shorten or replace the contested order; returns (new end, replacement id)."""
        if answer.outcome is Outcome.UPHELD:
            return None, None
        assert appeal.order_id is not None
        order = orders_repo.by_id(conn, appeal.order_id)
        assert order is not None
        if answer.outcome is Outcome.OVERTURNED:
            if order_in_force(order, now):  # already over: the outcome is recorded all the same
                self._orders.end_in(conn, order, actor_id=actor.id, reason="appeal_overturned",
                                    ends_at=None, now=now,
                                    operator_token=actor.operator_token)  # fmt: skip
            return None, None
        if not order_in_force(order, now):
            raise InputRejected(
                "appeal.target_inactive", Detail("the order is over; nothing to correct")
            )
        replacement = None
        if answer.evidence:
            if set(answer.evidence) == set(order.evidence):
                raise InputRejected(
                    "appeal.answer_invalid", Detail("a replacement cites other evidence")
                )
            until = answer.ends_at or order.ends
            if until > order.ends:
                raise InputRejected(
                    "appeal.answer_invalid", Detail("a correction never lengthens an order")
                )
            issued = self._orders.issue_in(conn, actor, OrderRequest(
                kind=OrderKind(order.kind), legal_basis=order.legal_basis,
                persons=(PersonEvidence(appeal.person_key, tuple(answer.evidence)),),
                valid_until=until,
            ), now=now)  # fmt: skip
            replacement = issued.orders[0].id
            self._orders.end_in(conn, order, actor_id=actor.id, reason="appeal_corrected",
                                ends_at=None, now=now,
                                operator_token=actor.operator_token)  # fmt: skip
            return answer.ends_at, replacement
        assert answer.ends_at is not None
        if answer.ends_at >= order.ends:
            raise InputRejected(
                "appeal.answer_invalid", Detail("a correction ends the order earlier")
            )
        ended = self._orders.end_in(conn, order, actor_id=actor.id, reason="appeal_corrected",
                                    ends_at=answer.ends_at, now=now,
                                    operator_token=actor.operator_token)  # fmt: skip
        return ended.ended_at, None

    def _set_aside_for_person(
        self, conn: Connection, appeal: StoredAppeal, reason: str, index: int, now: datetime
    ) -> None:
        assert appeal.source_id is not None
        set_aside_repo.insert(
            conn, person_key=appeal.person_key, source_id=appeal.source_id,
            record_id=appeal.record_id, effective_at=now, recorded_at=now, reason=reason,
            log_index=index,
        )  # fmt: skip
        self._derivation.recompute(conn, [appeal.person_key], now=now, cause=APPEAL_CAUSE)

    # --- the scheduler ---------------------------------------------------------------------

    def lapse_due(self, now: datetime) -> int:
        """Lapse every open appeal whose deadline has passed; returns how many lapsed.

        The contested order ends now (reason ``appeal_lapsed``) or the contested evidence is set
        aside for the person from now on; the colour is recomputed; the lapse is logged as "no
        answer in time" against the authority. Each appeal lapses in its own transaction.
        """
        lapsed = 0
        while True:
            with self._db.read() as conn:
                due = appeals_repo.due(conn, now, _BATCH)
            if not due:
                return lapsed
            for appeal_id in due:
                with self._db.write() as conn:
                    appeal = appeals_repo.by_id(conn, appeal_id)
                    if appeal is None or not appeal.is_open or appeal.deadline > now:
                        continue  # answered meanwhile
                    self._lapse(conn, appeal, now)
                    lapsed += 1

    def _lapse(self, conn: Connection, appeal: StoredAppeal, now: datetime) -> None:
        self._notify(conn, appeal.person_key, appeal.id, "lapsed", now)
        if appeal.order_id is not None:
            order = orders_repo.by_id(conn, appeal.order_id)
            if order is not None and order_in_force(order, now):
                self._orders.end_in(conn, order, actor_id=LAPSE_ACTOR, reason="appeal_lapsed",
                                    ends_at=None, now=now)  # fmt: skip
        set_aside = appeal.item is ItemKind.EVIDENCE
        secret = self._secrets.secret(appeal.person_key)
        [index] = transparency.append(conn, [("appeal_lapsed", lambda i: appeal_lapsed_entry(
            index=i, person_secret=secret, appeal_id=appeal.id, authority_id=appeal.authority_id,
            deadline=appeal.deadline, set_aside=set_aside, lapsed_at=now,
        ))], now)  # fmt: skip
        appeals_repo.update(
            conn, appeal.id, status=AppealStatus.LAPSED.value, lapsed_at=now, lapse_log_index=index
        )
        if set_aside:
            self._set_aside_for_person(conn, appeal, "appeal_lapsed", index, now)

    def _notify(
        self, conn: Connection, person_key: str, appeal_id: str, step: str, now: datetime
    ) -> None:
        self._notifier.notify(conn, [Notice(person_key, "appeal", step, now, subject=appeal_id)])

    # --- the public (oversight's cases: services/oversight.py) -----------------------------

    def statistics(self) -> list[tuple[AuthorityStatistics, Named]]:
        """Per authority: filed, outcomes, lapses, median and 90th-percentile time to answer."""
        with self._db.read() as conn:
            names = registry_repo.authority_names(conn)
            facts = appeals_repo.facts(conn)
        rows = authority_statistics(facts, names, self.policy.min_cell)
        return [
            (row, Named(row.authority_id, *names.get(row.authority_id, ("", "")))) for row in rows
        ]
