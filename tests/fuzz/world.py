"""The store a role is fuzzed against: enough of a town that operations can succeed, not only
fail, and the ids that lead into it (a path's `{appeal_id}` is one of the real appeals half of
the time, so the fuzzer reaches past "not found")."""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from hypothesis import strategies as st

from healthcode.bootstrap import Services
from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.domain.batches import sign_batch
from healthcode.domain.designations import RiskLevel
from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.clock import FixedClock
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.store import status as status_repo
from healthcode.web.auth import Policy
from healthcode.web.routes import all_routes
from tests.town import ERQI, SOURCE_KINDS, ZHENGZHOU, Town, days

# The issue's roles: a guardian is a person with a dependant; a source signs its batches.
ROLES = ("anonymous", "person", "guardian", "venue", "source", "hotline", "official",
         "supervisor", "auditor")  # fmt: skip
STAFF = {"venue": "station", "hotline": "hl-erqi", "official": "zz-off-1",
         "supervisor": "zz-sup-1", "auditor": "auditor-1"}  # fmt: skip
OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))
SOURCE_OF_KIND = {kind: source for source, kinds in SOURCE_KINDS.items() for kind in kinds}


@dataclass
class World:
    role: str
    town: Town
    token: str | None  # the role's bearer token; anonymous and source have none
    known: dict[str, list[Any]]  # path parameter -> values that name something in the store
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def services(self) -> Services:
        return self.town.services

    def flatmap_case(self, _context: Any, case: Any) -> st.SearchStrategy[Any]:
        """A schemathesis hook: half of the valid cases get real ids in their path, and a
        source's valid batches are signed, most of them placed in its area first. Invalid
        (negative) cases are left alone, so what makes them invalid stays."""
        meta = case.meta
        if meta is None or not meta.generation.mode.is_positive:
            return st.just(case)
        if self.role == "source" and isinstance(case.body, dict):
            # Hypothesis leans to False: that is the placed batch, the one that gets furthest.
            return st.booleans().map(
                lambda stray: _with_body(case, self.signed(case.body, placed=not stray))
            )
        names = [name for name in (case.path_parameters or {}) if self.known.get(name)]
        if not names:
            return st.just(case)
        real = st.fixed_dictionaries({name: st.sampled_from(self.known[name]) for name in names})
        return st.one_of(st.just(case), real.map(lambda values: _with_path(case, values)))

    def signed(self, body: dict[str, Any], *, placed: bool) -> dict[str, Any]:
        """The batch signed by the registered source of its first record's kind; ``placed``:
        only its records of that source's kinds, moved to Erqi (at the station, for a visit)
        an hour ago, so that the batch passes the source's checks and reaches the store."""
        records = [r for r in body.get("records") or [] if isinstance(r, dict)] or [{}]
        source = SOURCE_OF_KIND.get(str(records[0].get("kind")), "lab-1")
        if placed:
            at = (self.town.clock.now() - timedelta(hours=1)).isoformat()
            records = [{**r, "area": ERQI, "occurred_at": at}
                       | ({"venue_id": "station"} if "venue_id" in r else {})
                       for r in records if r.get("kind") in SOURCE_KINDS[source]]  # fmt: skip
            body = {**body, "records": records}
        unsigned = {key: value for key, value in body.items() if key != "signature"}
        return sign_batch({**unsigned, "source": source}, self.town.keys[source].sign)

    def operations(self, app: FastAPI) -> set[tuple[str, str]]:
        """(method, path) of each operation this role may call, by its route's policy."""
        found = set()
        for route in all_routes(app):
            policies = [getattr(dep.call, "policy", None) for dep in route.dependant.dependencies]
            for policy in filter(None, policies):
                if _admits(policy, self.role):
                    found |= {(method, route.path_format) for method in route.methods}
        return found


def _admits(policy: Policy, role: str) -> bool:
    if policy.scope in ("public", "source"):
        return (role, policy.scope) in {("anonymous", "public"), ("source", "source")}
    return ("person" if role == "guardian" else role) in policy.roles


