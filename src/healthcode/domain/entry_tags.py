"""Where log entries name someone: the tags and commitments of each kind, and whose secret
keys each one (docs/transparency-log.md), for oversight to open an entry with the escrows.

A *person* tag is ``person_tag(person secret, index)``, an *actor* tag ``actor_tag(staff or
device secret, index)``; neither can be read without the secrets, and each differs in every
entry. A *commitment* is ``inputs_commitment(secret, index, values)``: it can be checked, not
opened, by whoever holds the secret and the values, so it is reported under the secret of the
one it belongs to (the person, the auditor, the finding). No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from healthcode.domain.oversight.entries import PUBLIC_SUBJECTS

Role = Literal["person", "actor", "commitment"]
# What keys a commitment: the owner of another tag of the entry, named by its field, or the
# finding's own escrowed secret.
FINDING = "finding"


@dataclass(frozen=True)
class TagSpot:
    """One tag or commitment of an entry: its field, value and role; a commitment also names
    ``under``, the field of the tag whose owner's secret keys it (or ``FINDING``)."""

    field: str
    value: str
    role: Role
    under: str | None = None


_PERSON_ENTRIES: dict[str, tuple[tuple[str, Role, str | None], ...]] = {
    "status_change": (("person", "person", None), ("inputs", "commitment", "person")),
    "order": (
        ("person", "person", None),
        ("official", "actor", None),
        ("evidence", "commitment", "person"),
    ),
    "order_cosign": (("supervisor", "actor", None),),
    "order_end": (("official", "actor", None),),
    "order_refusal": (("supervisor", "actor", None),),
    "designation_cosign": (("supervisor", "actor", None),),
    "designation_end": (("official", "actor", None),),
    "rulebook_proposal": (("official", "actor", None),),
    "source_key_proposal": (("proposer", "actor", None),),
    "source_key_cosign": (("supervisor", "actor", None),),
    "source_key_withdrawal": (("by", "actor", None),),
    "jurisdiction_proposal": (("proposer", "actor", None),),  # "operator": a load proposes
    "jurisdiction_cosign": (("supervisor", "actor", None),),
    "jurisdiction_withdrawal": (("by", "actor", None),),
    "staff_token": (("staff", "actor", None),),
    "staff_password": (("staff", "actor", None),),
    "staff_sign_in": (("staff", "actor", None),),
    "person_token": (("person", "person", None),),
    "access": (("person", "person", None), ("accessor", "actor", None)),
    "guardianship": (("guardian", "person", None), ("dependant", "person", None)),
    "guardianship_end": (("guardian", "person", None), ("dependant", "person", None)),
    "appeal_filed": (
        ("person", "person", None),
        ("evidence", "commitment", "person"),
        ("text", "commitment", "person"),
    ),
    "appeal_answered": (
        ("person", "person", None),
        ("official", "actor", None),
        ("evidence", "commitment", "person"),
    ),
    "appeal_lapsed": (("person", "person", None),),
    "appeal_escalated": (("person", "person", None),),
    "oversight_case_step": (("auditor", "actor", None), ("note", "commitment", "auditor")),
}
OPERATOR = "operator"  # a change made from the command line: no one's tag


def tag_spots(kind: str, data: Mapping[str, Any]) -> list[TagSpot]:
    """Every tag and commitment entry ``data`` of ``kind`` holds, in the order of the entry's
    format; absent or null fields (an appeal without a text) are left out. Kinds that name
    no one (a batch's root, a designation, a registration) have none."""
    if kind == "oversight_finding":
        return _finding_spots(data)
    spots = []
    for field, role, under in _PERSON_ENTRIES.get(kind, ()):
        value = data.get(field)
        if isinstance(value, str) and value != OPERATOR:
            spots.append(TagSpot(field, value, role, under))
    return spots


def _finding_spots(data: Mapping[str, Any]) -> list[TagSpot]:
    """A finding's subject is a tag when it names an official or a person, in the clear when
    it names a registered, public thing, else a commitment under the finding's secret; its
    records are always committed to under the finding's secret."""
    subject_kind, subject = str(data.get("subject_kind")), str(data.get("subject"))
    spots = []
    if subject_kind == "official":
        spots.append(TagSpot("subject", subject, "actor"))
    elif subject_kind == "person":
        spots.append(TagSpot("subject", subject, "person"))
    elif subject_kind not in PUBLIC_SUBJECTS:
        spots.append(TagSpot("subject", subject, "commitment", FINDING))
    spots.append(TagSpot("records", str(data.get("records")), "commitment", FINDING))
    return spots
