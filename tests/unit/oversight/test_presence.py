"""Forwarded place codes and impossible travel."""

from healthcode.domain.oversight.presence import (
    ScanHop,
    VenueDay,
    impossible_hops,
    remote_venue_days,
)


def _refs(n: int) -> tuple[str, ...]:
    return tuple(f"evidence:scan/{i}" for i in range(n))


def test_a_venue_scanned_unverified_from_far_away_by_many_is_found() -> None:
    forwarded = VenueDay("v-station", 19000, unverified=60, remote=_refs(55))
    assert remote_venue_days([forwarded]) == [forwarded]


def test_a_few_remote_scans_or_a_busy_static_code_are_not() -> None:
    few = VenueDay("v-mall", 19000, unverified=12, remote=_refs(4))
    # A printed code: every scan is unverified, most by locals; visitors are a minority.
    printed = VenueDay("v-market", 19000, unverified=300, remote=_refs(20))
    assert remote_venue_days([few, printed]) == []


def _hop(person: str, hours: float, city_to: str = "4103", proven_to: bool = False) -> ScanHop:
    return ScanHop(
        person=person, venue_from="v-home", city_from="4101", ref_from=f"evidence:s/{person}-a",
        proven_from=True, venue_to="v-far", city_to=city_to, ref_to=f"evidence:s/{person}-b",
        proven_to=proven_to, hours=hours,
    )  # fmt: skip


def test_people_in_two_cities_within_the_hour_make_the_unverified_venue_suspect() -> None:
    found = impossible_hops([_hop("p1", 0.2), _hop("p2", 0.5), _hop("p3", 0.9)])
    assert list(found) == ["v-far"] and len(found["v-far"]) == 3


def test_possible_or_proven_travel_is_not_impossible() -> None:
    hops = [
        _hop("p1", 3.0),  # a train ride
        _hop("p2", 0.3, city_to="4101"),  # the same city
        _hop("p3", 0.3, proven_to=True),  # both codes fresh: both places were real
        _hop("p4", 0.3),  # one person alone is not enough
    ]
    assert impossible_hops(hops) == {}