def _with_body(case: Any, body: dict[str, Any]) -> Any:
    case.body = body
    return case


def _with_path(case: Any, values: dict[str, Any]) -> Any:
    case.path_parameters = {**case.path_parameters, **values}
    return case


def build_world(role: str, services: Services, clock: FixedClock) -> World:
    town = Town.register(services, clock)
    town.register_staff()
    now = clock.now()
    person = town.person("fuzz-person", home=ERQI)
    guardian = town.person("fuzz-guardian", home=ERQI)
    child = town.person("fuzz-child", home=ERQI)
    services.identity.add_guardian(guardian, child, now=now)
    for who in (person, guardian, child):
        town.test(who, now - timedelta(hours=3), "negative")
    # An order on the person's own evidence, appealed twice: once left open for an official,
    # once upheld and taken to oversight (a case for the auditor).
    contact = town.record("close_contact", person, now - timedelta(hours=2), area=ERQI, case_ref="c-1")  # fmt: skip
    town.submit("cdc-1", [contact])
    evidence = f"cdc-1/{contact['record_id']}"
    order = services.orders.issue(
        OFFICIAL,
        OrderRequest(kind="close_contact_quarantine", legal_basis="idl-art-41-quarantine",  # type: ignore[arg-type]
                     persons=(PersonEvidence(person, (evidence,)),), valid_until=now + days(10)),
        now=now,
    ).orders[0]  # fmt: skip
    open_appeal = services.appeals.file(
        person, AppealRequest(AppealTarget.EVIDENCE, Ground.EVIDENCE_WRONG, ref=evidence), now=now
    )
    upheld = services.appeals.file(
        person, AppealRequest(AppealTarget.ORDER, Ground.NOT_THERE, ref=order.id), now=now
    )
    services.appeals.answer(OFFICIAL, upheld.id, Answer(Outcome.UPHELD, (evidence,)), now=now)
    case = services.appeals.escalate(person, upheld.id, now=now)
    # A key change waiting for a supervisor (of border-1: the source role signs with lab-1's).
    change = services.source_keys.propose(OFFICIAL, "border-1", base64.b64encode(b"k" * 32).decode(),
                                          None, now=now)  # fmt: skip
    # A designation in force and one waiting for a co-signature, to be co-signed or ended.
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(5), id="des-fuzz")
    services.designations.designate_as(
        OFFICIAL,
        DesignationRequest(id="des-fuzz-pending", area=ERQI, level=RiskLevel.MEDIUM, valid_from=now,
                           valid_to=None, authority_id="zz-health", case_count=2, basis="2 cases"),
        now=now,
    )  # fmt: skip
    code = services.places.current_code("station", now).text
    scan = services.places.scan(person, code, now)
    services.places.seal_due(now, everything=True)
    services.sequencer.integrate(now=now)
    with services.db.read() as conn:
        indexes = [c.log_index for c in status_repo.history(conn, person)]
        size = services.log.checkpoint_at(conn).size  # type: ignore[union-attr]
    known: dict[str, list[Any]] = {
        "person_key": [child, person],
        "appeal_id": [open_appeal.id, upheld.id],
        "log_index": [*indexes, open_appeal.log_index, upheld.log_index],
        "order_id": [order.id],
        "request_id": [order.request_id],
        "designation_id": ["des-fuzz", "des-fuzz-pending"],
        "record_id": [scan.record_id],
        "case_id": [case.id],
        "change_id": [change.id],
        "source_id": sorted(SOURCE_KINDS),
        "version": [1],
        "path": [f"0/000.p/{size}", f"entries/000.p/{size}"],
        "old_size": [1, size],
        "new_size": [size],
    }
    token = None
    if role not in ("anonymous", "source"):
        subject = {"person": person, "guardian": guardian}.get(role) or STAFF[role]
        token = town.token(subject, "person" if role in ("person", "guardian") else role)
    return World(role, town, token, known)
