"""Presence anomalies: a venue's code scanned, unverified, by many people who were elsewhere
(a forwarded place code, A2), and scans that would need impossible travel.

A scan is *remote* when the scanning person lives in another city than the venue and has no
scan in the venue's city that day other than unverified ones of this venue; a venue-day with
at least ``min_remote`` remote unverified scans, making up at least ``min_share`` of that
venue-day's unverified scans, is a finding. Travel is *impossible* when one person's two
consecutive scans lie in different cities less than ``min_hours_between_cities`` apart and one
of them is unverified (two proven scans cannot both be wrong: their codes were fresh).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PresencePolicy:
    min_remote: int = 10
    min_share: float = 0.5
    min_hours_between_cities: float = 1.0
    min_travellers: int = 3


@dataclass(frozen=True)
class VenueDay:
    venue_id: str
    day: int
    unverified: int  # every unverified scan of the venue that day
    remote: tuple[str, ...]  # evidence refs of the remote ones


def remote_venue_days(
    cells: Iterable[VenueDay], policy: PresencePolicy = PresencePolicy()
) -> list[VenueDay]:
    return [
        cell
        for cell in cells
        if len(cell.remote) >= policy.min_remote
        and len(cell.remote) >= policy.min_share * cell.unverified
    ]


@dataclass(frozen=True)
class ScanHop:
    """Two consecutive scans of one person: where and when, and whether each was proven."""

    person: str
    venue_from: str
    city_from: str
    ref_from: str
    proven_from: bool
    venue_to: str
    city_to: str
    ref_to: str
    proven_to: bool
    hours: float


def impossible_hops(
    hops: Iterable[ScanHop], policy: PresencePolicy = PresencePolicy()
) -> dict[str, list[ScanHop]]:
    """Impossible hops by the venue whose unverified scan makes them impossible; only venues
    with at least ``min_travellers`` distinct people are kept (one person's odd day is noise)."""
    by_venue: dict[str, list[ScanHop]] = {}
    for hop in hops:
        if hop.city_from == hop.city_to or hop.hours >= policy.min_hours_between_cities:
            continue
        for venue, proven in ((hop.venue_from, hop.proven_from), (hop.venue_to, hop.proven_to)):
            if not proven:
                by_venue.setdefault(venue, []).append(hop)
    return {
        venue: found
        for venue, found in sorted(by_venue.items())
        if len({hop.person for hop in found}) >= policy.min_travellers
    }
