"""The server's key files (docs/operations.md, "Keys"): made on first start, never afresh for
a store already signed under others (a store restored without its keys), and a key file that
cannot be used is a clear refusal, not a traceback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from healthcode.errors import InputRejected
from healthcode.store import log as log_repo
from tests.conftest import make_services
from tests.town import Town


def signed(town: Town) -> None:
    town.test(town.person("alice"), town.clock.now() - timedelta(hours=1), "positive")
    assert town.services.sequencer.integrate(now=town.clock.now()) is not None


def test_no_new_keys_are_made_for_a_store_that_has_signed(town: Town, tmp_path: Path) -> None:
    signed(town)
    elsewhere = tmp_path / "fresh"
    with pytest.raises(InputRejected) as refused:
        make_services(town.services.db, town.clock, elsewhere)
    assert refused.value.code == "keys.missing"
    assert "log-signing.ed25519" in refused.value.detail
    assert not (elsewhere / "keys").exists()  # nothing made that a later start would trust
    with town.services.db.read() as conn:
        assert log_repo.halts(conn) == []  # and the log is not halted by a self-check


def test_a_truncated_key_file_is_refused(town: Town, tmp_path: Path) -> None:
    data_dir = town.services.settings.data_dir
    (data_dir / "keys" / "places.master").write_bytes(b"")
    with pytest.raises(InputRejected) as refused:
        make_services(town.services.db, town.clock, data_dir)
    assert refused.value.code == "keys.invalid"
    assert "places.master: 0 bytes" in refused.value.detail
