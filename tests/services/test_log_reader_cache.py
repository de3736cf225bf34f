"""The log reader keeps tiles in memory: its proofs are the tree's, before and after the log
grows (a partial tile is read again when a proof needs more of it than was kept), and a size
it has seen signed is proved from kept tiles without reading the store."""

from __future__ import annotations

import pytest

from healthcode.errors import NotFound
from healthcode.services import transparency
from healthcode.services.log_tree import StoredTree
from healthcode.tlog import inclusion_proof
from tests.synthetic_log import append_entries, stored_tree
from tests.town import Town


def _append(town: Town, count: int) -> None:
    append_entries(town, count)
    town.services.sequencer.integrate(now=town.clock.now())


def test_cached_proofs_equal_the_tree_as_it_grows(town: Town) -> None:
    reader = town.services.log
    for grow in (700, 90, 300):
        _append(town, grow)
        tree = stored_tree(town)
        n = tree.size
        for _ in range(2):  # the second round is served from the cache
            for i in range(0, n, 37):
                assert reader.inclusion(i, n) == tree.inclusion_proof(i, n)
            for m in range(1, n, 41):
                assert reader.consistency(m, n) == tree.consistency_proof(m, n)
        with town.services.db.read() as conn:  # the uncached path agrees too
            assert inclusion_proof(n - 1, n, StoredTree(conn).node) == tree.inclusion_proof(
                n - 1, n
            )


def test_a_size_seen_signed_is_proved_from_kept_tiles_and_no_other(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = town.services.log
    _append(town, 600)
    tree = stored_tree(town)
    n = tree.size
    for i in range(0, n, 5):  # every tile kept
        assert reader.inclusion(i, n) == tree.inclusion_proof(i, n)
    with town.services.db.write() as conn:  # committed, not yet signed
        transparency.append_one(conn, "registry", b'{"unsigned":1}', town.clock.now())
    for size in (n + 1, n + 2):
        with pytest.raises(NotFound):
            reader.inclusion(0, size)
        with pytest.raises(NotFound):
            reader.consistency(1, size)

    def no_read() -> None:
        raise AssertionError("read the store")

    monkeypatch.setattr(town.services.db, "read", no_read)
    assert reader.inclusion(n - 1, n) == tree.inclusion_proof(n - 1, n)
    assert reader.consistency(300, n) == tree.consistency_proof(300, n)
    assert reader.inclusion(3, 300) == tree.inclusion_proof(3, 300)  # an older size
