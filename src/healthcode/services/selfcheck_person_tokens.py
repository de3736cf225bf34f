"""What the self-check expects of person tokens the operator issued: each ``person_token``
entry rebuilt from its row, under its person's secret (an edited row, one moved onto another
person, or one deleted no longer matches the log), and each ``person_token_use`` from its row
and its token's: the token must exist and be that person's, the use fall within its validity,
and the act it names be an entry of the kind it says (checked once every other act's entry is
expected, `selfcheck_tokens.acts_named`) and, as the records hold it, that person's: an appeal
they filed or could escalate, a read they made as a guardian (a DCC's batch records no
submitter: its kind alone is checked)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.person_tokens import person_token_entry, person_token_use_entry
from healthcode.services.escrow import PersonSecrets
from healthcode.store import person_tokens as repo

Expected = dict[int, tuple[str, bytes]]
# The acts whose maker the records hold (`person_tokens.act_makers`).
ATTRIBUTED = frozenset({"appeal_filed", "appeal_escalated", "access"})


def expected_person_tokens(
    conn: Connection, secrets: PersonSecrets
) -> tuple[Expected, list[str], dict[int, str]]:
    """(index -> (kind, bytes)), the problems, and each use's act (act index -> kind)."""
    issued = {token.token_id: token for token in repo.every(conn)}
    expected: Expected = {
        token.log_index: ("person_token", person_token_entry(
            index=token.log_index, person_secret=secrets.secret(token.person_key),
            kind=token.kind, valid_from=token.valid_from, valid_until=token.valid_until,
        ))
        for token in issued.values()
    }  # fmt: skip
    problems: list[str] = []
    acts: dict[int, str] = {}
    makers = repo.act_makers(conn)
    for use in repo.every_use(conn):
        token = issued.get(use.token_id)
        if token is None or token.person_key != use.person_key:
            # A use of no token of its person: its entry is not rebuilt. Left unexpected, it is
            # reported as an entry with no stored record as well.
            problems.append(f"person token use {use.log_index}: no such token of its person")
            continue
        expected[use.log_index] = ("person_token_use", person_token_use_entry(
            index=use.log_index, token_id=use.token_id, act_index=use.act_index, act=use.act,
            at=use.at,
        ))  # fmt: skip
        if not token.valid_from <= use.at < token.valid_until:
            problems.append(
                f"person token use {use.log_index}: made at {use.at.isoformat()}, outside its"
                " token's validity"
            )
        acts[use.act_index] = use.act
        if use.act in ATTRIBUTED and use.person_key not in makers.get(use.act_index, set()):
            problems.append(
                f"person token use {use.log_index}: names entry {use.act_index} as its act"
                f" ({use.act}), which the records do not hold as its token's person's"
            )
    return expected, problems, acts
