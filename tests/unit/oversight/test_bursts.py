"""Bursts of acts by one actor against its own recent days."""

from healthcode.domain.oversight.bursts import BurstPolicy, bursts


def test_a_day_far_above_the_actor_s_week_is_a_burst() -> None:
    counts = {("official-a", day): 5 for day in range(100, 107)} | {("official-a", 107): 40}
    [burst] = bursts(counts, first_day=100)
    assert (burst.actor, burst.day, burst.count) == ("official-a", 107, 40)
    assert burst.baseline == 5 and burst.score == 8


def test_steady_growth_and_small_days_are_not_bursts() -> None:
    # An outbreak doubling every few days: each day within 4x of the week before it.
    growing = {("official-b", 100 + day): 3 * 2 ** (day // 3) for day in range(15)}
    assert bursts(growing, first_day=100) == []
    # A quiet official's busiest day stays under the minimum count.
    quiet = {("official-c", 100): 0, ("official-c", 101): 19}
    assert bursts(quiet, first_day=100) == []


def test_days_before_the_window_only_serve_as_baseline() -> None:
    counts = {("official-d", 90): 50, ("official-d", 101): 60}
    found = bursts(counts, first_day=100, policy=BurstPolicy(min_count=20))
    assert [b.day for b in found] == [101]
