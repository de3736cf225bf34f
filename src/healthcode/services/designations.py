"""Risk designations of areas or single venues, and the recompute of the people they touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain import areas
from healthcode.domain.designations import RiskDesignation, RiskLevel
from healthcode.domain.log_entries import designation_entry
from healthcode.errors import InputRejected
from healthcode.services import transparency
from healthcode.services.derivation import Cause, Derivation
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


class Designations:
    def __init__(self, db: Database, derivation: Derivation) -> None:
        self._db = db
        self._derivation = derivation

    def designate(self, request: DesignationRequest, *, now: datetime) -> int:
        """Record a designation and recompute everyone with a proven visit it covers.

        Returns the number of status changes it caused.
        """
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
            if any(d.id == request.id for d in evidence_repo.all_designations(conn)):
                raise InputRejected("designation.invalid", "designation id already used")
            index = transparency.append_one(
                conn, "designation", designation_entry(designation), now
            )
            conn.execute(
                t.designations.insert().values(evidence_repo.designation_row(designation, index))
            )
            touched = evidence_repo.visitors(
                conn, areas.prefix(request.area), request.valid_from, request.valid_to
            )
            changes = self._derivation.recompute(conn, touched, now=now, cause=Cause.DESIGNATION)
        return len(changes)

    def all(self, conn: Connection | None = None) -> list[RiskDesignation]:
        if conn is not None:
            return evidence_repo.all_designations(conn)
        with self._db.read() as own:
            return evidence_repo.all_designations(own)
