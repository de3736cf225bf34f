"""A record's numbers and flags are read as JSON holds them: a signed record whose
``quarantine_required`` is the text ``"false"`` (or the number 0) is no record, not a flag read
into it, and a dose of ``"2"`` or ``true`` is no dose. ``2.0`` is the dose 2: RFC 8785 encodes
the two alike, so they are the same signed bytes. A record stored before intake was strict is
read back (``lax``) as intake read it then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from healthcode.domain import evidence as ev

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
BASE = {"record_id": "r1", "person": "0" * 32, "area": "410103", "occurred_at": AT.isoformat()}
ENTRY = {**BASE, "kind": "border_entry", "port": "PEK", "quarantine_required": True}
DOSE = {**BASE, "kind": "vaccination", "vaccine": "x", "dose": 2}


def _parsed(record: dict[str, Any]) -> ev.Evidence:
    return ev.parse_evidence(record, source_id="src-1", received_at=AT)


def _each(record: dict[str, Any], *, lax: bool = False) -> list[ev.Evidence] | None:
    return ev.parse_evidence_all([record], source_id="src-1", received_at=AT, lax=lax)


@pytest.mark.parametrize("flag", ["false", "true", "0", "yes", 0, 1, 1.0, None])
def test_a_flag_that_is_not_a_json_boolean_is_refused(flag: object) -> None:
    record = {**ENTRY, "quarantine_required": flag}
    with pytest.raises(ev.EvidenceFormatError, match="quarantine_required"):
        _parsed(record)
    assert _each(record) is None


@pytest.mark.parametrize("dose", ["2", " 2", "2.0", True, 2.5, None])
def test_a_dose_that_is_not_a_json_integer_is_refused(dose: object) -> None:
    record = {**DOSE, "dose": dose}
    with pytest.raises(ev.EvidenceFormatError, match="dose"):
        _parsed(record)
    assert _each(record) is None


def test_json_values_are_read_as_they_are() -> None:
    for flag in (True, False):
        entry = _parsed({**ENTRY, "quarantine_required": flag})
        assert isinstance(entry, ev.BorderEntry) and entry.quarantine_required is flag
    for dose in (2, 2.0):
        [item] = _each({**DOSE, "dose": dose}) or []
        assert isinstance(item, ev.Vaccination) and (type(item.dose), item.dose) == (int, 2)
        assert _parsed({**DOSE, "dose": dose}) == item


def test_a_record_stored_before_intake_was_strict_is_read_as_it_was_then() -> None:
    read = _each({**ENTRY, "quarantine_required": "true"}, lax=True)
    assert read is not None and read[0].quarantine_required is True  # type: ignore[union-attr]
    read = _each({**DOSE, "dose": "2"}, lax=True)
    assert read is not None and read[0].dose == 2  # type: ignore[union-attr]


def test_the_published_schema_keeps_the_dose_s_bounds() -> None:
    # A bound placed after the validator that reads 2.0 as 2 is published as `ge`/`le`,
    # which JSON Schema does not know (domain/json_values.py).
    dose = TypeAdapter(ev.Evidence).json_schema()["$defs"]["Vaccination"]["properties"]["dose"]
    assert (dose["type"], dose["minimum"], dose["maximum"]) == ("integer", 1, 20)


@pytest.mark.parametrize(
    "instant", [1_780_300_800, 1_780_300_800.0, True, "1780300800", "2026-06-01 08:00:00Z"]
)
def test_an_instant_that_is_not_iso_date_time_text_is_refused(instant: object) -> None:
    record = {**DOSE, "occurred_at": instant}
    with pytest.raises(ev.EvidenceFormatError, match="occurred_at"):
        _parsed(record)
    assert _each(record) is None


def test_an_instant_is_iso_text_with_its_offset() -> None:
    for text in ("2026-06-01T16:00:00+08:00", "2026-06-01T08:00:00Z", "2026-06-01T08:00:00.000Z"):
        assert _parsed({**DOSE, "occurred_at": text}).occurred_at == AT
    with pytest.raises(ev.EvidenceFormatError, match="occurred_at: timezone_aware"):
        _parsed({**DOSE, "occurred_at": "2026-06-01T08:00:00"})


def test_an_instant_stored_before_intake_was_strict_is_read_as_it_was_then() -> None:
    read = _each({**DOSE, "occurred_at": 1_780_300_800}, lax=True)
    assert read is not None and read[0].occurred_at == AT
