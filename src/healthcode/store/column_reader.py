"""Chunks of evidence rows, as `store.columns` selects them, turned into the column arrays of
``domain.bulk_columns``: the packed code the database computes taken apart, people numbered in
key order, and the rows of the records set-asides name found among them."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from healthcode.domain.bulk_columns import NOT_LOADED, EvidenceColumns
from healthcode.domain.bulk_plan import LoadPlan

# The packed code, from the low bits up: quarantine_required (2 bits), presence (2), result
# (2), method (2), kind (4), the area code (20), the venue's code (20), the source's (10).
SHIFTS = {"quarantine_required": 0, "presence": 2, "result": 4, "method": 6}
KIND, AREA, VENUE, SOURCE = 8, 12, 32, 52
UNKNOWN_KIND = 15
_PARTS = ("person", "occurred_at", "received_at", "packed", "venue", "source")


class ColumnReader:
    """Turns chunks of rows into column arrays."""

    def __init__(
        self, persons: Sequence[str] | None, plan: LoadPlan | None, sources: list[str]
    ) -> None:
        self.fixed = persons is not None
        self.plan = plan
        self.person_index: dict[str, int] = {}
        for key in persons or ():
            self.person_index.setdefault(key, len(self.person_index))
        # Without a plan, venues and sources come as strings, coded here as they come.
        self.venue_index: dict[str | None, int] = {None: -1}
        self.source_index: dict[str | None, int] = {None: -1}
        self.sources = sources
        self.parts: dict[str, list[NDArray[Any]]] = {name: [] for name in _PARTS}

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        columns = list(zip(*rows, strict=True))
        keys, occurred, received, packed = columns[:4]
        n = len(keys)
        if self.fixed:
            person = np.fromiter(map(self.person_index.get, keys, repeat(-1, n)), np.int32, n)
        else:
            index = self.person_index
            person = np.fromiter((index.setdefault(k, len(index)) for k in keys), np.int32, n)
        chunk: dict[str, NDArray[Any]] = {
            "person": person,
            "occurred_at": np.array(occurred, dtype=np.int64),
            "received_at": np.array(received, dtype=np.int64),
            "packed": np.array(packed, dtype=np.int64),
        }
        if self.plan is None:
            venue_ix, source_ix = self.venue_index, self.source_index
            chunk["venue"] = np.fromiter(
                (venue_ix.setdefault(v, len(venue_ix) - 1) for v in columns[4]), np.int32, n
            )
            chunk["source"] = np.fromiter(
                (source_ix.setdefault(s, len(source_ix) - 1) for s in columns[5]), np.int32, n
            )
        keep = person >= 0
        everyone = bool(keep.all())
        for name, values in chunk.items():
            self.parts[name].append(values if everyone else values[keep])

    def _joined(self, name: str, dtype: type[Any]) -> NDArray[Any]:
        parts = self.parts.pop(name)
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    def columns(self, refs: Sequence[str], named: list[tuple[Any, ...]]) -> EvidenceColumns:
        """The columns; ``named`` are the rows of the records set-asides name (``refs``),
        each with its reference last."""
        person = self._joined("person", np.int32)
        persons = list(self.person_index)
        rank = np.arange(len(persons), dtype=np.int32)
        if not self.fixed:  # number people in key order
            order = sorted(range(len(persons)), key=persons.__getitem__)
            rank[order] = np.arange(len(persons), dtype=np.int32)
            person = rank[person]
            persons = [persons[i] for i in order]
        packed = self._joined("packed", np.int64)
        kind = ((packed >> KIND) & 15).astype(np.int8)
        if (kind == UNKNOWN_KIND).any():
            raise ValueError("an evidence row has a kind the bulk codes do not know")
        attributes = {
            name: ((packed >> shift) & 3).astype(np.int8) for name, shift in SHIFTS.items()
        }
        area = ((packed >> AREA) & ((1 << 20) - 1)).astype(np.int32)
        if self.plan is None:
            venue = self._joined("venue", np.int32)
            source = self._joined("source", np.int32)
            venues = tuple(v for v in self.venue_index if v is not None)
            coded = [s for s in self.source_index if s is not None]
            sources = (*coded, *(s for s in self.sources if s not in self.source_index))
        else:
            venue = (((packed >> VENUE) & ((1 << 20) - 1)) - 1).astype(np.int32)
            source = (((packed >> SOURCE) & ((1 << 10) - 1)) - 1).astype(np.int32)
            venues, sources = self.plan.venues, tuple(self.sources)
        occurred = self._joined("occurred_at", np.int64)
        received = self._joined("received_at", np.int64)
        rows = (person, occurred, received, packed, venue, source)
        found = self._positions(named, rank, rows)
        del packed
        return EvidenceColumns(
            persons=tuple(persons),
            person=person,
            kind=kind,
            occurred_at=occurred,
            received_at=received,
            area=area,
            venue=venue,
            source=source,
            venues=venues,
            sources=sources,
            refs={ref: found.get(ref, NOT_LOADED) for ref in refs},
            codes_complete=self.plan is None,
            refs_complete=False,
            plan=self.plan,
            **attributes,
        )

    def _positions(
        self,
        named: list[tuple[Any, ...]],
        rank: NDArray[np.int32],
        rows: tuple[NDArray[Any], ...],
    ) -> dict[str, int]:
        """Where each named record is among the rows: at a row coded exactly as it is. Two
        records coded alike are the same to the evaluation, so either stands for the other;
        each named record gets a row of its own."""
        keys: list[tuple[str, tuple[int, ...]]] = []
        for row in named:
            person = self.person_index.get(row[0], -1)
            if person < 0:
                continue
            packed = int(row[3])
            if self.plan is None:
                venue = self.venue_index.get(row[4], -2)
                source = self.source_index.get(row[5], -2)
            else:
                venue = ((packed >> VENUE) & ((1 << 20) - 1)) - 1
                source = ((packed >> SOURCE) & ((1 << 10) - 1)) - 1
            keys.append((row[-1], (int(rank[person]), row[1], row[2], packed, venue, source)))
        if not keys:
            return {}
        people = np.array(sorted({key[0] for _, key in keys}), dtype=np.int32)
        candidates: dict[tuple[int, ...], list[int]] = {}
        for position in np.flatnonzero(np.isin(rows[0], people)).tolist():
            key = tuple(int(column[position]) for column in rows)
            candidates.setdefault(key, []).append(position)
        found: dict[str, int] = {}
        for ref, key in sorted(keys):
            free = candidates.get(key)
            if free:
                found[ref] = free.pop(0)
        return found
