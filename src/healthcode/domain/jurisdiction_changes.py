"""Widening an authority's jurisdiction once it has a supervisor: what counts as widening, the
life of a proposed widening, and its log entries (docs/api.md, "Source keys").

An authority's jurisdiction is where its officials may designate risk areas and whose evidence
their orders may cite (invariant 4): widening it is how one city's officials would reach people
who live elsewhere (A1). So a registry load that widens the jurisdiction of an authority with a
supervisor does not apply it: it proposes it, and a supervisor of that authority co-signs it
before it expires, as for a source's new key (`domain/source_keys.py`). A load that keeps or
narrows a jurisdiction only takes power away, and is applied at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from healthcode.domain import areas
from healthcode.domain.log_entries import actor_tag, encode_entry, instant_text
from healthcode.domain.source_keys import OPERATOR, State


def widened(current: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The codes of ``wanted`` that no code of ``current`` contains (sorted): where a load
    would give the authority more than it has."""
    held = list(current)
    return sorted(code for code in set(wanted) if not any(areas.contains(c, code) for c in held))


@dataclass(frozen=True)
class JurisdictionChange:
    """A proposed jurisdiction of an authority (the whole of it, as the load listed it), in
    effect once co-signed; ``previous`` is the jurisdiction it replaces, and a co-signature
    applies to exactly that one. Only a load proposes one: its proposer is the operator."""

    id: str
    authority_id: str
    jurisdiction: frozenset[str]
    previous: frozenset[str]
    proposed_at: datetime
    expires_at: datetime
    status: Literal["pending", "cosigned", "withdrawn"]
    decided_by: str | None  # the co-signing supervisor, or who withdrew it (None: the operator)
    decided_at: datetime | None
    log_index: int
    decision_log_index: int | None

    def state(self, now: datetime) -> State:
        """Not co-signed by its expiry, it is expired (its proposal entry names the instant)."""
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status


def proposal_entry(change: JurisdictionChange) -> bytes:
    return encode_entry(
        "jurisdiction_proposal",
        {
            "change": change.id,
            "authority": change.authority_id,
            "jurisdiction": sorted(change.jurisdiction),
            "previous_jurisdiction": sorted(change.previous),
            "proposer": OPERATOR,
            "proposed_at": instant_text(change.proposed_at),
            "expires_at": instant_text(change.expires_at),
        },
    )


def cosign_entry(
    *, index: int, change_id: str, authority_id: str, supervisor_secret: bytes, at: datetime
) -> bytes:
    """The co-signature that puts the wider jurisdiction in effect, from ``at`` on."""
    return encode_entry(
        "jurisdiction_cosign",
        {
            "change": change_id,
            "authority": authority_id,
            "supervisor": actor_tag(supervisor_secret, index),
            "at": instant_text(at),
        },
    )


def withdrawal_entry(
    *, index: int, change_id: str, authority_id: str, withdrawn_by_secret: bytes | None,
    at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "jurisdiction_withdrawal",
        {
            "change": change_id,
            "authority": authority_id,
            "by": OPERATOR
            if withdrawn_by_secret is None
            else actor_tag(withdrawn_by_secret, index),
            "at": instant_text(at),
        },
    )
