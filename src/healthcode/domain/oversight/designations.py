"""Designations without supporting cases (A3: a station designated on a protest day).

A designation is *supported* by the positive tests of people who, in the days before their
test, lived in or visited the designated area — or, for a designation of a single venue,
visited that venue. One with no support at all is a finding, and so is one claiming far more
cases than the records show (a case visiting a venue on several days is counted once per day
by some authorities, so the margin is wide).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DesignationPolicy:
    claim_factor: int = 4
    claim_margin: int = 2


@dataclass(frozen=True)
class DesignationSupport:
    designation_id: str
    authority_id: str
    venue_id: str | None
    claimed: int  # the case count the designation states
    supported: int  # distinct positive people the records show


def unsupported(
    support: DesignationSupport, policy: DesignationPolicy = DesignationPolicy()
) -> bool:
    return support.supported == 0 or support.claimed > (
        policy.claim_factor * support.supported + policy.claim_margin
    )
