"""The batch worker: what is submitted while it is busy is handled together, each item gets its
own answer, and its thread comes and goes."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from healthcode.services.batching import BatchWorker


class Gate:
    """A handler that records its groups and waits, on its first call, until released."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, items: list[int]) -> list[tuple[int | None, BaseException | None]]:
        self.groups.append(list(items))
        self.entered.set()
        assert self.release.wait(10)
        return [(None, ValueError(f"odd {n}")) if n % 2 else (n * 10, None) for n in items]


def test_items_submitted_while_it_is_busy_are_handled_together() -> None:
    gate = Gate()
    worker: BatchWorker[int, int] = BatchWorker("test", gate, limit=100)
    first = worker.submit(0)
    assert gate.entered.wait(10)
    later = [worker.submit(n) for n in (2, 3, 4)]
    gate.release.set()
    assert first.result(10) == 0
    assert [f.exception(10) is None for f in later] == [True, False, True]
    assert [later[0].result(), later[2].result()] == [20, 40]
    assert str(later[1].exception()) == "odd 3"
    assert gate.groups == [[0], [2, 3, 4]]


def test_a_group_is_at_most_limit_items() -> None:
    gate = Gate()
    worker: BatchWorker[int, int] = BatchWorker("test", gate, limit=2)
    worker.submit(0)
    assert gate.entered.wait(10)
    futures = [worker.submit(n) for n in (2, 4, 6)]
    gate.release.set()
    assert [f.result(10) for f in futures] == [20, 40, 60]
    assert gate.groups == [[0], [2, 4], [6]]


def test_a_failing_handler_fails_its_group_only() -> None:
    calls: list[list[str]] = []

    def handle(items: list[str]) -> list[tuple[str | None, BaseException | None]]:
        calls.append(items)
        if "boom" in items:
            raise RuntimeError("store unavailable")
        return [(item.upper(), None) for item in items]

    worker: BatchWorker[str, str] = BatchWorker("test", handle, limit=10)
    with pytest.raises(RuntimeError, match="store unavailable"):
        worker.submit("boom").result(10)
    assert worker.submit("fine").result(10) == "FINE"


def test_a_cancelled_item_is_not_handled() -> None:
    gate = Gate()
    worker: BatchWorker[int, int] = BatchWorker("test", gate, limit=100)
    worker.submit(0)
    assert gate.entered.wait(10)
    cancelled: Future[int] = worker.submit(2)
    kept = worker.submit(4)
    assert cancelled.cancel()
    gate.release.set()
    assert kept.result(10) == 40
    assert gate.groups == [[0], [4]]


def test_the_thread_ends_when_idle_and_starts_again() -> None:
    worker: BatchWorker[int, int] = BatchWorker(
        "test", lambda items: [(n + 1, None) for n in items], limit=10, idle=0.05
    )
    assert worker.submit(1).result(10) == 2
    for _ in range(1000):  # it ends by itself after 0.05 s idle
        if worker._thread is None:
            break
        threading.Event().wait(0.01)
    assert worker._thread is None
    assert worker.submit(2).result(10) == 3
