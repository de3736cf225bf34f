"""Evidence as columns: one numpy array per attribute, one row per evidence record.

This is the input of the bulk evaluation (``domain.bulk``). Every value a rule can read is a
small integer code, so a rule's trigger is a handful of vectorised comparisons:

- ``kind``: the index of the record's kind in ``KINDS``;
- ``method``, ``result``, ``presence``, ``quarantine_required``: ``1 +`` the index of the value
  in ``ATTRIBUTES[name]``, ``0`` when the record has no such attribute (another kind);
- ``area``: the six-digit GB/T 2260 code as an integer (containment is a range of integers);
- ``occurred_at``, ``received_at``: microseconds since the Unix epoch (UTC), as stored;
- ``person``: an index into ``persons`` (the person keys);
- ``venue``: an index into ``venues``, ``-1`` for no venue (or, when the vocabularies are not
  complete, a venue outside ``venues``);
- ``source``: an index into ``sources``, ``-1`` likewise.

``refs`` maps evidence references (``source/record``) to row positions, so that set-asides of
single records can be applied; ``-1`` means the record is not among these rows.

A loader that reads only what a rulebook needs (see ``domain.bulk_plan``) may code only the
venues and sources that matter (``codes_complete`` False), and resolves only the references it
was asked for (``refs_complete`` False); the evaluation then refuses a designation or
set-aside naming anything outside them, instead of silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from healthcode.domain.evidence import (
    MATCHABLE,
    Evidence,
    EvidenceKind,
    Presence,
    TestMethod,
    TestOutcome,
)
from healthcode.domain.rulebook import Colour

if TYPE_CHECKING:
    from healthcode.domain.bulk_plan import LoadPlan

KINDS: tuple[EvidenceKind, ...] = tuple(EvidenceKind)
KIND_CODE: dict[EvidenceKind, int] = {kind: code for code, kind in enumerate(KINDS)}
# The attributes a rule may match on, and the values each takes (code = 1 + position).
ATTRIBUTES: dict[str, tuple[object, ...]] = {
    "method": tuple(TestMethod),
    "result": tuple(TestOutcome),
    "presence": tuple(Presence),
    "quarantine_required": (False, True),
}
COLOURS: tuple[Colour, ...] = tuple(Colour)
COLOUR_CODE: dict[Colour, int] = {colour: code for code, colour in enumerate(COLOURS)}
NO_END = np.iinfo(np.int64).max  # valid_until / episode end "None"
NOT_LOADED = -1  # a reference whose record is not among the rows

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

I8 = NDArray[np.int8]
I32 = NDArray[np.int32]
I64 = NDArray[np.int64]


def _check_attributes() -> None:
    for kind, fields in MATCHABLE.items():
        for name, values in fields.items():
            if name not in ATTRIBUTES or not set(values) <= set(ATTRIBUTES[name]):
                raise RuntimeError(f"bulk codes miss {kind}.{name}")  # pragma: no cover


_check_attributes()


def attribute_code(name: str, value: object) -> int:
    """The code of ``value`` in column ``name`` (0 for no value)."""
    if value is None:
        return 0
    for position, known in enumerate(ATTRIBUTES[name]):
        if known == value:  # as ``status._matches`` compares
            return position + 1
    raise ValueError(f"{name} cannot be {value!r}")


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (as ``store.instants`` stores instants)."""
    if value.tzinfo is None:
        raise ValueError("instants must be aware datetimes")
    return (value - _EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


def duration_micros(value: timedelta) -> int:
    return value // _MICRO


def area_range(code: str) -> tuple[int, int]:
    """The integer codes inside area ``code`` (``areas.contains``): ``[low, high)``."""
    number = int(code)
    if not (100_000 <= number <= 999_999):
        raise ValueError(f"not a six-digit area code: {code!r}")
    if code.endswith("0000"):
        return number, number + 10_000
    if code.endswith("00"):
        return number, number + 100
    return number, number + 1


@dataclass(frozen=True, eq=False)
class EvidenceColumns:
    """Evidence records as columns (see the module docstring for the codes)."""

    persons: tuple[str, ...]
    person: I32
    kind: I8
    occurred_at: I64
    received_at: I64
    method: I8
    result: I8
    presence: I8
    quarantine_required: I8
    area: I32
    venue: I32
    source: I32
    venues: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    refs: Mapping[str, int] = field(default_factory=dict)
    codes_complete: bool = True  # every row's venue and source is coded
    refs_complete: bool = True  # every row's reference is in ``refs``
    # What was loaded: None for every record; else only what this plan needs (bulk_plan).
    plan: LoadPlan | None = None

    def __post_init__(self) -> None:
        n = len(self.person)
        expected = {
            "person": np.int32, "kind": np.int8, "occurred_at": np.int64,
            "received_at": np.int64, "method": np.int8, "result": np.int8,
            "presence": np.int8, "quarantine_required": np.int8, "area": np.int32,
            "venue": np.int32, "source": np.int32,
        }  # fmt: skip
        for name, dtype in expected.items():
            array = getattr(self, name)
            if not isinstance(array, np.ndarray) or array.dtype != dtype or array.shape != (n,):
                raise ValueError(f"column {name} must be a 1-d {np.dtype(dtype)} array of {n}")

    def __len__(self) -> int:
        return len(self.person)

    @property
    def nbytes(self) -> int:
        return sum(
            getattr(self, name).nbytes
            for name in ("person", "kind", "occurred_at", "received_at", "method", "result",
                         "presence", "quarantine_required", "area", "venue", "source")
        )  # fmt: skip

    @cached_property
    def person_index(self) -> dict[str, int]:
        """Person key -> position in ``persons``."""
        return {key: position for position, key in enumerate(self.persons)}

    def take(self, rows: NDArray[np.intp] | NDArray[np.bool_]) -> EvidenceColumns:
        """These rows only (an index array or a mask); references follow their rows."""
        positions = np.arange(len(self), dtype=np.int64)[rows]
        moved = np.full(len(self) + 1, NOT_LOADED, dtype=np.int64)
        moved[positions] = np.arange(len(positions))
        refs = {ref: int(moved[row]) for ref, row in self.refs.items()}
        return EvidenceColumns(
            persons=self.persons,
            person=self.person[positions],
            kind=self.kind[positions],
            occurred_at=self.occurred_at[positions],
            received_at=self.received_at[positions],
            method=self.method[positions],
            result=self.result[positions],
            presence=self.presence[positions],
            quarantine_required=self.quarantine_required[positions],
            area=self.area[positions],
            venue=self.venue[positions],
            source=self.source[positions],
            venues=self.venues,
            sources=self.sources,
            refs=refs,
            codes_complete=self.codes_complete,
            refs_complete=self.refs_complete,
            plan=self.plan,
        )

    @classmethod
    def from_evidence(
        cls, evidence: Iterable[Evidence], persons: Sequence[str] | None = None
    ) -> EvidenceColumns:
        """Columns of domain evidence values (tests, small sets); complete vocabularies.

        ``persons`` fixes the people (and their order); evidence of anyone else is left out.
        By default: every person with evidence, sorted.
        """
        items = list(evidence)
        keys = (
            tuple(dict.fromkeys(persons))
            if persons is not None
            else tuple(sorted({item.person for item in items}))
        )
        index = {key: position for position, key in enumerate(keys)}
        items = [item for item in items if item.person in index]
        venues = tuple(sorted({v for item in items if (v := getattr(item, "venue_id", None))}))
        sources = tuple(sorted({item.source_id for item in items}))
        venue_index = {venue: position for position, venue in enumerate(venues)}
        source_index = {source: position for position, source in enumerate(sources)}

        def column(values: Iterable[int], dtype: type[Any]) -> NDArray[Any]:
            return np.fromiter(values, dtype=dtype, count=len(items))

        def attribute(name: str) -> I8:
            return column(
                (attribute_code(name, getattr(item, name, None)) for item in items), np.int8
            )

        return cls(
            persons=keys,
            person=column((index[item.person] for item in items), np.int32),
            kind=column((KIND_CODE[item.kind] for item in items), np.int8),
            occurred_at=column((to_micros(item.occurred_at) for item in items), np.int64),
            received_at=column((to_micros(item.received_at) for item in items), np.int64),
            method=attribute("method"),
            result=attribute("result"),
            presence=attribute("presence"),
            quarantine_required=attribute("quarantine_required"),
            area=column((int(item.area) for item in items), np.int32),
            venue=column(
                (venue_index.get(getattr(item, "venue_id", None) or "", -1) for item in items),
                np.int32,
            ),
            source=column((source_index[item.source_id] for item in items), np.int32),
            venues=venues,
            sources=sources,
            refs={item.ref: position for position, item in enumerate(items)},
        )
