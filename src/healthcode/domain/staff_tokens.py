"""Staff tokens the operator issues instead of a sign-in, and their log entries
(docs/transparency-log.md).

Staff sign in with their own password. A token the operator mints for a member of staff
(``healthcode admin staff-token``, the demo's links) lets whoever holds it act as that member:
with a supervisor's, the operator could co-sign their own bulk orders, rulebook editions and
key changes, and every two-person rule would be met by one person; with an official's, issue
orders, answer appeals and read people's records as that official. So each such token is a
``staff_token`` entry when it is made, naming the member as an actor tag (their badge is no
resident's personal data, but their acts are named by tags, openable by oversight, and so is
this), their role and authority in the clear, the token's validity and that the operator
issued it; and each act made with it over the API or in the console (`ACTS`: every entry a
member of staff writes) is a ``staff_token_use`` entry naming the act's entry, one for each
(each order of a request too), so the act is attributable to the operator's token, not taken
for the member's own (``operator_tokens``, docs/oversight.md). No I/O, no clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from healthcode.domain.log_entries import actor_tag, encode_entry, instant_text
from healthcode.domain.token_validity import stated_validity

OPERATOR = "operator"  # who issued it: never a sign-in
# Long enough for an operator's errand, or a demo's afternoon; a token for longer would be a
# standing second identity of the member.
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(hours=12)
# The acts recorded as made with such a token, by their entry's kind: every entry a member of
# staff writes through the API or the console. The decisions one person alone may not take (a
# co-signature, a refusal of a bulk request), each step of an oversight case, and each act of
# the member's own: an order (each order of a batch is one), its end, a designation, its end,
# an appeal's answer (with the order it ends or replaces), a proposal (a rulebook edition, a
# key change), a withdrawal, a read of a person's record, and the ``registry`` entry of a
# supervisor's revocation (a source, an issuer key) or change to the DCC signers. What an act
# causes (status changes, the trust list republished) is no act of its own.
ACTS = frozenset({
    "order_cosign", "order_refusal", "designation_cosign", "rulebook", "source_key_cosign",
    "jurisdiction_cosign", "oversight_case_step",
    "order", "order_end", "designation", "designation_end", "appeal_answered",
    "rulebook_proposal", "source_key_proposal", "source_key_withdrawal",
    "jurisdiction_withdrawal", "access", "registry",
})  # fmt: skip
# The ``registry`` entries (by ``what``) that are a member of staff's act: a supervisor's
# revocation of their authority's source or issuer key, or change to the DCC signers. Each
# names the authority that made it (``record.by_authority``).
REGISTRY_ACTS = frozenset({
    "source_revocation", "trust_key_revocation", "dcc_signer", "dcc_signer_removal",
})  # fmt: skip


def is_registry_act(body: bytes, authority_id: str | None) -> bool:
    """Whether the log entry ``body`` is a `REGISTRY_ACTS` entry made by a member of
    ``authority_id`` (what a use of an operator's token of that authority may name)."""
    try:
        entry = json.loads(body)
        data = entry["data"]
        return (
            entry["kind"] == "registry"
            and data["what"] in REGISTRY_ACTS
            and authority_id is not None
            and data["record"]["by_authority"] == authority_id
        )
    except (ValueError, KeyError, TypeError):
        return False


def validity(now: datetime, ttl: timedelta) -> tuple[datetime, datetime]:
    """The token's validity as it states it, refused outside `SHORTEST`..`LONGEST`."""
    return stated_validity(
        now, ttl, shortest=SHORTEST, longest=LONGEST, refusal="staff_token.ttl_invalid"
    )


def staff_token_entry(
    *, index: int, staff_secret: bytes, role: str, authority_id: str | None,
    valid_from: datetime, valid_until: datetime,
) -> bytes:  # fmt: skip
    """The operator issued a token of ``role`` to the member whose secret is
    ``staff_secret``, valid from ``valid_from`` until ``valid_until``."""
    return encode_entry(
        "staff_token",
        {
            "staff": actor_tag(staff_secret, index),
            "role": role,
            "authority": authority_id,
            "issued_by": OPERATOR,
            "valid_from": instant_text(valid_from),
            "valid_until": instant_text(valid_until),
        },
    )


def staff_token_use_entry(*, token_index: int, act_index: int, act: str, at: datetime) -> bytes:
    """The act logged as entry ``act_index`` (of kind ``act``) was made with the token the
    operator issued in entry ``token_index``."""
    return encode_entry(
        "staff_token_use",
        {"token": token_index, "entry": act_index, "act": act, "at": instant_text(at)},
    )
