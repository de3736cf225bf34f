"""What the self-check expects of venue device tokens the operator issued: each
``venue_token`` entry rebuilt from its row (an edited row, one moved onto another venue, or
one deleted no longer matches the log), each ``venue_token_use`` from its row and its
token's, and each use naming a card check of its token's venue made within the token's
validity (a use moved onto another venue's read, or any other entry, would pin the device
token on a check it did not make)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.venue_tokens import venue_token_entry, venue_token_use_entry
from healthcode.services.access import VENUE
from healthcode.services.passes import VENUE_PURPOSE
from healthcode.store import venue_tokens as repo

Expected = dict[int, tuple[str, bytes]]


def expected_venue_tokens(conn: Connection) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes), for every row of either table), and the problems."""
    expected: Expected = {}
    problems: list[str] = []
    issued = {token.token_id: token for token in repo.every(conn)}
    for row in issued.values():
        expected[row.log_index] = ("venue_token", venue_token_entry(
            venue_id=row.venue_id, valid_from=row.valid_from, valid_until=row.valid_until,
        ))  # fmt: skip
    reads = repo.reads_named(conn)
    for use in repo.every_use(conn):
        token = issued.get(use.token_id)
        if token is None:  # a foreign key holds it, unless someone dropped it
            problems.append(f"venue token use {use.log_index}: its token is not recorded")
            continue
        expected[use.log_index] = ("venue_token_use", venue_token_use_entry(
            token_index=token.log_index, act_index=use.act_index, act=use.act, at=use.at,
        ))  # fmt: skip
        if not token.valid_from <= use.at < token.valid_until:
            problems.append(
                f"venue token use {use.log_index}: made at {use.at.isoformat()}, outside its"
                " token's validity"
            )
        read = reads.get(use.act_index)
        if (
            use.act != "access"
            or read is None
            or (read.accessor_role, read.accessor_id, read.purpose)
            != (VENUE, token.venue_id, VENUE_PURPOSE)
        ):
            problems.append(
                f"a venue token use names entry {use.act_index} as its act ({use.act}), which"
                f" the records do not hold as a card check by {token.venue_id}"
            )
    return expected, problems
