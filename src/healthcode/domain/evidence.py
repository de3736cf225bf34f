"""The closed set of evidence kinds, each a typed value carrying an area code and a time.

``occurred_at`` is the time the evidence speaks of (sample, visit, exposure, entry), from which
every rule window is measured; ``received_at`` is when healthcode received it, which decides
from when it may count (the status at ``t`` uses only what was received by ``t``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    TypeAdapter,
    ValidationError,
)

from healthcode.domain.json_values import WHOLE, JsonInstant
from healthcode.domain.people import PERSON_KEY_PATTERN

RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
AREA_CODE_PATTERN = r"^[1-9][0-9]{5}$"
# Free text holds no NUL: PostgreSQL cannot store one, and a batch must fare alike on both stores.
NO_NUL_PATTERN = r"^[^\x00]*$"
# Fields the server sets; a submitted record may not carry them.
SERVER_FIELDS = frozenset({"source_id", "received_at"})


class EvidenceKind(StrEnum):
    TEST_RESULT = "test_result"
    VACCINATION = "vaccination"
    BORDER_ENTRY = "border_entry"
    VENUE_VISIT = "venue_visit"
    CLOSE_CONTACT = "close_contact"
    QUARANTINE_COMPLETED = "quarantine_completed"
    RECOVERY = "recovery"


class TestMethod(StrEnum):
    PCR = "pcr"
    ANTIGEN = "antigen"


class TestOutcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class Presence(StrEnum):
    PROVEN = "proven"
    UNVERIFIED = "unverified"


class _EvidenceBase(BaseModel):
    # Lax, so that kinds and enums arrive as JSON text; the instants, numbers and flags are
    # strict field by field (domain/json_values.py): a signed "false" is text, and read as a
    # flag it would say what the source did not sign; a signed 1700000000 is no instant.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    source_id: str
    record_id: Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
    person: Annotated[str, Field(pattern=PERSON_KEY_PATTERN)]
    area: Annotated[str, Field(pattern=AREA_CODE_PATTERN)]
    occurred_at: JsonInstant
    received_at: AwareDatetime  # set by the server, never submitted (SERVER_FIELDS)

    @property
    def ref(self) -> str:
        return evidence_ref(self.source_id, self.record_id)


class TestResult(_EvidenceBase):
    kind: Literal[EvidenceKind.TEST_RESULT] = EvidenceKind.TEST_RESULT
    method: TestMethod
    result: TestOutcome


class Vaccination(_EvidenceBase):
    kind: Literal[EvidenceKind.VACCINATION] = EvidenceKind.VACCINATION
    vaccine: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)]
    dose: Annotated[int, Strict(), Field(ge=1, le=20), WHOLE]


class BorderEntry(_EvidenceBase):
    kind: Literal[EvidenceKind.BORDER_ENTRY] = EvidenceKind.BORDER_ENTRY
    port: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)]
    quarantine_required: StrictBool


class VenueVisit(_EvidenceBase):
    kind: Literal[EvidenceKind.VENUE_VISIT] = EvidenceKind.VENUE_VISIT
    venue_id: Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
    presence: Presence


class CloseContact(_EvidenceBase):
    kind: Literal[EvidenceKind.CLOSE_CONTACT] = EvidenceKind.CLOSE_CONTACT
    case_ref: Annotated[str, Field(min_length=1, max_length=128, pattern=NO_NUL_PATTERN)]


class QuarantineCompleted(_EvidenceBase):
    kind: Literal[EvidenceKind.QUARANTINE_COMPLETED] = EvidenceKind.QUARANTINE_COMPLETED


class Recovery(_EvidenceBase):
    kind: Literal[EvidenceKind.RECOVERY] = EvidenceKind.RECOVERY


Evidence = Annotated[
    TestResult
    | Vaccination
    | BorderEntry
    | VenueVisit
    | CloseContact
    | QuarantineCompleted
    | Recovery,
    Field(discriminator="kind"),
]

_EVIDENCE: TypeAdapter[Evidence] = TypeAdapter(Evidence)
_EVIDENCE_LIST: TypeAdapter[list[Evidence]] = TypeAdapter(list[Evidence])

# For each kind, the fields a rule may match on and the values they take.
MATCHABLE: dict[EvidenceKind, dict[str, frozenset[object]]] = {
    EvidenceKind.TEST_RESULT: {
        "method": frozenset(TestMethod),
        "result": frozenset(TestOutcome),
    },
    EvidenceKind.VENUE_VISIT: {"presence": frozenset(Presence)},
    EvidenceKind.BORDER_ENTRY: {"quarantine_required": frozenset({True, False})},
    EvidenceKind.VACCINATION: {},
    EvidenceKind.CLOSE_CONTACT: {},
    EvidenceKind.QUARANTINE_COMPLETED: {},
    EvidenceKind.RECOVERY: {},
}


class EvidenceFormatError(ValueError):
    """A record does not have the shape of any evidence kind."""


def evidence_ref(source_id: str, record_id: str) -> str:
    return f"{source_id}/{record_id}"


def parse_evidence(record: dict[str, Any], *, source_id: str, received_at: datetime) -> Evidence:
    """Turn one submitted record into its typed evidence value, or raise EvidenceFormatError."""
    if not isinstance(record, dict):
        raise EvidenceFormatError("a record must be an object")
    clash = SERVER_FIELDS & record.keys()
    if clash:
        raise EvidenceFormatError(f"fields set by the server may not be submitted: {sorted(clash)}")
    try:
        return _EVIDENCE.validate_python(
            {**record, "source_id": source_id, "received_at": received_at}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        # The message names the field and the problem, never the submitted value.
        raise EvidenceFormatError(f"{where}: {first['type']}") from None


def parse_evidence_all(
    records: list[Any], *, source_id: str, received_at: datetime, lax: bool = False
) -> list[Evidence] | None:
    """`parse_evidence` of every record, in one validation (the loop over the records runs in
    pydantic's core, not in Python); ``None`` if any record would raise EvidenceFormatError,
    which `parse_evidence` of each in turn then names.

    ``lax``: records stored already, read as intake read them before its numbers and flags
    were strict (``"true"`` a flag, ``"2"`` a dose), so that a store's self-check still finds
    such a record's columns to be what intake made of its bytes. Never for new input."""
    merged = []
    for record in records:
        if not isinstance(record, dict) or not SERVER_FIELDS.isdisjoint(record):
            return None
        merged.append({**record, "source_id": source_id, "received_at": received_at})
    try:
        # ``strict=False`` for the call lifts the fields' own strictness; None keeps it.
        return _EVIDENCE_LIST.validate_python(merged, strict=False if lax else None)
    except ValidationError:
        return None


def submitted_fields(evidence: Evidence) -> dict[str, Any]:
    """The record as a source submits it: everything but the fields the server sets."""
    return evidence.model_dump(mode="json", exclude=set(SERVER_FIELDS))
