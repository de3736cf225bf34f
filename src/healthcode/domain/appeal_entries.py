"""The log entries of appeals: filed, answered, lapsed, escalated (docs/transparency-log.md).

Like every entry they hold no personal data: the person appears as ``person_tag`` (different in
every entry), the answering official as ``actor_tag``, the contested or cited evidence and the
text of the ground `other` only as commitments under the person's secret. Order ids,
authorities, grounds, outcomes and instants are in the clear, so anyone can count how each
authority answers and check that no appeal was left without an end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from healthcode.domain.log_entries import (
    actor_tag,
    encode_entry,
    inputs_commitment,
    instant_text,
    person_tag,
)


def appeal_filed_entry(
    *, index: int, person_secret: bytes, appeal_id: str, by_guardian: bool, target: str,
    order_id: str | None, evidence: str | None, colour: str | None, rule_id: str | None,
    ground: str, text: str | None, authority_id: str, filed_at: datetime, deadline: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "appeal_filed",
        {
            "appeal": appeal_id,
            "person": person_tag(person_secret, index),
            "by": "guardian" if by_guardian else "person",
            "target": target,
            "order": order_id,
            "evidence": None
            if evidence is None
            else inputs_commitment(person_secret, index, [evidence]),
            "colour": colour,
            "rule": rule_id,
            "ground": ground,
            "text": None
            if text is None
            else inputs_commitment(person_secret, index, ["text:" + text]),
            "authority": authority_id,
            "filed_at": instant_text(filed_at),
            "deadline": instant_text(deadline),
        },
    )


def appeal_answered_entry(
    *, index: int, person_secret: bytes, official_secret: bytes, appeal_id: str,
    authority_id: str, outcome: str, evidence: Sequence[str], ends_at: datetime | None,
    replacement_order: str | None, set_aside: bool, answered_at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "appeal_answered",
        {
            "appeal": appeal_id,
            "person": person_tag(person_secret, index),
            "authority": authority_id,
            "official": actor_tag(official_secret, index),
            "outcome": outcome,
            "evidence": inputs_commitment(person_secret, index, sorted(evidence))
            if evidence
            else None,
            "ends_at": instant_text(ends_at),
            "replacement_order": replacement_order,
            "set_aside": set_aside,
            "answered_at": instant_text(answered_at),
        },
    )


def appeal_lapsed_entry(
    *, index: int, person_secret: bytes, appeal_id: str, authority_id: str, deadline: datetime,
    set_aside: bool, lapsed_at: datetime,
) -> bytes:  # fmt: skip
    """No answer in time: recorded against the authority that held the appeal."""
    return encode_entry(
        "appeal_lapsed",
        {
            "appeal": appeal_id,
            "person": person_tag(person_secret, index),
            "authority": authority_id,
            "outcome": "no_answer_in_time",
            "deadline": instant_text(deadline),
            "set_aside": set_aside,
            "lapsed_at": instant_text(lapsed_at),
        },
    )


def appeal_escalated_entry(
    *, index: int, person_secret: bytes, appeal_id: str, case_id: str, authority_id: str,
    at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "appeal_escalated",
        {
            "appeal": appeal_id,
            "case": case_id,
            "person": person_tag(person_secret, index),
            "authority": authority_id,
            "at": instant_text(at),
        },
    )
