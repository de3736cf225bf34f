"""Small-cell protection: small counts hidden, and no published sum left with a single hidden
item that subtraction would recover."""

from __future__ import annotations

import itertools
import random

from healthcode.domain.disclosure import GUARD, crosstab, protect, small_hidden, table_values


def test_a_count_below_the_threshold_reads_less_than_it() -> None:
    assert small_hidden(9, 10) == "<10" and small_hidden(0, 10) == "<10"
    assert small_hidden(10, 10) == 10


def test_a_row_total_does_not_give_its_one_small_cell_away() -> None:
    # 990 green + 7 yellow + 3 red = 1,000: red alone hidden would be 1000 - 990 - 7.
    table = crosstab({("city", "green"): 990, ("city", "yellow"): 17, ("city", "red"): 3},
                     ["city"], ["green", "yellow", "red"], 10)  # fmt: skip
    assert table.cell("city", "red") == "<10"
    assert table.cell("city", "yellow") == GUARD  # the smallest other one, hidden to guard it
    assert table.cell("city", "green") == 990 and table.row_totals["city"] == 1010


def test_a_column_total_guards_across_rows_and_the_grand_total_across_totals() -> None:
    counts = {("a", "red"): 20, ("b", "red"): 4, ("a", "green"): 30, ("b", "green"): 50}
    table = crosstab(counts, ["a", "b"], ["red", "green"], 10)
    assert table.cell("b", "red") == "<10"
    assert table.cell("a", "red") == GUARD  # else red's total 24 less a's 20 gives b's 4
    assert table.col_totals["red"] == 24 and table.total == 104
    # Row b's total is 54 with green 50 shown: red would be 4, so green or the total must go.
    assert GUARD in (table.cell("b", "green"), table.row_totals["b"])


def test_sums_over_days_join_the_table() -> None:
    values = {"all": 15, "day1": 12, "day2": 3}
    shown = protect(values, [("all", ["day1", "day2"])], 10)
    assert shown == {"all": 15, "day1": GUARD, "day2": "<10"}


def test_nothing_is_hidden_when_every_count_is_large_or_the_threshold_is_zero() -> None:
    counts = {("a", "x"): 12, ("a", "y"): 15, ("b", "x"): 11, ("b", "y"): 40}
    assert GUARD not in str(crosstab(counts, ["a", "b"], ["x", "y"], 10))
    zero = crosstab({("a", "x"): 0, ("a", "y"): 1}, ["a"], ["x", "y"], 0)
    assert (zero.cell("a", "x"), zero.cell("a", "y"), zero.total) == (0, 1, 1)


def test_no_published_sum_ever_has_exactly_one_hidden_item() -> None:
    rng = random.Random(8)
    for _ in range(300):
        rows = [f"r{n}" for n in range(rng.randint(1, 4))]
        cols = [f"c{n}" for n in range(rng.randint(1, 4))]
        counts = {
            key: rng.choice([0, 1, 3, 9, 10, 12, 40, 300]) for key in itertools.product(rows, cols)
        }
        values, sums = table_values(counts, rows, cols)
        shown = protect(values, sums, 10)
        for total, members in sums:
            hidden = [key for key in (total, *members) if isinstance(shown[key], str)]
            assert len(hidden) != 1, (counts, total)
        for key, value in values.items():
            assert shown[key] == value or isinstance(shown[key], str)
            assert value >= 10 or shown[key] == "<10"
