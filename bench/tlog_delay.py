"""Merge delay under a steady write load, for ``bench.tlog``.

A writer thread commits write transactions on a schedule of ``rate`` per second for
``seconds`` (back to back when it falls behind, stopping at the end of the time either way),
each appending ``batch`` entries through ``services.transparency.append``; a sequencer thread,
like the server's loop (``web.app._every``), sleeps ``interval`` seconds then runs
``Sequencer.integrate``, again and again. For each write, the delay is from the moment its
transaction committed to the moment the first signed checkpoint covering its last entry
committed.
"""

from __future__ import annotations

import bisect
import statistics
import threading
import time
from dataclasses import dataclass, field

from bench.tlog_store import KIND, entry
from healthcode.bootstrap import Services
from healthcode.services import transparency
from healthcode.store import log as log_repo
from healthcode.tlog import MerkleTree


@dataclass
class DelayRun:
    writes: int
    entries: int
    seconds: float  # the writer's wall time
    checkpoints: int
    delays: list[float] = field(default_factory=list)  # seconds, one per write
    integrations: list[float] = field(default_factory=list)  # seconds per integrate call
    root_ok: bool = False

    @property
    def write_rate(self) -> float:
        return self.writes / self.seconds

    def median(self) -> float:
        return statistics.median(self.delays)

    def p99(self) -> float:
        ordered = sorted(self.delays)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def merge_delay(
    services: Services, *, seconds: float, rate: float, batch: int, interval: float
) -> DelayRun:
    db, sequencer, clock = services.db, services.sequencer, services.clock
    commits: list[tuple[int, float]] = []  # (last index of the write, commit time)
    signed: list[tuple[int, float]] = []  # (checkpoint size, commit time)
    integrations: list[float] = []
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []

    todo = [(KIND, entry)] * batch  # entry(index): the log's content is known in advance

    def writer() -> None:
        try:
            start = time.perf_counter()
            end = start + seconds
            k = 0
            while (due := start + k / rate) < end and time.perf_counter() < end:
                pause = due - time.perf_counter()
                if pause > 0:  # else behind the schedule: the next write starts at once
                    time.sleep(pause)
                with db.write() as conn:
                    indices = transparency.append(conn, todo, clock.now())
                commits.append((indices[-1], time.perf_counter()))
                k += 1
        except BaseException as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)
        finally:
            writing.clear()

    def sequencing() -> None:
        try:
            while True:
                done = not writing.is_set()
                time.sleep(interval)
                called = time.perf_counter()
                checkpoint = sequencer.integrate(now=clock.now())
                ended = time.perf_counter()
                integrations.append(ended - called)
                if checkpoint is not None:
                    signed.append((checkpoint.size, ended))
                if done and (not commits or (signed and signed[-1][0] > commits[-1][0])):
                    return
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=sequencing)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    wrote = commits[-1][1] - began if commits else seconds
    run = DelayRun(len(commits), len(commits) * batch, wrote, len(signed))
    run.integrations = integrations
    sizes = [size for size, _ in signed]
    for last, committed in commits:
        at = bisect.bisect_right(sizes, last)  # the first checkpoint with size > last
        run.delays.append(signed[at][1] - committed)
    total = run.entries
    with db.read() as conn:
        latest = log_repo.latest_checkpoint(conn)
    expected = MerkleTree()
    expected.append(entry(i) for i in range(total))
    run.root_ok = latest is not None and latest.size == total and latest.root == expected.root()
    return run
