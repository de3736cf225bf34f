"""What the self-check expects of guardianships: each ``guardianship`` entry rebuilt from its
row (in force, or ended), each ``guardianship_end`` from its ended row, and no guardianship
in force without its entry (one written straight into the table: a reader the log never saw).
Those migration 0027 found are marked as such (``before_logging``): an upgrade does not halt
the log; each is logged when the operator records it again, and shown to the dependant as
unlogged meanwhile."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.guardianships import guardianship_end_entry, guardianship_entry
from healthcode.services.escrow import PersonSecrets
from healthcode.store import guardianships as repo

Expected = dict[int, tuple[str, bytes]]


def expected_guardianships(conn: Connection, secrets: PersonSecrets) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) and the problems."""
    expected: Expected = {}
    problems: list[str] = []
    for found in repo.every(conn):
        if found.log_index is None:
            if found.before_logging:
                continue
            problems.append(
                f"a guardianship recorded {found.since.isoformat()} has no log entry: record it"
                " again (healthcode admin guardian) or end it"
            )
            continue
        expected[found.log_index] = ("guardianship", guardianship_entry(
            index=found.log_index, guardian_secret=secrets.secret(found.guardian),
            dependant_secret=secrets.secret(found.dependant), since=found.since,
        ))  # fmt: skip
    for ended in repo.every_end(conn):
        guardian, dependant = secrets.secret(ended.guardian), secrets.secret(ended.dependant)
        if ended.start_log_index is not None:
            expected[ended.start_log_index] = ("guardianship", guardianship_entry(
                index=ended.start_log_index, guardian_secret=guardian, dependant_secret=dependant,
                since=ended.since,
            ))  # fmt: skip
        expected[ended.log_index] = ("guardianship_end", guardianship_end_entry(
            index=ended.log_index, guardian_secret=guardian, dependant_secret=dependant,
            start=ended.start_log_index, until=ended.until,
        ))  # fmt: skip
        if ended.until < ended.since:
            problems.append(f"guardianship end {ended.log_index}: ends before it began")
    return expected, problems
