"""Typed views of a schema-valid DCC payload: holder name, date of birth and the event entry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .errors import SchemaError
from .model import (
    CertificateKind,
    EventDetails,
    PersonName,
    RecoveryDetails,
    TestDetails,
    VaccinationDetails,
)


def _bad(field: str) -> SchemaError:
    return SchemaError(f"field {field} is missing or malformed", f"字段 {field} 缺失或格式错误")


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise _bad(key)
    return value


def _optional_text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(key)
    return value


def _int(entry: Mapping[str, Any], key: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key)
    return value


def _date(entry: Mapping[str, Any], key: str) -> date:
    # Schema 1.0.x allowed full date-times where later versions want a date; keep the day.
    text = _text(entry, key)
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise _bad(key) from exc


def _datetime(entry: Mapping[str, Any], key: str) -> datetime:
    text = _text(entry, key)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _bad(key) from exc
    # RFC 3339 demands an offset; tolerate its absence as UTC, as HCERT asks decoders to be lenient.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def person_name(payload: Mapping[str, Any]) -> PersonName:
    """The holder's name group `nam`."""
    nam = payload.get("nam")
    if not isinstance(nam, Mapping):
        raise _bad("nam")
    return PersonName(
        family=_optional_text(nam, "fn"),
        given=_optional_text(nam, "gn"),
        family_standardised=_text(nam, "fnt"),
        given_standardised=_optional_text(nam, "gnt"),
    )


def event_entry(payload: Mapping[str, Any], kind: CertificateKind) -> Mapping[str, Any]:
    """The single entry of the payload's event group."""
    entries = payload.get(kind.value)
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], Mapping):
        raise _bad(kind.value)
    entry: Mapping[str, Any] = entries[0]
    return entry


def event_details(entry: Mapping[str, Any], kind: CertificateKind) -> EventDetails:
    """The typed fields of the event entry."""
    if kind is CertificateKind.TEST:
        return TestDetails(
            disease=_text(entry, "tg"),
            test_type=_text(entry, "tt"),
            sample_time=_datetime(entry, "sc"),
            result=_text(entry, "tr"),
            name=_optional_text(entry, "nm"),
            manufacturer=_optional_text(entry, "ma"),
            centre=_optional_text(entry, "tc"),
        )
    if kind is CertificateKind.VACCINATION:
        return VaccinationDetails(
            disease=_text(entry, "tg"),
            prophylaxis=_text(entry, "vp"),
            product=_text(entry, "mp"),
            manufacturer=_text(entry, "ma"),
            dose_number=_int(entry, "dn"),
            total_doses=_int(entry, "sd"),
            date=_date(entry, "dt"),
        )
    return RecoveryDetails(
        disease=_text(entry, "tg"),
        first_positive=_date(entry, "fr"),
        valid_from=_date(entry, "df"),
        valid_until=_date(entry, "du"),
    )
