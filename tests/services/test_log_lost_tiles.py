"""A tile the store lost (its row deleted, or holding fewer hashes than the tile has) is refused
as `log.tile_missing` (500), never served short with 200 and, for a full tile, `immutable`; an
entry bundle missing an entry likewise. A proof or a receipt that needs a lost tile is refused
the same way, not a bare 500, and `export_log` writes neither the tile nor the checkpoint. The
self-check is what finds and halts on such a store; this is what readers get meanwhile. On
SQLite and PostgreSQL (the ``town`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from healthcode.errors import HealthcodeError
from healthcode.services.log_export import export_log
from healthcode.store.log import StoredCheckpoint
from healthcode.web.app import create_app
from tests.log_rows import remove_entry
from tests.synthetic_log import append_entries, set_tile_hashes, tile_hashes
from tests.town import Town


def _signed(town: Town) -> StoredCheckpoint:
    """A checkpoint whose tree has full tiles 0 and 1 and a partial tile 2 at tile level 0."""
    append_entries(town, 600)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and 512 < signed.size < 768
    return signed


def _refused(call: Callable[..., object], *args: object) -> None:
    with pytest.raises(HealthcodeError) as refused:
        call(*args)
    assert refused.value.code == "log.tile_missing"


def _answer_refused(town: Town, url: str) -> None:
    answer = TestClient(create_app(town.services, run_scheduler=False)).get(url)
    assert (answer.status_code, answer.json()["code"]) == (500, "log.tile_missing")
    assert "immutable" not in answer.headers.get("cache-control", "")


def test_a_lost_or_short_hash_tile_is_refused_not_served(town: Town) -> None:
    signed = _signed(town)
    width = signed.size - 512
    full, partial = tile_hashes(town, 0, 1), tile_hashes(town, 0, 2)
    assert full is not None and partial is not None
    set_tile_hashes(town, 0, 0, None)
    set_tile_hashes(town, 0, 1, full[:-32])
    set_tile_hashes(town, 0, 2, partial[:-32])
    log = town.services.log
    for path in ("tile/0/000", "tile/0/001", f"tile/0/002.p/{width}"):
        _refused(log.resource, path)
    assert log.resource(f"tile/0/002.p/{width - 1}") == (partial[: (width - 1) * 32], False)
    _answer_refused(town, "/log/tile/0/001")


def test_an_entry_bundle_missing_an_entry_is_refused(town: Town) -> None:
    signed = _signed(town)
    with town.services.db.write() as conn:  # one inside a bundle, one at the end of the last
        remove_entry(conn, signed.size - 1)
        remove_entry(conn, 5)
    log = town.services.log
    _refused(log.resource, "tile/entries/000")
    _refused(log.resource, f"tile/entries/002.p/{signed.size - 512}")
    _answer_refused(town, "/log/tile/entries/000")


def test_a_proof_or_receipt_over_a_lost_tile_is_refused(town: Town) -> None:
    signed = _signed(town)
    set_tile_hashes(town, 0, 1, None)  # the leaves around entry 300
    log = town.services.log
    _refused(log.inclusion, 300, signed.size)
    _refused(log.consistency, 300, signed.size)
    _refused(log.receipt, 300)
    _answer_refused(town, f"/log/consistency/300/{signed.size}")


def test_export_writes_nothing_of_a_lost_tile_nor_the_checkpoint(
    town: Town, tmp_path: Path
) -> None:
    signed = _signed(town)
    set_tile_hashes(town, 0, 2, None)
    out = tmp_path / "export"
    _refused(export_log, town.services.log, out)
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert f"tile/0/002.p/{signed.size - 512}" not in written
    assert "checkpoint" not in written
