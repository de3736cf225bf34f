"""Refused acts: an official who keeps trying what the checks exist to stop (A1, A3, A4, A8).

Prevention refuses an order without each person's own evidence, on a relative's evidence,
outside the jurisdiction or on evidence an appeal set aside, and a co-signature of one's own
request; the refused act writes nothing but a row of ``refusals`` naming the staff member who
tried it. One such refusal is a slip; many in a month are someone probing the checks for the
one that gives way. Only codes that refuse the *shape* of an abuse count (``ABUSE_CODES``, the
reasons in docs/oversight.md): not form slips (a malformed field, a mistyped record, an end
past the policy's limit), nor a role's page it may not use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ABUSE_CODES = frozenset({
    "order.evidence_missing",  # A1: a list of names, no evidence
    "order.evidence_not_theirs",  # A4: a relative's record
    "order.evidence_wrong_kind",  # A3: a reason the evidence does not back
    "order.outside_jurisdiction",  # A1: depositors living elsewhere
    "order.evidence_set_aside",  # A7/A8: the evidence an appeal set aside, cited again
    "order.extension_needs_new_evidence",  # keeping someone in on the old evidence
    "order.cosign_self",  # A8: the two-person rule, by one person (orders and designations)
    "source_key.cosign_self",  # the same, for a source's key
    "designation.outside_jurisdiction",  # A1: another authority's area
    "designation.backdated",  # A3: old visits made to count
})  # fmt: skip


@dataclass(frozen=True)
class RefusalPolicy:
    min_refused: int = 5  # abuse-shaped refused acts by one official in the window


@dataclass(frozen=True)
class RepeatedRefusals:
    official: str  # the staff id
    refusals: tuple[int, ...]  # the refusal rows, in id order
    codes: tuple[tuple[str, int], ...]  # each code with its count, most frequent first

    @property
    def count(self) -> int:
        return len(self.refusals)


def repeated_refusals(
    refused: Mapping[str, Sequence[tuple[int, str]]], policy: RefusalPolicy = RefusalPolicy()
) -> list[RepeatedRefusals]:
    """``refused`` maps a staff id to its refused acts in the window, each (row id, code); any
    code outside ``ABUSE_CODES`` is not counted."""
    found = []
    for official, rows in sorted(refused.items()):
        counted = sorted((row, code) for row, code in rows if code in ABUSE_CODES)
        if len(counted) < policy.min_refused:
            continue
        codes = Counter(code for _, code in counted)
        ordered = tuple(sorted(codes.items(), key=lambda item: (-item[1], item[0])))
        found.append(RepeatedRefusals(official, tuple(row for row, _ in counted), ordered))
    return found
