"""One worker thread that handles, together, whatever was submitted while it was busy.

Why: the server answers a request's blocking work on a worker thread, and handing a request
over to a thread and back costs more CPU than many a request's own work (two context
switches and a wake-up of the event loop each way). Requests of the same kind that arrive
together are instead queued here and handled by one thread in one go, and each gets its own
answer (a `concurrent.futures.Future`, which the web layer awaits without a thread of its
own): a group of scans is written in one transaction with one durable commit
(services/places.py), a group of token revocation checks is one lookup
(services/tokens.py).

Nothing is answered before it is handled: a submitted item is handled after it was
submitted, exactly as if its caller had done it itself then. The thread starts on the first
submission and ends after a few idle seconds (tests build many services).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

IDLE_SECONDS = 5.0


class BatchWorker(Generic[T, R]):
    def __init__(
        self,
        name: str,
        handle: Callable[[list[T]], Sequence[tuple[R | None, BaseException | None]]],
        *,
        limit: int,
        idle: float = IDLE_SECONDS,
    ) -> None:
        """``handle(items)`` answers every item, in order: (result, None) or (None, error);
        if it raises, every item of the group fails with that error. ``limit``: items
        handled together at most."""
        self._name = name
        self._handle = handle
        self._limit = limit
        self._idle = idle
        self._ready = threading.Condition()
        self._items: list[tuple[T, Future[R]]] = []
        self._thread: threading.Thread | None = None

    def submit(self, item: T) -> Future[R]:
        future: Future[R] = Future()
        with self._ready:
            self._items.append((item, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            else:
                self._ready.notify()
        return future

    def _run(self) -> None:
        try:
            while True:
                with self._ready:
                    while not self._items:
                        self._ready.wait(self._idle)
                        if not self._items:
                            self._thread = None
                            return
                    group = self._items[: self._limit]
                    del self._items[: self._limit]
                self._answer(group)
        except BaseException:
            # Not reached unless a future misbehaves; the next submission starts a thread.
            with self._ready:
                self._thread = None
            raise

    def _answer(self, group: list[tuple[T, Future[R]]]) -> None:
        # A future cancelled while it waited (its request went away) is not handled.
        live = [(item, future) for item, future in group if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            outcomes = list(self._handle([item for item, _ in live]))
            if len(outcomes) != len(live):
                raise RuntimeError(f"{self._name}: {len(outcomes)} answers for {len(live)}")
        except BaseException as failed:
            outcomes = [(None, failed)] * len(live)
        for (_item, future), (result, refused) in zip(live, outcomes, strict=True):
            if refused is not None:
                future.set_exception(refused)
            else:
                future.set_result(result)  # type: ignore[arg-type]  # R, when no error
