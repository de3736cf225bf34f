"""The records of open scan batches kept in memory for sealing: used only when they are
exactly what the store holds, as committed (services/batch_leaves.py)."""

from __future__ import annotations

from healthcode.services.batch_leaves import BatchLeaves

BATCH = ("scans.a", "20260601T080000Z-s0")


def test_committed_writes_are_kept_in_position_order() -> None:
    leaves = BatchLeaves()
    first = leaves.writes()
    first.add(BATCH, 0, [b"a", b"b"])
    assert first.records(BATCH, 2) == [b"a", b"b"]  # this transaction's own writes
    leaves.keep(first)
    second = leaves.writes()
    second.add(BATCH, 2, [b"c"])
    leaves.keep(second)
    assert leaves.writes().records(BATCH, 3) == [b"a", b"b", b"c"]


def test_a_transaction_that_does_not_commit_leaves_nothing() -> None:
    leaves = BatchLeaves()
    rolled_back = leaves.writes()
    rolled_back.add(BATCH, 0, [b"a"])
    # Never kept: the next transaction sees nothing and reads the batch from the store.
    assert leaves.writes().records(BATCH, 1) is None


def test_records_another_writer_added_are_read_from_the_store() -> None:
    leaves = BatchLeaves()
    ours = leaves.writes()
    ours.add(BATCH, 0, [b"a"])
    leaves.keep(ours)
    # The batch row says 3 records; this process wrote 1 of them.
    assert leaves.writes().records(BATCH, 3) is None
    # Written after positions another process took: not kept at all from then on.
    later = leaves.writes()
    later.add(BATCH, 3, [b"d"])
    assert later.records(BATCH, 4) is None
    leaves.keep(later)
    assert leaves.writes().records(BATCH, 1) is None


def test_a_gap_within_one_transaction_is_not_used() -> None:
    leaves = BatchLeaves()
    writes = leaves.writes()
    writes.add(BATCH, 0, [b"a"])
    writes.add(BATCH, 5, [b"f"])
    assert writes.records(BATCH, 2) is None
    assert writes.records(BATCH, 6) is None
    leaves.keep(writes)
    assert leaves.writes().records(BATCH, 6) is None


def test_a_sealed_batch_is_forgotten_once_the_seal_commits() -> None:
    leaves = BatchLeaves()
    writes = leaves.writes()
    writes.add(BATCH, 0, [b"a"])
    leaves.keep(writes)
    sealing = leaves.writes()
    assert sealing.records(BATCH, 1) == [b"a"]
    sealing.sealed.add(BATCH)
    assert leaves.writes().records(BATCH, 1) == [b"a"]  # not before it commits
    leaves.keep(sealing)
    assert leaves.writes().records(BATCH, 1) is None


def test_an_empty_batch_is_never_answered_from_memory() -> None:
    assert BatchLeaves().writes().records(BATCH, 0) is None
