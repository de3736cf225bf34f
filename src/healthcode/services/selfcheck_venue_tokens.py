"""What the self-check expects of venue device tokens the operator issued: each
``venue_token`` entry rebuilt from its row (an edited row, one moved onto another venue, or
one deleted no longer matches the log)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.venue_tokens import venue_token_entry
from healthcode.store import venue_tokens as repo

Expected = dict[int, tuple[str, bytes]]


def expected_venue_tokens(conn: Connection) -> Expected:
    """index -> ("venue_token", bytes), for every row."""
    return {
        token.log_index: ("venue_token", venue_token_entry(
            venue_id=token.venue_id, valid_from=token.valid_from, valid_until=token.valid_until,
        ))
        for token in repo.every(conn)
    }  # fmt: skip
