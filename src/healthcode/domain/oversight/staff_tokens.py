"""Staff tokens the operator issued that were then used to act (A5, A8).

A token the operator mints for a member of staff (``healthcode admin staff-token``) holds that
member's role without their password: with a supervisor's, one operator meets a two-person
rule alone (co-signing their own bulk orders, rulebook editions, key changes and wider
jurisdictions); with an auditor's, they move oversight's own cases; with an official's, they
issue orders, answer appeals and read people's records as that official. Every such token is a
public ``staff_token`` log entry, which anyone can count; a token made for an errand and never
used changes nothing. What oversight must see is the act made with one: each act made with it
(``domain.staff_tokens.ACTS``: a co-signature, a refusal of a bulk request, a case step, an
order, a read of a record, ...) is recorded as such (``staff_token_uses``), and a token with
any is a finding about its member, naming the token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TokenPolicy:
    min_acts: int = 1  # acts made with one operator-issued token


@dataclass(frozen=True)
class IssuedToken:
    """What the store says of one token: whose, of which role, valid when, and the acts made
    with it, each kind with its count."""

    token_id: str
    staff_id: str
    role: str
    valid_from: datetime
    valid_until: datetime
    acts: Mapping[str, int]

    @property
    def count(self) -> int:
        return sum(self.acts.values())

    def acts_text(self) -> str:
        """``order_cosign × 2, oversight_case_step × 1``: the most frequent first."""
        ordered = sorted(self.acts.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{act} × {n}" for act, n in ordered)


def used_tokens(
    tokens: Sequence[IssuedToken], policy: TokenPolicy = TokenPolicy()
) -> list[IssuedToken]:
    """The tokens used for at least ``policy.min_acts`` acts, in token id order."""
    return sorted(
        (token for token in tokens if token.count >= policy.min_acts),
        key=lambda token: token.token_id,
    )
