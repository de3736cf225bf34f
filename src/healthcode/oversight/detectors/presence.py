"""Presence anomalies: forwarded place codes (many remote unverified scans of one venue) and
scans that would need impossible travel (domain/oversight/presence.py says when)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, case, exists, func, select

from healthcode.domain.oversight import Finding, evidence_ref
from healthcode.domain.oversight.presence import (
    PresencePolicy,
    ScanHop,
    VenueDay,
    impossible_hops,
    remote_venue_days,
)
from healthcode.oversight.api import DetectorContext
from healthcode.oversight.sql import (
    HOUR_MICROS,
    city_of,
    day_label,
    day_of,
    day_start,
    micros,
    not_by_index,
    unverified_visit,
)
from healthcode.store import tables as t


class RemoteScans:
    name = "remote_scans"
    title_zh = "同一场所码被异地大量扫描"
    title_en = "A venue's code scanned from far away"

    def __init__(self, policy: PresencePolicy = PresencePolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        e, p = t.evidence, t.persons
        unverified = and_(
            unverified_visit(e),
            e.c.occurred_at >= context.since,
            e.c.occurred_at < context.now,
        )
        day = day_of(e.c.occurred_at)
        elsewhere = city_of(p.c.home_area) != city_of(e.c.area_code)
        # First the venue-days that could qualify (counted in the database, a small answer)...
        cells = {}
        for row in context.conn.execute(
            select(
                e.c.venue_id,
                day.label("day"),
                func.count().label("n"),
                func.sum(case((elsewhere, 1), else_=0)).label("far"),
            )
            .select_from(e.join(p, p.c.person_key == e.c.person_key))
            .where(unverified)
            .group_by(e.c.venue_id, day)
        ):
            if (row.far or 0) >= self.policy.min_remote:
                cells[(row.venue_id, row.day)] = row.n
        # ...then, for those only, the scans of people with no other scan in that city that day.
        remote: dict[tuple[str, int], list[str]] = defaultdict(list)
        for (venue_id, cell_day), _ in sorted(cells.items()):
            start = day_start(cell_day)
            other_scan_there = _other_scan(e, start, start + timedelta(days=1))
            for row in context.conn.execute(
                select(e.c.source_id, e.c.record_id)
                .select_from(e.join(p, p.c.person_key == e.c.person_key))
                .where(
                    unverified_visit(e),
                    e.c.venue_id == venue_id,
                    e.c.occurred_at >= start,
                    e.c.occurred_at < start + timedelta(days=1),
                    elsewhere,
                    ~other_scan_there,
                )
            ):
                remote[(venue_id, cell_day)].append(evidence_ref(row.source_id, row.record_id))
        found = remote_venue_days(
            (VenueDay(venue, d, cells[(venue, d)], tuple(refs)) for (venue, d), refs in remote.items()),
            self.policy,
        )  # fmt: skip
        for cell in found:
            start = day_start(cell.day)
            yield Finding(
                detector=self.name,
                subject=f"venue:{cell.venue_id}",
                summary_zh=f"场所 {cell.venue_id} 的场所码于 {day_label(cell.day)} 被 "
                f"{len(cell.remote)} 名异地人员未经验证地扫描（当日共 {cell.unverified} 次未验证扫描）。",
                summary_en=f"Venue {cell.venue_id}'s code was scanned unverified by "
                f"{len(cell.remote)} people from other cities on {day_label(cell.day)} "
                f"({cell.unverified} unverified scans that day).",
                score=len(cell.remote) / max(cell.unverified, 1),
                window_from=start,
                window_to=start + timedelta(days=1),
                records=tuple(sorted(cell.remote)),
            )


def _other_scan(e: Table, start: datetime, end: datetime) -> ColumnElement[bool]:
    """Another scan by the person of ``e``'s record, in the same city between ``start`` and
    ``end``: proven, or at another venue. Reached by person and time (``ix_evidence_person``)."""
    v = e.alias("v")
    return exists().where(
        v.c.person_key == e.c.person_key,
        v.c.occurred_at >= start,
        v.c.occurred_at < end,
        not_by_index(v.c.kind) == "venue_visit",
        city_of(v.c.area_code) == city_of(e.c.area_code),
        v.c.record_id != e.c.record_id,
        (v.c.presence == "proven") | (v.c.venue_id != e.c.venue_id),
    )


class ImpossibleTravel:
    name = "impossible_travel"
    title_zh = "不可能的行程"
    title_en = "Impossible travel between scans"

    def __init__(self, policy: PresencePolicy = PresencePolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        u, v = t.evidence.alias("u"), t.evidence.alias("v")
        reach = int(self.policy.min_hours_between_cities * HOUR_MICROS)
        query = (
            select(
                u.c.person_key,
                u.c.venue_id.label("u_venue"),
                u.c.area_code.label("u_area"),
                u.c.source_id.label("u_source"),
                u.c.record_id.label("u_record"),
                u.c.occurred_at.label("u_at"),
                v.c.venue_id.label("v_venue"),
                v.c.area_code.label("v_area"),
                v.c.source_id.label("v_source"),
                v.c.record_id.label("v_record"),
                v.c.presence.label("v_presence"),
                v.c.occurred_at.label("v_at"),
            )
            .select_from(
                u.join(
                    v,
                    and_(
                        v.c.person_key == u.c.person_key,
                        v.c.occurred_at >= micros(u.c.occurred_at) - reach,
                        v.c.occurred_at <= micros(u.c.occurred_at) + reach,
                    ),
                )
            )
            .where(
                unverified_visit(u),
                u.c.occurred_at >= context.since,
                u.c.occurred_at < context.now,
                not_by_index(v.c.kind) == "venue_visit",
                city_of(v.c.area_code) != city_of(u.c.area_code),
            )
        )
        hops = []
        for row in context.conn.execute(query):
            hours = abs((row.u_at - row.v_at).total_seconds()) / 3600
            hops.append(ScanHop(
                person=row.person_key, venue_from=row.v_venue, city_from=row.v_area[:4],
                ref_from=evidence_ref(row.v_source, row.v_record),
                proven_from=row.v_presence == "proven", venue_to=row.u_venue,
                city_to=row.u_area[:4], ref_to=evidence_ref(row.u_source, row.u_record),
                proven_to=False, hours=hours,
            ))  # fmt: skip
        for venue, found in impossible_hops(hops, self.policy).items():
            refs = sorted({hop.ref_to if hop.venue_to == venue else hop.ref_from for hop in found})
            people = len({hop.person for hop in found})
            yield Finding(
                detector=self.name,
                subject=f"venue:{venue}",
                summary_zh=f"{people} 人在场所 {venue} 的未验证扫描前后一小时内在另一城市扫码，"
                "行程不可能。",
                summary_en=f"{people} people scanned venue {venue}'s code unverified within "
                "an hour of a scan in another city: travel that is not possible.",
                score=float(people),
                window_from=context.since,
                window_to=context.now,
                records=tuple(refs),
            )
