"""What the self-check expects of the national log's regional checkpoints: each entry rebuilt
from its row, each row's note still verifying under its key and stating the row's origin, size
and root, and each region's rows a chain (every one names the size recorded before it).

Consistency between a region's successive checkpoints was proven from the region's tiles when
they were recorded; the chain check catches a row inserted, removed or edited since."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.log_entries import regional_checkpoint_entry
from healthcode.store import regions as repo
from healthcode.tlog import Ed25519Verifier, TlogError, open_checkpoint

Expected = dict[int, tuple[str, bytes]]


def expected_regional(conn: Connection) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) for every recorded regional checkpoint, and the problems."""
    expected: Expected = {}
    problems: list[str] = []
    previous: dict[str, int] = {}
    for row in repo.all_recorded(conn):
        expected[row.log_index] = (
            "regional_checkpoint",
            regional_checkpoint_entry(
                origin=row.origin, size=row.size, root=row.root, key=row.key, note=row.note,
                previous_size=row.previous_size, recorded_at=row.recorded_at,
            ),
        )  # fmt: skip
        where = f"regional checkpoint {row.origin} size {row.size}"
        try:
            signed = open_checkpoint(row.note, [Ed25519Verifier.from_vkey(row.key)]).checkpoint
        except TlogError as error:
            problems.append(f"{where}: its note does not verify: {error.message}")
        else:
            if (signed.origin, signed.size, signed.root_hash) != (row.origin, row.size, row.root):
                problems.append(f"{where}: its note states another origin, size or root")
        if row.previous_size != previous.get(row.origin, 0) or row.size <= row.previous_size:
            problems.append(f"{where}: follows size {previous.get(row.origin, 0)}, not its own")
        previous[row.origin] = row.size
    return expected, problems
