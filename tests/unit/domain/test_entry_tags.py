"""Every field the log's format documents as a tag or a commitment is one `tag_spots` knows,
so a kind or field added to the log without telling oversight how to open it fails here."""

from __future__ import annotations

import re
from pathlib import Path

from healthcode.domain.entry_tags import tag_spots

DOCS = Path(__file__).resolve().parents[3] / "docs" / "transparency-log.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| (.*) \|$")
# `field` (actor tag...), `field` (tag), `person` (see below), `field` (commitment...)
TAGGED = re.compile(r"`([a-z_]+)` \((?:an? )?(actor tag|tag|see below|commitment)")
TAG = "ab" * 32


def documented() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for line in DOCS.read_text().splitlines():
        row = ROW.match(line)
        if row:
            found[row[1]] = {field: what for field, what in TAGGED.findall(row[2])}
    return found


def test_every_documented_tag_and_commitment_is_known() -> None:
    kinds = documented()
    assert len([kind for kind, fields in kinds.items() if fields]) >= 15
    for kind, fields in kinds.items():
        if not fields or kind == "oversight_finding":
            continue
        spots = {spot.field: spot.role for spot in tag_spots(kind, dict.fromkeys(fields, TAG))}
        for field, what in fields.items():
            role = {"actor tag": "actor", "tag": "person", "see below": "person"}.get(
                what, "commitment"
            )
            assert spots.get(field) == role, (kind, field)


def test_a_finding_subject_is_a_tag_a_commitment_or_in_the_clear() -> None:
    def roles(subject_kind: str) -> list[tuple[str, str, str | None]]:
        data = {"subject_kind": subject_kind, "subject": TAG, "records": TAG, "finding": "f"}
        return [(s.field, s.role, s.under) for s in tag_spots("oversight_finding", data)]

    records = ("records", "commitment", "finding")
    assert roles("official") == [("subject", "actor", None), records]
    assert roles("person") == [("subject", "person", None), records]
    assert roles("household") == [("subject", "commitment", "finding"), records]
    assert roles("venue") == [records]  # a registered venue: in the clear


def test_null_fields_and_the_operator_are_no_one() -> None:
    assert tag_spots("appeal_filed", {"person": TAG, "evidence": None, "text": None}) == [
        tag_spots("appeal_filed", {"person": TAG})[0]
    ]
    assert tag_spots("source_key_withdrawal", {"by": "operator"}) == []
    assert tag_spots("evidence_batch", {"root": TAG}) == []
