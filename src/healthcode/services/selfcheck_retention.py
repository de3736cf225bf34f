"""What the self-check expects of retention: every purge's entry rebuilt from its rows, and
every evidence batch whose records are not all stored accounted for, leaf by leaf, by logged
purges whose cutoff came after the batch was received.

A batch's Merkle root can only be recomputed while all its records are stored; once some are
purged the self-check checks instead that the stored positions and the purged positions
(``retention_purge_batches``, committed to by each purge's entry) together are exactly the
batch's positions, with none of them both. A record deleted without a logged purge, or purged
before its time, is reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from healthcode.domain.retention import (
    PurgeCounts,
    RetentionPolicy,
    positions_digest,
    retention_purge_entry,
)
from healthcode.store import retention as repo

Expected = dict[int, tuple[str, bytes]]


@dataclass(frozen=True)
class Ledger:
    purges: dict[int, repo.StoredPurge]
    # (source, batch) -> the purges that removed leaves of it: (log index, positions)
    by_batch: dict[tuple[str, str], list[tuple[int, tuple[int, ...]]]]


def load_ledger(conn: Connection) -> Ledger:
    purges = {purge.log_index: purge for purge in repo.purges(conn)}
    by_batch: dict[tuple[str, str], list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for purge in purges.values():
        for key, positions in purge.batches.items():
            by_batch[key].append((purge.log_index, positions))
    return Ledger(purges, dict(by_batch))


def expected_purges(ledger: Ledger) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) for every purge, and the problems found on the way."""
    expected: Expected = {}
    problems: list[str] = []
    for purge in ledger.purges.values():
        removed = sum(len(positions) for positions in purge.batches.values())
        if removed != purge.evidence:
            problems.append(
                f"retention purge {purge.log_index}: {purge.evidence} records logged, "
                f"{removed} accounted for by batch"
            )
        policy = RetentionPolicy(purge.days, timedelta(0), 1)  # only its period counts
        if not policy.allows_cutoff(purge.purged_at, purge.cutoff):
            problems.append(f"retention purge {purge.log_index}: its cutoff is not its period")
        counts = PurgeCounts(
            purge.evidence, len(purge.batches), purge.notices, purge.identity_cards
        )
        body = retention_purge_entry(
            purged_at=purge.purged_at, cutoff=purge.cutoff, days=purge.days, counts=counts,
            positions=positions_digest((s, b, p) for (s, b), p in purge.batches.items()),
            removed=purge.removed,
        )  # fmt: skip
        expected[purge.log_index] = ("retention_purge", body)
    return expected, problems


def check_batch(row: Any, stored: Sequence[int], ledger: Ledger) -> list[str]:
    """Problems with a batch some of whose records are not stored (``row``: its
    ``evidence_batches`` row; ``stored``: the positions of its stored records)."""
    name = f"batch {row.source_id}/{row.batch_id}"
    purges = ledger.by_batch.get((row.source_id, row.batch_id), [])
    purged: list[int] = [position for _, positions in purges for position in positions]
    problems = []
    if len(set(purged)) != len(purged) or set(purged) & set(stored):
        problems.append(f"{name}: a record is purged twice, or purged and still stored")
    if sorted([*purged, *stored]) != list(range(row.record_count)):
        problems.append(f"{name}: stored records no longer match its Merkle root")
    if int(row.purged_records) != len(purged):
        problems.append(f"{name}: {row.purged_records} records marked purged, {len(purged)} logged")
    for index, _ in purges:
        purge = ledger.purges[index]
        if purge.cutoff <= row.received_at:
            problems.append(f"{name}: purged by entry {index} before its retention period ended")
    if purges and row.purged_at != max(ledger.purges[index].purged_at for index, _ in purges):
        problems.append(f"{name}: its purge time is not its last purge's")
    return problems
