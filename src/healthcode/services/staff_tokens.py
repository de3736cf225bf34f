"""Acts made with a staff token the operator issued: each one logged as such, in the act's own
transaction, so oversight can tell them from the member's own (``operator_tokens``).

The token is minted by `Staff.issue_token` (services/staff.py); whoever authenticates with it
carries its id (``Caller.operator_token``, web/auth.py, handed to the services as
``Actor.operator_token``), and each service whose act is one of `domain.staff_tokens.ACTS`
calls `record_use` right after appending the act's entry (`record_uses` for the entries of
one request, a batch of orders: one use for each, each naming its act).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.staff_tokens import ACTS, staff_token_use_entry
from healthcode.errors import Unauthorized
from healthcode.services import transparency
from healthcode.store import staff_tokens as repo
from healthcode.store.staff_tokens import TokenUse


def record_use(
    conn: Connection, token_id: str | None, *, staff_id: str, act_index: int, act: str,
    now: datetime,
) -> None:  # fmt: skip
    """Log that the act of entry ``act_index`` was made by ``staff_id`` with the operator's
    token ``token_id`` (nothing for a signed-in member's, ``None``): `record_uses` for one."""
    record_uses(conn, token_id, staff_id=staff_id, act_indices=[act_index], act=act, now=now)


def record_uses(
    conn: Connection, token_id: str | None, *, staff_id: str, act_indices: Sequence[int],
    act: str, now: datetime,
) -> None:  # fmt: skip
    """Log that each act of the entries ``act_indices`` (all of kind ``act``, one request's:
    the orders of a batch) was made by ``staff_id`` with the operator's token ``token_id``,
    one ``staff_token_use`` entry for each, as for a single act (nothing for a signed-in
    member's token, ``None``). A token that claims the operator issued it but was never
    logged, or was issued to someone else, acts for no one, nor does one at an instant outside
    the validity its entry states: the act is refused with the rest of its transaction."""
    if token_id is None:
        return
    if act not in ACTS:
        raise ValueError(f"{act!r} is not an act recorded with an operator's token")
    issued = repo.find(conn, token_id)
    if issued is None or issued.staff_id != staff_id:
        raise Unauthorized("auth.invalid_token", "an operator's token that was never logged")
    # The token was checked when the request came in, against that instant and that host's
    # clock; the act is dated `now`. One dated outside the validity its entry states would be
    # a use the self-check reports (and halts the log for): refused, as an expired token is.
    if not issued.valid_from <= now < issued.valid_until:
        raise Unauthorized("auth.invalid_token", "outside the operator's token's validity")
    if not act_indices:
        return
    indices = transparency.append(conn, [("staff_token_use", staff_token_use_entry(
        token_index=issued.log_index, act_index=act_index, act=act, at=now,
    )) for act_index in act_indices], now)  # fmt: skip
    repo.insert_uses(conn, [
        TokenUse(index, token_id, act_index, act, now)
        for index, act_index in zip(indices, act_indices, strict=True)
    ])  # fmt: skip
