"""Small-cell protection for published counts: hide a count below the threshold, and hide
enough others that no published sum gives a hidden one away.

Hiding a small count is not enough when its row total is shown: a city of 1,000 people with
990 green and 7 yellow shown and red hidden has 3 red, by subtraction. So every published sum
(a row total, a column total, the grand total, a total over days) is an equation among
published items, and each equation must hide either none of its items or at least two. When
one is hidden alone, the smallest visible member of that equation is hidden too, and so on
until no equation has a single hidden item (the usual "complementary suppression"). This
defends against differencing one sum at a time; it is not a full audit of every combination
of sums and bounds (a total of exactly 10 over a "<10" and a "×" pins both), which is why the
pages publish few, simple sums.

A hidden count reads "<10" when it is small and "×" when it was hidden to guard another one
(it is 10 or more, and saying "<10" of it would be false).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
GUARD = "×"  # a count hidden only so that a sum does not give a small one away
Count = int | str  # a count, or how it reads hidden: "<10" or "×"
Key = tuple[str, ...]  # a cross-table's item: ("cell", row, col), ("row", r), ("col", c), ("all",)


def small_hidden(count: int, min_cell: int) -> Count:
    """A count on its own (in no published sum): the number, or "<10" below the threshold."""
    return count if count >= min_cell else f"<{min_cell}"


def protect(
    values: Mapping[K, int], sums: Iterable[tuple[K, Sequence[K]]], min_cell: int
) -> dict[K, Count]:
    """Each value as published: hidden ("<10") below ``min_cell``, and hidden ("×") wherever
    needed so that no sum in ``sums`` has exactly one hidden item among its total and its
    members."""
    equations = [(total, tuple(members)) for total, members in sums if members]
    small = {key for key, value in values.items() if value < min_cell}
    hidden = set(small)
    changed = True
    while changed:
        changed = False
        for total, members in equations:
            items = (total, *members)
            if sum(item in hidden for item in items) != 1:
                continue
            # Hide the smallest visible member (it costs the least information); the total
            # only when no member is left to hide. Ties go by key, so pages are stable.
            candidates = [m for m in members if m not in hidden] or [total]
            hidden.add(min(candidates, key=lambda key: (values[key], repr(key))))
            changed = True
    return {
        key: small_hidden(value, min_cell) if key in small else GUARD if key in hidden else value
        for key, value in values.items()
    }


@dataclass(frozen=True)
class Table:
    """A protected cross-table: cells, row and column totals and the grand total, as published."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: dict[tuple[str, str], Count]
    row_totals: dict[str, Count]
    col_totals: dict[str, Count]
    total: Count

    def cell(self, row: str, col: str) -> Count:
        return self.cells[(row, col)]


def table_values(
    counts: Mapping[tuple[str, str], int], rows: Sequence[str], cols: Sequence[str]
) -> tuple[dict[Key, int], list[tuple[Key, list[Key]]]]:
    """A cross-table's items keyed ("cell", r, c), ("row", r), ("col", c), ("all",), and the
    sums among them, for ``protect`` (with any further sums the caller publishes)."""
    values: dict[Key, int] = {}
    for r in rows:
        for c in cols:
            values[("cell", r, c)] = counts.get((r, c), 0)
    for r in rows:
        values[("row", r)] = sum(counts.get((r, c), 0) for c in cols)
    for c in cols:
        values[("col", c)] = sum(counts.get((r, c), 0) for r in rows)
    values[("all",)] = sum(values[("row", r)] for r in rows)
    sums: list[tuple[Key, list[Key]]] = []
    for r in rows:
        sums.append((("row", r), [("cell", r, c) for c in cols]))
    for c in cols:
        sums.append((("col", c), [("cell", r, c) for r in rows]))
    sums.append((("all",), [("row", r) for r in rows]))
    sums.append((("all",), [("col", c) for c in cols]))
    return values, sums


def table_of(protected: Mapping[Key, Count], rows: Sequence[str], cols: Sequence[str]) -> Table:
    return Table(
        rows=tuple(rows),
        cols=tuple(cols),
        cells={(r, c): protected[("cell", r, c)] for r in rows for c in cols},
        row_totals={r: protected[("row", r)] for r in rows},
        col_totals={c: protected[("col", c)] for c in cols},
        total=protected[("all",)],
    )


def crosstab(
    counts: Mapping[tuple[str, str], int], rows: Sequence[str], cols: Sequence[str], min_cell: int
) -> Table:
    """A cross-table with its margins, protected."""
    values, sums = table_values(counts, rows, cols)
    return table_of(protect(values, sums, min_cell), rows, cols)
