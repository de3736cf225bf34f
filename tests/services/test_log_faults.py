"""Faults in the log's storage path: each step fails once as "failed and not saved" and as
"failed but actually saved" (the store committed, the caller saw an error), as Sunlight's tests
do. After each, the log recovers by itself: the next sequencer run signs a checkpoint
consistent with every earlier one (never two roots for one size), nothing is lost or
doubled, and the self-check passes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection

from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store.database import Database
from tests.log_soundness import assert_sound, checkpoints, write_some
from tests.town import Town


class StorageFault(Exception):
    pass


def _fail_once(step: Callable[..., Any], *, saved: bool) -> Callable[..., Any]:
    """`step`, failing on its first call: before writing, or after writing (saved)."""
    calls = {"n": 0}

    def faulty(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1 and not saved:
            raise StorageFault("failed, not saved")
        result = step(*args, **kwargs)
        if calls["n"] == 1:
            raise StorageFault("saved, then failed")
        return result

    return faulty


@contextmanager
def _commit_then_fail(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The next write transaction commits, then its caller sees an error (a lost answer)."""
    original = Database.write
    state = {"armed": True}

    @contextmanager
    def write(self: Database) -> Iterator[Connection]:
        with original(self) as conn:
            yield conn
        if state["armed"]:
            state["armed"] = False
            raise StorageFault("committed, then the answer was lost")

    monkeypatch.setattr(Database, "write", write)
    yield
    monkeypatch.setattr(Database, "write", original)


@pytest.mark.parametrize("saved", [False, True], ids=["not-saved", "saved"])
@pytest.mark.parametrize("step", ["put_tiles", "insert_checkpoint"])
def test_a_sequencer_step_that_fails_once_recovers(
    town: Town, monkeypatch: pytest.MonkeyPatch, step: str, saved: bool
) -> None:
    sequencer = town.services.sequencer
    sequencer.integrate(now=town.clock.now())
    write_some(town, "before")
    sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    write_some(town, "during")
    monkeypatch.setattr(log_repo, step, _fail_once(getattr(log_repo, step), saved=saved))
    with pytest.raises(StorageFault):
        sequencer.integrate(now=town.clock.now())
    # Inside one transaction, "saved" rows roll back with it: nothing of the run remains.
    assert checkpoints(town) == before
    town.clock.advance(seconds=1)
    assert sequencer.integrate(now=town.clock.now()) is not None
    assert_sound(town, before)


@pytest.mark.parametrize("saved", [False, True], ids=["not-saved", "saved"])
def test_a_write_whose_log_entry_fails_leaves_nothing_and_can_be_retried(
    town: Town, monkeypatch: pytest.MonkeyPatch, saved: bool
) -> None:
    town.services.sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    person = town.person("entry")
    record = town.record("test_result", person, town.clock.now(), method="pcr", result="positive")
    batch = town.batch("lab-1", [record])
    with town.services.db.read() as conn:
        entries = log_bundles.next_index(conn)
    monkeypatch.setattr(
        log_bundles, "insert_entries", _fail_once(log_bundles.insert_entries, saved=saved)
    )
    with pytest.raises(StorageFault):
        town.services.intake.submit(batch, now=town.clock.now())
    with town.services.db.read() as conn:
        assert log_bundles.next_index(conn) == entries  # the rows and their entry: neither
    assert town.status(person)[0] == "green"
    receipt = town.services.intake.submit(batch, now=town.clock.now())
    assert receipt.accepted == 1 and town.status(person)[0] == "red"
    town.services.sequencer.integrate(now=town.clock.now())
    assert_sound(town, before)


def test_a_checkpoint_committed_but_not_acknowledged_is_not_signed_twice(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequencer = town.services.sequencer
    write_some(town, "first")
    sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    write_some(town, "second")
    with _commit_then_fail(town.services.db, monkeypatch), pytest.raises(StorageFault):
        sequencer.integrate(now=town.clock.now())
    signed = checkpoints(town)
    assert max(signed) > max(before)  # it was saved
    town.clock.advance(seconds=1)
    assert sequencer.integrate(now=town.clock.now()) is None  # nothing new: no second root
    assert checkpoints(town) == signed
    assert_sound(town, before)


def test_an_intake_committed_but_not_acknowledged_is_retried_without_doubling(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = town.person("retry")
    batch = town.batch("lab-1", [town.record("test_result", person, town.clock.now(),
                                             method="pcr", result="positive")])  # fmt: skip
    with _commit_then_fail(town.services.db, monkeypatch), pytest.raises(StorageFault):
        town.services.intake.submit(batch, now=town.clock.now())
    with town.services.db.read() as conn:
        entries = log_bundles.next_index(conn)
    receipt = town.services.intake.submit(batch, now=town.clock.now())  # the source retries
    assert (receipt.accepted, receipt.already_present) == (0, 1)
    with town.services.db.read() as conn:
        assert log_bundles.next_index(conn) == entries
    town.services.sequencer.integrate(now=town.clock.now())
    assert_sound(town, {})
