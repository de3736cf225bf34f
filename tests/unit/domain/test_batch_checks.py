"""A batch checked at once is accepted or refused exactly as when checked record by record.

`check_batch` parses and checks a batch's records all at once (one validation of the list,
each check over the whole batch) and, only if anything fails, again record by record for the
refusal naming the first failing record and check. So it accepts what the record-by-record
check accepts, with the same evidence, and refuses with the same code and message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode.domain.batches import (
    BatchPolicy,
    SourceRegistration,
    _checked_at_once,
    _checked_in_turn,
)
from healthcode.domain.evidence import EvidenceKind
from healthcode.errors import InputRejected

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
POLICY = BatchPolicy()
SOURCE = SourceRegistration(
    id="src-1",
    authority_id="zz-health",
    public_key=b"\x00" * 32,
    kinds=frozenset({EvidenceKind.TEST_RESULT, EvidenceKind.VENUE_VISIT, EvidenceKind.VACCINATION}),
    area="410100",
)
KNOWN_AREAS = {"410000", "410100", "410102", "410103", "310115"}
VENUE_AREAS = {"station": "410103", "market": "410102", "mall": "310115"}
PERSONS = ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"]


def _good(n: int, kind: str, person: str, minutes: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "record_id": f"r{n}",
        "kind": kind,
        "person": person,
        "area": "410102",
        "occurred_at": (AT - timedelta(minutes=minutes)).isoformat(),
    }
    if kind == "test_result":
        record |= {"method": "pcr", "result": "negative" if n % 3 else "positive"}
    elif kind == "venue_visit":
        record |= {"venue_id": "market", "presence": "proven"}
    else:
        record |= {"vaccine": "x", "dose": 1 + n % 3}
    return record


# Each spoils one record in one way: every check of `_checked_in_turn`, and ways of passing
# one check while failing another.
SPOILERS: dict[str, Any] = {
    "bad record id": lambda r: r | {"record_id": "bad id"},
    "record id with a newline": lambda r: r | {"record_id": r["record_id"] + "\n"},
    "bad person": lambda r: r | {"person": "ID 410102199001011234"},
    "person in capitals": lambda r: r | {"person": r["person"].upper()},
    "bad area": lambda r: r | {"area": "0"},
    "unknown area": lambda r: r | {"area": "410199"},
    "area outside the source": lambda r: r | {"area": "310115"},
    "parent area": lambda r: r | {"area": "410100"},
    "naive time": lambda r: r | {"occurred_at": "2026-06-01T00:00:00"},
    "time in the future": lambda r: r | {"occurred_at": (AT + timedelta(minutes=6)).isoformat()},
    "time at the skew": lambda r: r | {"occurred_at": (AT + timedelta(minutes=5)).isoformat()},
    "time just past the skew": lambda r: (
        r | {"occurred_at": (AT + timedelta(minutes=5, microseconds=1)).isoformat()}
    ),
    "time as a number": lambda r: r | {"occurred_at": 1780290000},
    "kind not allowed": lambda r: (
        {k: v for k, v in r.items() if k not in {"method", "result"}} | {"kind": "recovery"}
    ),
    "unknown kind": lambda r: r | {"kind": "red_list"},
    "extra field": lambda r: r | {"colour": "red"},
    "server field": lambda r: r | {"source_id": "src-1"},
    "received at": lambda r: r | {"received_at": AT.isoformat()},
    "missing field": lambda r: {k: v for k, v in r.items() if k != "area"},
    "not an object": lambda r: [r],
    "unknown venue": lambda r: r | {"venue_id": "nowhere"} if r["kind"] == "venue_visit" else r,
    "venue elsewhere": lambda r: r | {"venue_id": "station"} if r["kind"] == "venue_visit" else r,
    "dose as text": lambda r: r | {"dose": "2"} if r["kind"] == "vaccination" else r,
    "dose as a flag": lambda r: r | {"dose": True} if r["kind"] == "vaccination" else r,
    "dose as a whole float": lambda r: r | {"dose": 2.0} if r["kind"] == "vaccination" else r,
    "dose too high": lambda r: r | {"dose": 21} if r["kind"] == "vaccination" else r,
    "repeated record id": lambda r: r | {"record_id": "r0"},
}


@st.composite
def batches(draw: st.DrawFn) -> list[Any]:
    kinds = st.sampled_from(["test_result", "venue_visit", "vaccination"])
    size = draw(st.integers(min_value=1, max_value=12))
    records: list[Any] = [
        _good(n, draw(kinds), draw(st.sampled_from(PERSONS)), draw(st.integers(0, 600)))
        for n in range(size)
    ]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=size - 1))
        if isinstance(records[at], dict):  # a record already made a list stays one
            records[at] = SPOILERS[draw(st.sampled_from(sorted(SPOILERS)))](records[at])
    return records


def _in_turn(records: list[Any]) -> object:
    try:
        return _checked_in_turn(records, SOURCE, KNOWN_AREAS, VENUE_AREAS, POLICY, AT)
    except InputRejected as refused:
        return (refused.code, str(refused))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_at_once_accepts_exactly_what_record_by_record_accepts(records: list[Any]) -> None:
    at_once = _checked_at_once(records, SOURCE, KNOWN_AREAS, VENUE_AREAS, POLICY, AT)
    in_turn = _in_turn(records)
    if at_once is None:
        assert isinstance(in_turn, tuple)  # refused: check_batch raises what in_turn raised
    else:
        assert at_once == in_turn
        assert [item.model_fields_set for item in at_once] == [
            item.model_fields_set
            for item in _checked_in_turn(records, SOURCE, KNOWN_AREAS, VENUE_AREAS, POLICY, AT)
        ]


@pytest.mark.parametrize("spoiler", sorted(SPOILERS))
def test_each_spoiled_record_is_refused_or_accepted_alike(spoiler: str) -> None:
    for kind in ("test_result", "venue_visit", "vaccination"):
        records: list[Any] = [_good(n, kind, PERSONS[0], 60) for n in range(3)]
        records[2] = SPOILERS[spoiler](records[2])
        at_once = _checked_at_once(records, SOURCE, KNOWN_AREAS, VENUE_AREAS, POLICY, AT)
        in_turn = _in_turn(records)
        assert (at_once is None) == isinstance(in_turn, tuple), (spoiler, kind, in_turn)
        if at_once is not None:
            assert at_once == in_turn
