"""What the self-check expects of staff tokens the operator issued: each ``staff_token`` entry
rebuilt from its row, each ``staff_token_use`` from its row and its token's, and each use
naming an act of the kind it says (checked once every other act's entry is expected; a
``registry`` act, which the self-check does not rebuild, against its entry: one of
`domain.staff_tokens.REGISTRY_ACTS` by the token's authority. A signer's row names only its
last trust, so rows cannot tell an earlier one, or its removal, from any registration)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.staff_tokens import (
    is_registry_act,
    staff_token_entry,
    staff_token_use_entry,
)
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.store import log_bundles
from healthcode.store import staff_tokens as repo

Expected = dict[int, tuple[str, bytes]]


def expected_tokens(
    conn: Connection, secrets: PersonSecrets
) -> tuple[Expected, list[str], dict[int, str]]:
    """(index -> (kind, bytes)), the problems, and each use's act (act index -> kind), for
    `acts_named` to check against the other entries expected."""
    expected: Expected = {}
    problems: list[str] = []
    issued = {token.token_id: token for token in repo.every(conn)}
    for token in issued.values():
        expected[token.log_index] = ("staff_token", staff_token_entry(
            index=token.log_index, staff_secret=secrets.secret(staff_secret_key(token.staff_id)),
            role=token.role, authority_id=token.authority_id, valid_from=token.valid_from,
            valid_until=token.valid_until,
        ))  # fmt: skip
    acts: dict[int, str] = {}
    for use in repo.every_use(conn):
        token = issued[use.token_id]  # a foreign key
        expected[use.log_index] = ("staff_token_use", staff_token_use_entry(
            token_index=token.log_index, act_index=use.act_index, act=use.act, at=use.at,
        ))  # fmt: skip
        if not token.valid_from <= use.at < token.valid_until:
            problems.append(
                f"staff token use {use.log_index}: made at {use.at.isoformat()}, outside its"
                " token's validity"
            )
        if use.act == "registry":  # no registration is rebuilt: its entry says what it is
            if not is_registry_act(_body(conn, use.act_index), token.authority_id):
                problems.append(_not_named(use.act_index, use.act))
        else:
            acts[use.act_index] = use.act
    return expected, problems, acts


def acts_named(acts: dict[int, str], expected: Expected, holder: str = "staff") -> list[str]:
    """A use whose act is not an entry of the kind it names, as the other rows rebuild them
    (a use moved onto another entry would pin the operator's token on someone else's act);
    ``holder``: whose tokens, staff's or persons' (selfcheck_person_tokens.py)."""
    return [
        _not_named(index, act, holder)
        for index, act in sorted(acts.items())
        if expected.get(index, ("",))[0] != act
    ]


def _not_named(index: int, act: str, holder: str = "staff") -> str:
    return f"a {holder} token use names entry {index} as its act ({act}), which the records do not"


def _body(conn: Connection, index: int) -> bytes:
    """Entry ``index`` as stored (the tree over it is checked with every other entry), or
    nothing if it is not."""
    try:
        found = log_bundles.entries(conn, index, index + 1)
    except LookupError:
        return b""
    return found[0] if found else b""
