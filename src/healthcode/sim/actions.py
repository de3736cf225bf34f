"""The import format: one action per NDJSON line, replayed through the service layer.

Every action goes through the same checks as real traffic (a refused action is refused and
writes nothing); what an accepted one created is returned as record references
(``domain/oversight``), which is how the simulator's ground truth names what each abuse
attempt left in the store. docs/oversight.md documents every action type; in short:

- ``evidence``: ``batch`` is a signed evidence batch exactly as ``POST /api/v1/evidence`` takes it;
- ``designation``: ``by`` (an official's badge), ``request`` (id, area, level, valid_from,
  valid_to, case_count, basis, venue_id), ``cosign_by`` (a supervisor, when it waits for one);
- ``order``: ``ref`` (a name later lines use), ``by``, ``request`` (kind, legal_basis,
  persons: [{person, evidence: ["source/record", ...]}], valid_until), ``cosign_by``;
- ``staff_token``: ``ref``, ``badge``, ``minutes``: the operator issues that member a token
  (``healthcode admin staff-token``);
- ``staff``: ``members``: staff as ``healthcode admin load`` registers them (a ``password``
  given is set; the operator knows it);
- ``key_change``: ``by``, ``source``, ``public_key`` (base64), ``kinds``, ``cosign_by``: a
  source's new key or kinds, proposed and co-signed;
- ``appeal``: ``ref``, ``person``, ``target`` (order), ``order`` (an order's ``ref``), ``ground``;
- ``answer``: ``appeal`` (an appeal's ``ref``), ``by``, ``outcome``, ``evidence``;
- ``scan``: ``person``, ``venue``, ``code_at``: the person scans the code the venue showed at
  ``code_at`` (earlier than ``at``: a forwarded screenshot);
- ``guardian``: ``guardian``, ``dependant`` (person keys), ``end``: the operator records the
  guardianship (``healthcode admin guardian``), or with ``end`` true ends it (``--end``);
- ``guardian_read``: ``guardian``, ``dependant``: the guardian reads the dependant's code;
- ``tick``: the scheduler runs (due status changes, appeals lapsing at their deadline).

A co-signature of a ``designation``, ``order`` or ``key_change`` is made with the token of a
``staff_token`` line when the line names it (``cosign_token``, its ``ref``), not as the
member's own sign-in. Every line has ``at``, the instant it happens; lines are replayed in file
order. A refused staff act (``designation``, ``order``, ``answer``) is recorded as the API records it: one row of
``refusals`` naming the staff member who tried it, which the outcome returns as its reference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from healthcode.bootstrap import Services
from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.domain.designations import RiskLevel
from healthcode.domain.orders import OrderKind
from healthcode.domain.oversight import (
    appeal_ref,
    designation_ref,
    evidence_ref,
    guardianship_ref,
    order_ref,
    refusal_ref,
    staff_registration_ref,
    staff_token_ref,
)
from healthcode.errors import HealthcodeError
from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.services.refusals import RefusedStaff
from healthcode.services.tokens import STAFF_AUDIENCE
from healthcode.store import guardianships as guardianships_repo
from healthcode.store import staff as staff_repo
from healthcode.store import staff_registrations as registrations_repo

TYPES = (
    "evidence", "designation", "order", "appeal", "answer", "scan", "tick", "staff_token",
    "key_change", "staff", "guardian", "guardian_read",
)  # fmt: skip
# The staff acts, by the API route a refusal of each is recorded under.
STAFF_ROUTES = {
    "designation": "/api/v1/designations",
    "order": "/api/v1/orders",
    "answer": "/api/v1/appeals/{appeal_id}/answer",
    "key_change": "/api/v1/sources/{source_id}/key-changes",
}


@dataclass
class Applied:
    """What one action did: accepted (with the records it created) or refused (with a code)."""

    type: str
    refused: str | None = None  # the error code
    refs: list[str] = field(default_factory=list)  # created, or the refusal of a staff act

    @property
    def landed(self) -> bool:
        return self.refused is None


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"instants need a time zone: {text!r}")
    return value


class Replayer:
    """Applies actions in order, remembering the ids behind each ``ref``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.orders: dict[str, list[str]] = {}  # ref -> order ids
        self.appeals: dict[str, str] = {}  # ref -> appeal id
        self.tokens: dict[str, str] = {}  # ref -> the id of a token the operator issued
        self._actors: dict[str, Actor] = {}
        self._acting: Actor | None = None  # whose act the action's latest call was

    def actor(self, badge: str) -> Actor:
        """The staff member ``badge``, about to act: an action's calls each take their actor
        from here just before the call, so a refused call's actor is the last one given."""
        if badge not in self._actors:
            member = self.services.staff.find(badge)
            if member is None or member.authority_id is None:
                raise LookupError(f"no official {badge!r}")
            with self.services.db.read() as conn:
                areas = staff_repo.jurisdiction(conn, member.authority_id)
            self._actors[badge] = Actor(member.id, member.role, member.authority_id, areas)
        self._acting = self._actors[badge]
        return self._acting

    def cosigner(self, action: dict[str, Any]) -> Actor:
        """The action's co-signer, acting with the operator's token of ``cosign_token`` if it
        names one."""
        made = self.actor(action["cosign_by"])
        if action.get("cosign_token"):
            made = replace(made, operator_token=self.tokens[action["cosign_token"]])
            self._acting = made  # a refusal names the member all the same
        return made

    def apply(self, action: dict[str, Any]) -> Applied:
        kind = action.get("type")
        if kind not in TYPES:
            raise ValueError(f"unknown action type {kind!r}")
        outcome = Applied(kind)
        self._acting = None
        now = _instant(action["at"])
        try:
            outcome.refs = getattr(self, f"_{kind}")(action, now)
        except HealthcodeError as refused:
            outcome.refused = refused.code
            acting = self._acting
            if kind in STAFF_ROUTES and acting is not None:
                by = RefusedStaff(acting.id, acting.role, acting.authority_id)
                row = self.services.refusals.record(
                    refused, route=STAFF_ROUTES[kind], source_id=None, now=now, by=by
                )
                outcome.refs = [refusal_ref(row)]
        return outcome

    def replay(self, action: dict[str, Any]) -> None:
        """Apply, when only the store's state matters (the demo), not what each action did."""
        self.apply(action)

    def _evidence(self, action: dict[str, Any], now: datetime) -> list[str]:
        batch = action["batch"]
        self.services.intake.submit(batch, now=now)
        return [evidence_ref(batch["source"], r["record_id"]) for r in batch["records"]]

    def _designation(self, action: dict[str, Any], now: datetime) -> list[str]:
        body = action["request"]
        request = DesignationRequest(
            id=body["id"], area=body["area"], level=RiskLevel(body["level"]),
            valid_from=_instant(body["valid_from"]),
            valid_to=_instant(body["valid_to"]) if body.get("valid_to") else None,
            authority_id=self.actor(action["by"]).authority_id, case_count=body["case_count"],
            basis=body["basis"], venue_id=body.get("venue_id"),
        )  # fmt: skip
        made = self.services.designations.designate_as(self.actor(action["by"]), request, now=now)
        if action.get("cosign_by") and made.pending:
            self.services.designations.cosign(self.cosigner(action), request.id, now=now)
        return [designation_ref(request.id)]

    def _order(self, action: dict[str, Any], now: datetime) -> list[str]:
        body = action["request"]
        request = OrderRequest(
            kind=OrderKind(body["kind"]),
            legal_basis=body["legal_basis"],
            persons=tuple(
                PersonEvidence(p["person"], tuple(p["evidence"])) for p in body["persons"]
            ),
            valid_until=_instant(body["valid_until"]),
        )
        issued = self.services.orders.issue(self.actor(action["by"]), request, now=now)
        if issued.pending and action.get("cosign_by"):
            self.services.orders.cosign(self.cosigner(action), issued.request_id, now=now)
        ids = [order.id for order in issued.orders]
        if action.get("ref"):
            self.orders[action["ref"]] = ids
        return [order_ref(i) for i in ids]

    def _appeal(self, action: dict[str, Any], now: datetime) -> list[str]:
        target = AppealTarget(action.get("target", "order"))
        ref = None
        if target is AppealTarget.ORDER:
            ref = self.orders[action["order"]][0]
        elif target is AppealTarget.EVIDENCE:
            ref = action["evidence"]
        request = AppealRequest(target=target, ground=Ground(action["ground"]), ref=ref)
        appeal = self.services.appeals.file(action["person"], request, now=now)
        if action.get("ref"):
            self.appeals[action["ref"]] = appeal.id
        return [appeal_ref(appeal.id)]

    def _answer(self, action: dict[str, Any], now: datetime) -> list[str]:
        appeal_id = self.appeals[action["appeal"]]
        answer = Answer(Outcome(action["outcome"]), tuple(action.get("evidence", ())))
        self.services.appeals.answer(self.actor(action["by"]), appeal_id, answer, now=now)
        return [appeal_ref(appeal_id)]

    def _scan(self, action: dict[str, Any], now: datetime) -> list[str]:
        code = self.services.places.current_code(action["venue"], _instant(action["code_at"]))
        result = self.services.places.scan(action["person"], code.text, now)
        return [evidence_ref(result.source_id, result.record_id)]

    def _staff_token(self, action: dict[str, Any], now: datetime) -> list[str]:
        issued = self.services.staff.issue_token(
            action["badge"], now=now, ttl=timedelta(minutes=action.get("minutes", 15))
        )
        claims = self.services.tokens.verify(issued, audience=STAFF_AUDIENCE, now=now)
        if action.get("ref"):
            self.tokens[action["ref"]] = claims.token_id
        return [staff_token_ref(claims.token_id)]

    def _staff(self, action: dict[str, Any], now: datetime) -> list[str]:
        members = action["members"]
        self.services.staff.register(members, now=now)
        self._actors.clear()  # a member's role or authority may have changed
        with self.services.db.read() as conn:
            found = [registrations_repo.latest_index(conn, m["id"]) for m in members]
        return [staff_registration_ref(index) for index in found if index is not None]

    def _key_change(self, action: dict[str, Any], now: datetime) -> list[str]:
        keys = self.services.source_keys
        change = keys.propose(
            self.actor(action["by"]), action["source"], action["public_key"], action.get("kinds"),
            now=now,
        )  # fmt: skip
        if action.get("cosign_by"):
            keys.cosign(self.cosigner(action), change.id, now=now)
        return []  # a key change is no record a finding names (its token is)

    def _guardian(self, action: dict[str, Any], now: datetime) -> list[str]:
        """Recorded or ended, the guardianship is named by its ``guardianship`` entry."""
        guardian, dependant = action["guardian"], action["dependant"]
        if action.get("end"):
            with self.services.db.read() as conn:
                found = guardianships_repo.find(conn, guardian, dependant)
            self.services.guardianships.end(guardian, dependant, now=now)
        else:
            self.services.guardianships.record(guardian, dependant, now=now)
            with self.services.db.read() as conn:
                found = guardianships_repo.find(conn, guardian, dependant)
        index = None if found is None else found.log_index
        return [] if index is None else [guardianship_ref(index)]

    def _guardian_read(self, action: dict[str, Any], now: datetime) -> list[str]:
        self.services.access.read_dependant(action["guardian"], action["dependant"], now=now)
        return []  # a read is no record a finding names (the guardianship is)

    def _tick(self, action: dict[str, Any], now: datetime) -> list[str]:
        self.services.ticker.tick(now=now)
        return []


def read_actions(path: Path) -> Iterator[dict[str, Any]]:
    """The file's actions; a line that is not a JSON object with a known type and an aware
    instant ``at`` raises ``ValueError`` naming the line."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                action = json.loads(line)
            except json.JSONDecodeError as bad:
                raise ValueError(f"line {number}: not JSON ({bad.msg})") from None
            if not isinstance(action, dict) or action.get("type") not in TYPES:
                raise ValueError(f"line {number}: not an action of a known type")
            try:
                _instant(str(action.get("at")))
            except ValueError:
                raise ValueError(f"line {number}: `at` is not an instant with an offset") from None
            yield action


def write_action(out: TextIO, action: dict[str, Any]) -> None:
    out.write(json.dumps(action, ensure_ascii=False, sort_keys=True) + "\n")
