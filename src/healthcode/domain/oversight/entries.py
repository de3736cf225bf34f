"""The log entries of oversight's cases: a case opened from a finding, and every later step of
any case (docs/transparency-log.md).

Like every entry they hold no personal data. A finding's subject appears in the clear only
when it is a registered, public thing (an authority, venue, source, designation or area, each
already in the registry's own entries); an official appears as ``actor_tag`` under their
escrowed secret, as in the entries of their own acts, a person as ``person_tag``, and any other
subject (a household, a contact group) as a commitment under the finding's escrowed secret.
The supporting records are committed to, not listed, since evidence references name people's
records. The detector, the fingerprint, the score and the window are in the clear, so anyone
can count what oversight found and follow each case to its end.
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

# Subjects that name a registered, public thing: named in the clear.
PUBLIC_SUBJECTS = frozenset({"authority", "venue", "source", "designation", "area"})
# Subjects that name someone, each tagged under their own escrowed secret.
TAGGED_SUBJECTS = frozenset({"official", "person"})


def subject_parts(subject: str) -> tuple[str, str]:
    """``"official:zz-off-1"`` -> ``("official", "zz-off-1")``."""
    kind, _, ident = subject.partition(":")
    return kind, ident


def _subject_in_entry(
    subject: str, subject_secret: bytes | None, finding_secret: bytes, index: int
) -> str:
    kind, ident = subject_parts(subject)
    if kind in PUBLIC_SUBJECTS:
        return ident
    if kind in TAGGED_SUBJECTS:
        if subject_secret is None:
            raise ValueError(f"a {kind} subject is tagged under their own secret")
        tag = actor_tag if kind == "official" else person_tag
        return tag(subject_secret, index)
    return inputs_commitment(finding_secret, index, [subject])


def oversight_finding_entry(
    *, index: int, case_id: str, finding_id: str, detector: str, subject: str,
    subject_secret: bytes | None, finding_secret: bytes, fingerprint: str,
    records: Sequence[str], score: float, window_from: datetime, window_to: datetime,
    opened_at: datetime,
) -> bytes:  # fmt: skip
    """A detector's finding opened a case. ``subject_secret`` is the official's or person's
    secret when the subject names one; ``finding_secret`` keys the other commitments."""
    return encode_entry(
        "oversight_finding",
        {
            "case": case_id,
            "finding": finding_id,
            "detector": detector,
            "subject_kind": subject_parts(subject)[0],
            "subject": _subject_in_entry(subject, subject_secret, finding_secret, index),
            "fingerprint": fingerprint,
            "score": score,
            "records": inputs_commitment(finding_secret, index, sorted(records)),
            "record_count": len(records),
            "window_from": instant_text(window_from),
            "window_to": instant_text(window_to),
            "opened_at": instant_text(opened_at),
        },
    )


def oversight_case_step_entry(
    *, index: int, auditor_secret: bytes, case_id: str, seq: int, previous: str, status: str,
    note: str, at: datetime,
) -> bytes:  # fmt: skip
    """An auditor moved a case (an escalated appeal's or a finding's) from ``previous`` to
    ``status``; the note (the conclusion, when it closes) is committed to, not published."""
    return encode_entry(
        "oversight_case_step",
        {
            "case": case_id,
            "seq": seq,
            "from": previous,
            "status": status,
            "auditor": actor_tag(auditor_secret, index),
            "note": inputs_commitment(auditor_secret, index, ["note:" + note]),
            "at": instant_text(at),
        },
    )
