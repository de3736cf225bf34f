"""Risk designations of areas or single venues, and the recompute of the people they touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from healthcode.domain import areas
from healthcode.domain.designations import RiskDesignation, RiskLevel, Span, reach
from healthcode.domain.legal import OrderPolicy
from healthcode.domain.log_entries import designation_cosign_entry, designation_entry
from healthcode.domain.orders import START_TOLERANCE
from healthcode.errors import InputRejected, NotFound, Unauthorized
from healthcode.services import transparency
from healthcode.services.bulk_recompute import recompute_bulk
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import Actor, staff_secret_key
from healthcode.services.rulebooks import Rulebooks
from healthcode.store import evidence as evidence_repo
from healthcode.store import registry as registry_repo
from healthcode.store import tables as t
from healthcode.store.database import Database


@dataclass(frozen=True)
class DesignationRequest:
    id: str
    area: str
    level: RiskLevel
    valid_from: datetime
    valid_to: datetime | None
    authority_id: str
    case_count: int
    basis: str
    venue_id: str | None = None


@dataclass(frozen=True)
class Designated:
    """What a designation (or its co-signature) did: whether it waits for a supervisor, and
    the status changes it caused (none while it waits)."""

    id: str
    pending: bool
    status_changes: int


class Designations:
    def __init__(
        self, db: Database, derivation: Derivation, rulebooks: Rulebooks, secrets: PersonSecrets,
        policy: OrderPolicy,
    ) -> None:  # fmt: skip
        self._db = db
        self._derivation = derivation
        self._rulebooks = rulebooks
        self._secrets = secrets
        self._policy = policy

    def designate_as(
        self, actor: Actor, request: DesignationRequest, *, now: datetime
    ) -> Designated:
        """An official designates inside their jurisdiction; one that may reach more people
        than the bulk threshold, or whose reach cannot be known now (no end, a future start),
        waits, pending, for a different supervisor's co-signature (``reach``)."""
        if actor.role not in ("official", "supervisor"):
            raise Unauthorized("auth.forbidden")
        if request.authority_id != actor.authority_id or not areas.contained_in_any(
            actor.jurisdiction, request.area
        ):
            raise Unauthorized("designation.outside_jurisdiction")
        return self._record(request, now=now, official_id=actor.id)

    def cosign(self, actor: Actor, designation_id: str, *, now: datetime) -> Designated:
        if actor.role != "supervisor":
            raise Unauthorized("auth.forbidden", "only supervisors co-sign")
        with self._db.write() as conn:
            row = conn.execute(
                select(t.designations).where(t.designations.c.id == designation_id)
            ).first()
            if row is None or row.authority_id != actor.authority_id:
                raise NotFound("designation.not_found")
            if row.activated_at is not None:
                raise InputRejected("order.not_pending", "the designation is already in force")
            if row.designated_by == actor.id:
                raise Unauthorized("order.cosign_self")
            # The co-signature puts it in force now, so it must be one that could be made now:
            # one left waiting until its start lies further back than the bound would otherwise
            # reach visits no rule reads any more. One whose period is over still may: a visit
            # during it counts for the rules' look-back, as when it is designated after the fact.
            self._check_start(conn, row.valid_from, now)
            secret = self._secrets.secret(staff_secret_key(actor.id))
            self._secrets.escrow_missing(conn, [staff_secret_key(actor.id)], now)
            [index] = transparency.append(conn, [("designation_cosign", lambda i: designation_cosign_entry(
                index=i, supervisor_secret=secret, designation_id=designation_id, at=now,
            ))], now)  # fmt: skip
            conn.execute(t.designations.update().where(t.designations.c.id == designation_id).values(
                activated_at=now, cosigned_by=actor.id, cosign_log_index=index,
            ))  # fmt: skip
            touched = evidence_repo.visitors(
                conn, areas.prefix(row.area_code), row.valid_from, row.valid_to
            )
            changes = recompute_bulk(
                conn,
                self._derivation,
                self._rulebooks,
                sorted(touched),
                now=now,
                cause=Cause.DESIGNATION,
            )
            return Designated(designation_id, pending=False, status_changes=len(changes))

    def pending(self, authority_id: str, *, now: datetime) -> list[RiskDesignation]:
        """The supervisors' queue: designations waiting for a co-signature that could still be
        given at ``now`` (not started further back than the bound). The others stay recorded,
        pending; the queue only stops offering what ``cosign`` would refuse."""
        with self._db.read() as conn:
            earliest = self._earliest_start(conn, now)
            return [
                d
                for d in evidence_repo.pending_designations(conn, authority_id)
                if d.valid_from >= earliest
            ]

    def designate(self, request: DesignationRequest, *, now: datetime) -> int:
        """The operator's own designation (bootstrap, tests): in force at once. Returns the
        number of status changes it caused."""
        return self._record(request, now=now, official_id=None).status_changes

    def _record(
        self, request: DesignationRequest, *, now: datetime, official_id: str | None
    ) -> Designated:
        """Record a designation and recompute everyone with a proven visit it covers, unless
        an official's designation waits for a co-signature."""
        if request.valid_to is not None and request.valid_to <= request.valid_from:
            raise InputRejected("designation.invalid", "valid_to must follow valid_from")
        if request.case_count < 0:
            raise InputRejected("designation.invalid", "case_count is negative")
        designation = RiskDesignation(
            id=request.id,
            area=request.area,
            level=request.level,
            valid_from=request.valid_from,
            valid_to=request.valid_to,
            authority_id=request.authority_id,
            case_count=request.case_count,
            basis=request.basis,
            recorded_at=now,
            venue_id=request.venue_id,
        )
        with self._db.write() as conn:
            self._check_start(conn, request.valid_from, now)
            if request.area not in registry_repo.area_codes(conn):
                raise InputRejected("designation.invalid", "unknown area")
            if request.authority_id not in registry_repo.authority_names(conn):
                raise InputRejected("designation.invalid", "unknown authority")
            if request.venue_id is not None:
                venue_area = registry_repo.venue_areas(conn, [request.venue_id]).get(
                    request.venue_id
                )
                if venue_area is None or not areas.contains(request.area, venue_area):
                    raise InputRejected("designation.invalid", "venue not in the area")
            if any(d.id == request.id for d, _ in evidence_repo.designation_rows(conn)):
                raise InputRejected("designation.invalid", "designation id already used")
            prefix = areas.prefix(request.area)
            touched = evidence_repo.visitors(conn, prefix, request.valid_from, request.valid_to)
            active = official_id is None or self._within_threshold(conn, request, prefix, now)
            index = transparency.append_one(
                conn, "designation", designation_entry(designation), now
            )
            row = evidence_repo.designation_row(designation, index, active=active)
            conn.execute(t.designations.insert().values({**row, "designated_by": official_id}))
            if not active:
                return Designated(request.id, pending=True, status_changes=0)
            changes = recompute_bulk(
                conn,
                self._derivation,
                self._rulebooks,
                sorted(touched),
                now=now,
                cause=Cause.DESIGNATION,
            )
        return Designated(request.id, pending=False, status_changes=len(changes))

    def _check_start(self, conn: Connection, valid_from: datetime, now: datetime) -> None:
        earliest = self._earliest_start(conn, now)
        if valid_from < earliest:
            raise InputRejected("designation.backdated", f"valid_from not before {earliest}")

    def _earliest_start(self, conn: Connection, now: datetime) -> datetime:
        """No further back than the longest rule reading designations looks: an earlier start
        can change no one's colour now, it would only claim after the fact that the area was
        at risk then (invariant 1). Without such a rule, no more back-dating than an order."""
        lookback = self._rulebooks.in_force(conn, now).designation_lookback()
        return now - max(lookback or START_TOLERANCE, START_TOLERANCE)

    def _within_threshold(
        self, conn: Connection, request: DesignationRequest, prefix: str, now: datetime
    ) -> bool:
        """Whether the people this designation may reach, together with those reached by every
        designation its authority put in force without a co-signature within the bulk window
        (as orders count, services/orders.py), stay within the bulk threshold: otherwise one
        designation waiting for a supervisor could be cut into slices that each pass alone.
        Each is measured at ``now`` (``reach``): an earlier slice's period, now past, counts
        the people who did visit then."""
        spans = reach(request.valid_from, request.valid_to, now)
        if spans is None:
            return False
        limit = self._policy.bulk_threshold_people
        people = _visitors(conn, prefix, spans)
        since = now - self._policy.bulk_window
        for earlier in evidence_repo.in_force_alone(conn, request.authority_id, since):
            if len(people) > limit:
                break
            # In force alone, it had an end and no later start than now's tolerance: a reach.
            earlier_spans = reach(earlier.valid_from, earlier.valid_to, now) or []
            people |= _visitors(conn, areas.prefix(earlier.area), earlier_spans)
        return len(people) <= limit

    def all(self, conn: Connection | None = None) -> list[RiskDesignation]:
        if conn is not None:
            return evidence_repo.all_designations(conn)
        with self._db.read() as own:
            return evidence_repo.all_designations(own)


def _visitors(conn: Connection, prefix: str, spans: list[Span]) -> set[str]:
    people: set[str] = set()
    for since, until in spans:
        people |= evidence_repo.visitors(conn, prefix, since, until)
    return people
