"""Guardianships: a guardian of more people than a family holds, and guardianships ended soon
after they began, are found; a family-sized guardian, a long guardianship and what lies outside
the window are not."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from healthcode.domain.oversight.guardianships import (
    GuardianshipPolicy,
    Held,
    guardian_subject,
    short_guardianships,
    wide_guardians,
)

NOW = datetime(2026, 6, 30, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)


def held(
    dependant: str, *, index: int | None, since: datetime, until: datetime | None = None,
    guardian: str = "g", reads: int = 0,
) -> Held:  # fmt: skip
    return Held(guardian, dependant, since, until, index, reads)


def family(size: int, *, guardian: str = "g", first: int = 100) -> list[Held]:
    at = NOW - timedelta(days=3)
    return [held(f"{guardian}-d{n}", index=first + n, since=at, guardian=guardian)
            for n in range(size)]  # fmt: skip


def wide(rows: list[Held], policy: GuardianshipPolicy = GuardianshipPolicy()) -> list[str]:
    found = wide_guardians(rows, since=SINCE, now=NOW, policy=policy)
    return [w.guardian for w in found]


def test_a_guardian_of_more_than_a_family_is_found_with_its_entries() -> None:
    [found] = wide_guardians(family(9) + family(6, guardian="parent"), since=SINCE, now=NOW)
    assert (found.guardian, found.dependants, found.excess) == ("g", 9, 3)
    assert found.entries == tuple(range(100, 109))


def test_a_family_sized_guardian_is_not() -> None:
    assert wide(family(6)) == []
    assert wide(family(6), GuardianshipPolicy(max_dependants=5)) == ["g"]


def test_one_dependant_after_another_counts_and_a_pair_recorded_again_counts_once() -> None:
    """Ending each before recording the next hides nothing; the same dependant twice is one."""
    day = timedelta(days=1)
    serial = [held(f"d{n}", index=10 + n, since=SINCE + n * day, until=SINCE + (n + 1) * day)
              for n in range(7)]  # fmt: skip
    assert wide(serial) == ["g"]
    again = [held("d0", index=10 + n, since=SINCE + n * day, until=SINCE + (n + 1) * day)
             for n in range(7)]  # fmt: skip
    assert wide(again) == []


def test_the_window_is_respected() -> None:
    before = [held(f"d{n}", index=n, since=SINCE - timedelta(days=9),
                   until=SINCE - timedelta(hours=1)) for n in range(4)]  # fmt: skip
    after = [held(f"e{n}", index=50 + n, since=NOW) for n in range(4)]
    assert wide(family(3) + before + after) == []  # 3 in the window
    # Ended at the window's start exactly: not in force in it; an hour later: in force.
    edge = [held(f"d{n}", index=n, since=SINCE - timedelta(days=9), until=SINCE)
            for n in range(4)]  # fmt: skip
    assert wide(family(3) + edge) == []
    later = [replace(h, until=SINCE + timedelta(hours=1)) for h in edge]
    assert wide(family(3) + later) == ["g"]


def test_guardianships_never_logged_count_but_name_no_record() -> None:
    unlogged = [held(f"u{n}", index=None, since=NOW - timedelta(days=900)) for n in range(5)]
    [found] = wide_guardians(family(2) + unlogged, since=SINCE, now=NOW)
    assert found.dependants == 7 and found.entries == (100, 101)
    # Seven, none logged: no record a finding could name (recording them again logs them).
    assert (
        wide([*unlogged, held("u8", index=None, since=SINCE), held("u9", index=None, since=SINCE)])
        == []
    )


def test_a_guardianship_ended_within_the_hours_is_found_with_the_reads_meanwhile() -> None:
    at = NOW - timedelta(days=2)
    rows = [
        held("d1", index=7, since=at, until=at + timedelta(minutes=12), reads=2),
        held("d2", index=9, since=at, until=at + timedelta(hours=3), reads=1),
        held("d3", index=11, since=at, until=at + timedelta(days=40)),  # long: not
        held("d4", index=13, since=at, until=at + timedelta(hours=2), guardian="h"),
    ]
    found = short_guardianships(rows, since=SINCE, now=NOW)
    assert [(s.guardian, s.entries, s.reads) for s in found] == [("g", (7, 9), 3), ("h", (13,), 0)]
    assert found[0].shortest == timedelta(minutes=12)
    assert short_guardianships(rows[1:2], since=SINCE, now=NOW,
                               policy=GuardianshipPolicy(min_hours_in_force=2)) == []  # fmt: skip


def test_a_long_one_or_one_ended_outside_the_window_is_not() -> None:
    at = NOW - timedelta(days=2)
    assert short_guardianships(
        [held("d1", index=1, since=at, until=at + timedelta(hours=25))], since=SINCE, now=NOW
    ) == []  # fmt: skip
    old = SINCE - timedelta(hours=1)
    outside = [
        held("d1", index=1, since=old - timedelta(minutes=5), until=old),
        held("d2", index=2, since=NOW, until=NOW + timedelta(minutes=5)),
        held("d3", index=None, since=at, until=at + timedelta(minutes=5)),  # never logged
        held("d4", index=4, since=at),  # in force
    ]
    assert short_guardianships(outside, since=SINCE, now=NOW) == []


def test_a_guardian_is_named_by_an_entry_never_by_a_key() -> None:
    assert guardian_subject(42) == "guardian:42"
