"""What the self-check expects of person tokens the operator issued: each ``person_token``
entry rebuilt from its row, under its person's secret (an edited row, one moved onto another
person, or one deleted no longer matches the log)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.person_tokens import person_token_entry
from healthcode.services.escrow import PersonSecrets
from healthcode.store import person_tokens as repo

Expected = dict[int, tuple[str, bytes]]


def expected_person_tokens(conn: Connection, secrets: PersonSecrets) -> Expected:
    """index -> ("person_token", bytes), for every row."""
    return {
        token.log_index: ("person_token", person_token_entry(
            index=token.log_index, person_secret=secrets.secret(token.person_key),
            kind=token.kind, valid_from=token.valid_from, valid_until=token.valid_until,
        ))
        for token in repo.every(conn)
    }  # fmt: skip
