"""Acts made with a person token the operator issued: each one logged as such, in the act's
own transaction, so the person and oversight can tell them from the person's own.

Persons have no identity provider here: the operator mints their bearer tokens and sign-in
links (services/person_tokens.py), and whoever holds one acts as the person. A request made
with one carries its id (``Caller.operator_token``, web/auth.py; a session opened with a link,
the link's), and each service whose act is one of `domain.person_tokens.ACTS` calls
`record_uses` right after appending the act's entries, as staff acts do
(services/staff_tokens.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.person_tokens import ACTS, person_token_use_entry
from healthcode.errors import Unauthorized
from healthcode.services import transparency
from healthcode.store import person_tokens as repo
from healthcode.store.person_tokens import PersonTokenUse


def record_uses(
    conn: Connection, token_id: str | None, *, person_key: str, act_indices: Sequence[int],
    act: str, now: datetime,
) -> None:  # fmt: skip
    """Log that each act of the entries ``act_indices`` (all of kind ``act``: a guardian's
    reads of their dependants, one request's) was made by ``person_key`` with the operator's
    token ``token_id``, one ``person_token_use`` entry for each (nothing for a token not the
    operator's, ``None``). A token that claims the operator issued it but was never logged,
    or was issued for someone else, acts for no one, nor does one at an instant outside the
    validity its entry states: the act is refused with the rest of its transaction."""
    if token_id is None:
        return
    if act not in ACTS:
        raise ValueError(f"{act!r} is not an act recorded with a person's operator token")
    issued = repo.find(conn, person_key, token_id)
    if issued is None:
        raise Unauthorized("auth.invalid_token", "an operator's token that was never logged")
    # Checked when the request came in against that instant; the act is dated `now`. One
    # dated outside the validity the entry states would be a use the self-check reports.
    if not issued.valid_from <= now < issued.valid_until:
        raise Unauthorized("auth.invalid_token", "outside the operator's token's validity")
    if not act_indices:
        return

    def use_of(act_index: int) -> Callable[[int], bytes]:  # its entry, once its index is known
        return lambda index: person_token_use_entry(
            index=index, token_id=token_id, act_index=act_index, act=act, at=now
        )

    indices = transparency.append(
        conn, [("person_token_use", use_of(act_index)) for act_index in act_indices], now
    )
    repo.insert_uses(conn, [
        PersonTokenUse(index, person_key, token_id, act_index, act, now)
        for index, act_index in zip(indices, act_indices, strict=True)
    ])  # fmt: skip
