"""Risk designations of areas or single venues: made, co-signed and ended by officials, and
the recompute of the people they touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from healthcode.domain import areas
from healthcode.domain.designations import (
    END_REASONS,
    RiskDesignation,
    RiskLevel,
    Span,
    end_time,
    reach,
)
from healthcode.domain.legal import OrderPolicy
from healthcode.domain.log_entries import (
    designation_cosign_entry,
    designation_end_entry,
    designation_entry,
)
from healthcode.domain.orders import START_TOLERANCE
from healthcode.errors import InputRejected, NotFound, Unauthorized
from healthcode.services import staff_tokens, transparency
from healthcode.services.bulk_recompute import recompute_bulk
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import ISSUERS, Actor, staff_secret_key
from healthcode.services.rulebooks import Rulebooks
from healthcode.store import designations as designations_repo
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


@dataclass(frozen=True)
class Ended:
    """What an end did: the designation as it stands now, whether it was withdrawn while
    pending (it then never counted), and the status changes it caused."""

    designation: RiskDesignation
    withdrawn: bool
    status_changes: int


@dataclass(frozen=True)
class AuthorityDesignation:
    """One of an authority's designations and what it is now: `STATES`."""

    designation: RiskDesignation
    state: str


# What a designation is at an instant, for its authority: waiting for a co-signature, withdrawn
# before one, or, put in force, its phase (`RiskDesignation.phase`).
STATES = ("pending", "withdrawn", "scheduled", "in_force", "ended")


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
        return self._record(
            request, now=now, official_id=actor.id, operator_token=actor.operator_token
        )

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
                raise InputRejected(
                    "designation.not_pending", "co-signed already, or it needed no co-signature"
                )
            if row.end_log_index is not None:
                raise InputRejected("designation.not_pending", "the designation was withdrawn")
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
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="designation_cosign", now=now,
            )  # fmt: skip
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

    def end(
        self, actor: Actor, designation_id: str, *, reason: str, ends_at: datetime | None,
        now: datetime,
    ) -> Ended:  # fmt: skip
        """End a designation early, for one of `END_REASONS`, with the authority designating
        needs (its authority, its jurisdiction covering the area): one in force or scheduled
        now or at ``ends_at`` (before the end it has; it may be brought forward again until
        then), or, `VOIDING`, as made in error, from now on, even once its period is over (a
        visit during it still counts for the rules' look-back until then); a pending one is
        withdrawn now. The people it covered are recomputed, and the end is its own log
        entry, in the same transaction."""
        if actor.role not in ISSUERS:
            raise Unauthorized("auth.forbidden", "only officials end designations")
        if reason not in END_REASONS:
            raise InputRejected("request.malformed", f"reason must be one of {sorted(END_REASONS)}")
        with self._db.write() as conn:
            row = designations_repo.by_id(conn, designation_id)
            if row is None:
                raise NotFound("designation.not_found")
            pending = row.activated_at is None
            if row.authority_id != actor.authority_id or not areas.contained_in_any(
                actor.jurisdiction, row.area_code
            ):
                # A pending designation is not public (docs/api.md): as for its co-signature,
                # another authority is not told it exists.
                if pending:
                    raise NotFound("designation.not_found")
                raise Unauthorized("designation.outside_jurisdiction")
            [designation] = designations_repo.from_rows(conn, [row], as_recorded=pending)
            end = end_time(designation, pending=pending, reason=reason, ends_at=ends_at, now=now)
            secret = self._secrets.secret(staff_secret_key(actor.id))
            self._secrets.escrow_missing(conn, [staff_secret_key(actor.id)], now)
            [index] = transparency.append(conn, [("designation_end", lambda i: designation_end_entry(
                index=i, official_secret=secret, designation_id=designation_id,
                authority_id=row.authority_id, ended_at=end, reason=reason, recorded_at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, actor.operator_token, staff_id=actor.id, act_index=index,
                act="designation_end", now=now,
            )  # fmt: skip
            designations_repo.record_end(
                conn, row, ended_at=end, recorded_at=now, reason=reason, ended_by=actor.id,
                log_index=index,
            )  # fmt: skip
            changes = 0
            if not pending:
                # Everyone with a proven visit during the period as it stood: a cut changes no
                # one now (every visit known lies before the new end, which is never before
                # now); a withdrawal as made in error clears whoever it alone kept red or yellow.
                before = designation.as_known_at(now)
                assert before is not None  # `end_time` refuses to end a withdrawn one again
                touched = evidence_repo.visitors(
                    conn, areas.prefix(before.area), before.valid_from, before.valid_to
                )
                changes = len(recompute_bulk(
                    conn, self._derivation, self._rulebooks, sorted(touched), now=now,
                    cause=Cause.DESIGNATION,
                ))  # fmt: skip
            now_row = designations_repo.by_id(conn, designation_id)
            assert now_row is not None
            [ended] = designations_repo.from_rows(conn, [now_row], as_recorded=pending)
            return Ended(ended, withdrawn=pending, status_changes=changes)

    def of_authority(self, actor: Actor, *, now: datetime) -> list[AuthorityDesignation]:
        """The actor's authority's designations, newest first, each with what it is at
        ``now`` (`STATES`)."""
        with self._db.read() as conn:
            found = designations_repo.of_authority(conn, actor.authority_id)
        return [
            AuthorityDesignation(designation, _state(designation, row.activated_at, now))
            for designation, row in found
        ]

    def pending(self, authority_id: str, *, now: datetime) -> list[RiskDesignation]:
        """The supervisors' queue: designations waiting for a co-signature that could still be
        given at ``now`` (not started further back than the bound). The others stay recorded,
        pending; the queue only stops offering what ``cosign`` would refuse."""
        with self._db.read() as conn:
            earliest = self._earliest_start(conn, now)
            return [
                d
                for d in evidence_repo.pending_designations(conn, authority_id)
                if d.valid_from >= earliest and not d.ends  # an end withdrew it
            ]

    def designate(self, request: DesignationRequest, *, now: datetime) -> int:
        """The operator's own designation (bootstrap, tests): in force at once. Returns the
        number of status changes it caused."""
        return self._record(request, now=now, official_id=None).status_changes

    def _record(
        self, request: DesignationRequest, *, now: datetime, official_id: str | None,
        operator_token: str | None = None,
    ) -> Designated:  # fmt: skip
        """Record a designation and recompute everyone with a proven visit it covers, unless
        an official's designation waits for a co-signature. ``operator_token``: the
        official's `Actor.operator_token`."""
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
            if official_id is not None:  # the operator's own designation is no staff act
                staff_tokens.record_use(
                    conn, operator_token, staff_id=official_id, act_index=index,
                    act="designation", now=now,
                )  # fmt: skip
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
        for made in evidence_repo.in_force_alone(conn, request.authority_id, since):
            if len(people) > limit:
                break
            # As it was in force: cut short, or cut where it was withdrawn as made in error
            # (whom it reached until then it reached: an order issued in error counts too).
            earlier = made.as_in_force_by(now)
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


def _state(designation: RiskDesignation, activated_at: datetime | None, now: datetime) -> str:
    if activated_at is None:
        return "withdrawn" if designation.ends else "pending"
    return designation.phase(now)
