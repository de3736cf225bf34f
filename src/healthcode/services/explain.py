"""A person's status with everything behind it: the rule, its reason, the evidence and who is
accountable for it, until when, and the recorded history of changes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from healthcode.domain.designations import RiskDesignation
from healthcode.domain.evidence import Evidence, VenueVisit
from healthcode.domain.legal import LegalBasis
from healthcode.domain.status import Status
from healthcode.services.derivation import Derivation
from healthcode.services.log_reader import CheckpointRef, LogReader
from healthcode.services.rulebooks import Rulebooks
from healthcode.store import evidence as evidence_repo
from healthcode.store import registry as registry_repo
from healthcode.store import status as status_repo
from healthcode.store.database import Database
from healthcode.store.status import StatusChange


@dataclass(frozen=True)
class Named:
    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class EvidenceView:
    ref: str
    kind: str
    occurred_at: datetime
    received_at: datetime
    area: Named
    source_id: str
    authority: Named
    details: dict[str, Any]
    # The orders behind the colour that cite this record: empty when the rule that fired cites
    # it itself (a close contact counts for red only through an order, invariant 2).
    cited_by_orders: tuple[str, ...] = ()
    venue: Named | None = None  # a visit's venue, by the name it is known by


@dataclass(frozen=True)
class OrderView:
    """An order concerning the person, with who is accountable for it and on what basis (A5)."""

    id: str
    kind: str
    status: str
    valid_from: datetime
    valid_until: datetime
    ended_at: datetime | None
    official_id: str
    authority: Named
    legal_basis: Named
    evidence: tuple[str, ...]
    # The records behind ``evidence`` with their kind, time and authority (a record retention
    # purged is missing here and shows as its bare reference).
    cited: tuple[EvidenceView, ...] = ()


@dataclass(frozen=True)
class StatusView:
    person_key: str
    status: Status
    evidence: list[EvidenceView]
    designations: list[RiskDesignation]
    history: list[StatusChange]
    checkpoint: CheckpointRef | None  # the log checkpoint the answer was computed at
    orders: list[OrderView]
    # The rulebook's bilingual text of each rule shown (the status's, and each change's under
    # the edition that decided it), by (edition, rule id): the rules carry no shorter title.
    rule_texts: dict[tuple[int, str], Named] = field(default_factory=dict)
    # The names of the authorities of the designations shown, by authority id.
    designators: dict[str, Named] = field(default_factory=dict)


_DETAIL_FIELDS = ("method", "result", "presence", "venue_id", "quarantine_required", "vaccine",
                  "dose", "port", "case_ref")  # fmt: skip


class Explanations:
    def __init__(
        self, db: Database, derivation: Derivation, log: LogReader, bases: dict[str, LegalBasis],
        rulebooks: Rulebooks,
    ) -> None:  # fmt: skip
        self._db = db
        self._derivation = derivation
        self._log = log
        self._bases = bases
        self._rulebooks = rulebooks

    def explain(self, person_key: str, *, now: datetime) -> StatusView:
        with self._db.read_statements() as conn:
            checkpoint = self._log.checkpoint_at(conn)
            read = self._derivation.read(conn, person_key, now)
            status, stored_orders = read.status, read.orders
            # The evidence the status cites: what the rule that fired cites itself, and what
            # the orders behind it cite; each order's own evidence is shown with the order.
            direct = _refs(status.inputs, "evidence:")
            fired = _refs(status.inputs, "order:")
            order_refs = {ref for o in stored_orders for ref in o.evidence}
            mine = {item.ref: item for item in read.inputs.evidence}
            refs = direct | order_refs
            items = [mine[ref] for ref in refs if ref in mine]
            # Records no longer among the inputs (set aside, past every window) are read; an
            # order cites only the person's own (A4), and only theirs are ever shown to them.
            others = sorted(ref for ref in refs if ref not in mine)
            if others:
                pairs = [tuple(ref.split("/", 1)) for ref in others if "/" in ref]
                found = evidence_repo.evidence_by_refs(conn, [(a, b) for a, b in pairs])
                items += [item for item in found if item.person == person_key]
            cited = _refs(status.inputs, "designation:")
            designations = [d for d in read.inputs.designations if d.id in cited]
            history = status_repo.history(conn, person_key)
            rule_texts = self._rule_texts(conn, status, history)
            # Only the names the answer shows.
            owners = registry_repo.source_authorities(conn, {item.source_id for item in items})
            area_names = registry_repo.area_names(conn, {item.area for item in items})
            venue_ids = {item.venue_id for item in items if isinstance(item, VenueVisit)}
            venues = registry_repo.venue_names(conn, venue_ids) if venue_ids else {}
            authorities = {
                authority_id: names for authority_id, names in owners.values() if names is not None
            }
            designating = {d.authority_id for d in designations}
            unnamed = ({o.authority_id for o in stored_orders} | designating) - authorities.keys()
            if unnamed:
                authorities.update(registry_repo.authority_names(conn, unnamed))
        views: dict[str, EvidenceView] = {}
        for item in sorted(items, key=lambda e: (e.occurred_at, e.source_id, e.record_id)):
            owner = owners.get(item.source_id)
            authority_id = owner[0] if owner else ""
            area = area_names.get(item.area, ("", ""))
            names = authorities.get(authority_id, ("", ""))
            views[item.ref] = EvidenceView(
                ref=item.ref,
                kind=str(item.kind),
                occurred_at=item.occurred_at,
                received_at=item.received_at,
                area=Named(item.area, *area),
                source_id=item.source_id,
                authority=Named(authority_id, *names),
                details={
                    name: str(getattr(item, name))
                    if not isinstance(getattr(item, name), bool | int)
                    else getattr(item, name)
                    for name in _DETAIL_FIELDS
                    if hasattr(item, name)
                },
                venue=_venue(item, venues),
            )
        orders = [
            OrderView(
                id=o.id, kind=o.kind, status=o.state(now), valid_from=o.valid_from, valid_until=o.valid_until,
                ended_at=o.ended_at, official_id=o.official_id,
                authority=Named(o.authority_id, *authorities.get(o.authority_id, ("", ""))),
                legal_basis=Named(o.legal_basis, *self._basis_title(o.legal_basis)),
                evidence=o.evidence, cited=tuple(views[ref] for ref in o.evidence if ref in views),
            )
            for o in stored_orders
        ]  # fmt: skip
        citing = {
            ref: tuple(o.id for o in stored_orders if o.id in fired and ref in o.evidence)
            for ref in views
        }
        behind = [
            replace(view, cited_by_orders=citing[ref])
            for ref, view in views.items()
            if ref in direct or citing[ref]
        ]
        designators = {
            authority_id: Named(authority_id, *authorities.get(authority_id, ("", "")))
            for authority_id in designating
        }
        return StatusView(
            person_key, status, behind, designations, history, checkpoint, orders, rule_texts,
            designators,
        )  # fmt: skip

    def _rule_texts(
        self, conn: Connection, status: Status, history: list[StatusChange]
    ) -> dict[tuple[int, str], Named]:
        """The text of each (edition, rule) shown; the editions are read only for a change
        decided by another rule or edition than the status's (most people have none)."""
        current = (status.rulebook_version, status.rule_id)
        texts = {current: Named(status.rule_id, status.reason.zh, status.reason.en)}
        wanted = {(c.rulebook_version, c.rule_id) for c in history} - {current}
        if wanted:
            rulebooks = {e.rulebook.version: e.rulebook for e in self._rulebooks.editions(conn)}
            for version, rule_id in wanted:
                rulebook = rulebooks.get(version)
                if rulebook is not None and (
                    rule_id == rulebook.default_rule_id or rulebook.rule(rule_id) is not None
                ):
                    reason = rulebook.reason_for(rule_id)
                    texts[(version, rule_id)] = Named(rule_id, reason.zh, reason.en)
        return texts

    def _basis_title(self, basis_id: str) -> tuple[str, str]:
        basis = self._bases.get(basis_id)
        return (basis.title.zh, basis.title.en) if basis else ("", "")


def _venue(item: Evidence, names: dict[str, tuple[str, str]]) -> Named | None:
    if not isinstance(item, VenueVisit):
        return None
    return Named(item.venue_id, *names.get(item.venue_id, (item.venue_id, item.venue_id)))


def _refs(inputs: tuple[str, ...], prefix: str) -> set[str]:
    return {ref.removeprefix(prefix) for ref in inputs if ref.startswith(prefix)}
