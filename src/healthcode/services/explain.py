"""A person's status with everything behind it: the rule, its reason, the evidence and who is
accountable for it, until when, and the recorded history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from healthcode.domain.designations import RiskDesignation
from healthcode.domain.legal import LegalBasis
from healthcode.domain.status import Status
from healthcode.services.derivation import Derivation
from healthcode.services.log_reader import CheckpointRef, LogReader
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


@dataclass(frozen=True)
class StatusView:
    person_key: str
    status: Status
    evidence: list[EvidenceView]
    designations: list[RiskDesignation]
    history: list[StatusChange]
    checkpoint: CheckpointRef | None  # the log checkpoint the answer was computed at
    orders: list[OrderView]


_DETAIL_FIELDS = ("method", "result", "presence", "venue_id", "quarantine_required", "vaccine",
                  "dose", "port", "case_ref")  # fmt: skip


class Explanations:
    def __init__(
        self, db: Database, derivation: Derivation, log: LogReader, bases: dict[str, LegalBasis]
    ) -> None:
        self._db = db
        self._derivation = derivation
        self._log = log
        self._bases = bases

    def explain(self, person_key: str, *, now: datetime) -> StatusView:
        with self._db.read_statements() as conn:
            checkpoint = self._log.checkpoint_at(conn)
            read = self._derivation.read(conn, person_key, now)
            status, stored_orders = read.status, read.orders
            # The evidence and designations the status cites are among its inputs, read once.
            mine = {item.ref: item for item in read.inputs.evidence}
            refs = {
                ref.removeprefix("evidence:")
                for ref in status.inputs
                if ref.startswith("evidence:")
            }
            items = [mine[ref] for ref in refs if ref in mine]
            others = sorted(ref for ref in refs if ref not in mine)  # none, by construction
            if others:
                pairs = [tuple(ref.split("/", 1)) for ref in others]
                items += evidence_repo.evidence_by_refs(conn, [(a, b) for a, b in pairs])
            cited = {
                ref.removeprefix("designation:")
                for ref in status.inputs
                if ref.startswith("designation:")
            }
            designations = [d for d in read.inputs.designations if d.id in cited]
            history = status_repo.history(conn, person_key)
            # Only the names the answer shows.
            owners = registry_repo.source_authorities(conn, {item.source_id for item in items})
            area_names = registry_repo.area_names(conn, {item.area for item in items})
            authorities = {
                authority_id: names for authority_id, names in owners.values() if names is not None
            }
            unnamed = {o.authority_id for o in stored_orders} - authorities.keys()
            if unnamed:
                authorities.update(registry_repo.authority_names(conn, unnamed))
        views = []
        for item in sorted(items, key=lambda e: (e.occurred_at, e.source_id, e.record_id)):
            owner = owners.get(item.source_id)
            authority_id = owner[0] if owner else ""
            area = area_names.get(item.area, ("", ""))
            names = authorities.get(authority_id, ("", ""))
            views.append(
                EvidenceView(
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
                )
            )
        orders = [
            OrderView(
                id=o.id, kind=o.kind, status=o.state(now), valid_from=o.valid_from, valid_until=o.valid_until,
                ended_at=o.ended_at, official_id=o.official_id,
                authority=Named(o.authority_id, *authorities.get(o.authority_id, ("", ""))),
                legal_basis=Named(o.legal_basis, *self._basis_title(o.legal_basis)),
                evidence=o.evidence,
            )
            for o in stored_orders
        ]  # fmt: skip
        return StatusView(person_key, status, views, designations, history, checkpoint, orders)

    def _basis_title(self, basis_id: str) -> tuple[str, str]:
        basis = self._bases.get(basis_id)
        return (basis.title.zh, basis.title.en) if basis else ("", "")
