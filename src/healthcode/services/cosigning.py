"""Collecting witnesses' cosignatures on the log's latest checkpoint (C2SP tlog-witness).

Each configured witness is asked to cosign the latest checkpoint for as long as the stored
note lacks its cosignature, not only when a checkpoint is new: a quiet log, a witness that was
down, or one added since, is cosigned on a later period. Its cosignature is appended to the
stored checkpoint note, so ``/log/checkpoint`` serves it. A witness that refuses or is
unreachable is logged, never ignored silently, and asked again only after a delay that doubles
with each failure (from the services' clock), so a witness that is down is not asked every
period. The server runs this in a task of its own, not the sequencer's: signing never waits
for a witness. The witnesses due are asked at once, each in a thread, and whatever has not
answered by one deadline counts as a failure. A 409 proving the log misbehaved (a split view,
a rollback) is logged as an error and reported to ``on_conflict``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2

from healthcode.errors import InputRejected
from healthcode.services.clock import Clock, SystemClock
from healthcode.services.log_reader import LogReader
from healthcode.services.witness_client import (
    WitnessRequestError,
    append_cosignatures,
    request_cosignature,
)
from healthcode.store import log as log_repo
from healthcode.store.database import Database
from healthcode.store.log import StoredCheckpoint
from healthcode.tlog import CosignatureVerifier, TlogError, parse_note

log = logging.getLogger("healthcode.cosigning")

# After a witness's first failure it is asked again this much later, then twice as late
# after each further one, up to the cap: a restarted witness is cosigning again within
# minutes, and one that stays down costs one request every quarter hour.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=15)
# Seconds for every witness due to answer, all asked at once: one answers in two POSTs at
# most (a 409, then from the size it names), each under the client's 5 s timeout. Past it,
# a request still running is left to its own timeout and its answer is not used.
DEADLINE = 10.0


@dataclass(frozen=True)
class WitnessEndpoint:
    url: str
    verifier: CosignatureVerifier


def parse_witnesses(text: str) -> list[WitnessEndpoint]:
    """``URL VKEY`` pairs separated by commas (the ``HEALTHCODE_WITNESSES`` setting)."""
    found = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        url, _, vkey = item.partition(" ")
        try:
            found.append(WitnessEndpoint(url, CosignatureVerifier.from_vkey(vkey.strip())))
        except TlogError as error:
            raise InputRejected(
                "settings.witnesses_invalid", f"HEALTHCODE_WITNESSES: {url}: {error.message}"
            ) from None
    return found


@dataclass(frozen=True)
class _Backoff:
    failures: int
    next_try: datetime


class Cosigning:
    def __init__(
        self,
        db: Database,
        log_reader: LogReader,
        witnesses: list[WitnessEndpoint],
        client: Callable[[], httpx2.Client] = lambda: httpx2.Client(timeout=5.0),
        clock: Clock | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._log = log_reader
        self.witnesses = witnesses
        self._client = client
        self._clock = clock or SystemClock()
        self._timer = timer  # seconds, for the deadline: the network's time, not the log's
        # The size each witness last cosigned, as far as this process knows (after a restart
        # the witness's 409 names it, and the request is made again from there).
        self._cosigned: dict[str, int] = {}
        self._backoff: dict[str, _Backoff] = {}

    def missing(self) -> list[WitnessEndpoint]:
        """The witnesses whose cosignature the latest stored checkpoint lacks."""
        latest = self._latest()
        return [] if latest is None else self._lacking(latest)

    def _lacking(self, latest: StoredCheckpoint) -> list[WitnessEndpoint]:
        signed = {(sig.name, sig.key_id) for sig in parse_note(latest.note).signatures}
        return [
            witness
            for witness in self.witnesses
            if (witness.verifier.name, witness.verifier.key_id) not in signed
        ]

    def collect(self, on_conflict: Callable[[str], None] | None = None) -> int:
        """Ask every witness whose cosignature the latest checkpoint lacks, and whose backoff
        has run out, to cosign it; return the cosignatures added. ``on_conflict`` is told of
        each 409 that proves a split view or a rollback (``split_view``, ``rollback``)."""
        latest = self._latest()
        if latest is None:
            return 0
        now = self._clock.now()
        due = [w for w in self._lacking(latest) if self._due(w.url, now)]
        if not due:
            return 0
        answers = self._ask_all(due, latest)
        lines: list[str] = []
        for witness in due:
            answer = answers.get(witness.url)
            if isinstance(answer, list):
                self._backoff.pop(witness.url, None)
                self._cosigned[witness.url] = latest.size
                lines.extend(answer)
                continue
            wait_for = self._failed(witness.url, now)
            if isinstance(answer, WitnessRequestError) and answer.conflict is not None:
                self._alarm(witness, latest.size, answer)
                if on_conflict is not None:
                    on_conflict(answer.conflict)
                continue
            reason = answer or f"no answer within {DEADLINE:g} s"
            log.warning(
                "witness %s did not cosign size %d (asked again in %d s): %s",
                witness.url, latest.size, wait_for.total_seconds(), reason,
            )  # fmt: skip
        if lines:
            with self._db.write() as conn:
                stored = log_repo.checkpoint(conn, latest.size)
                if stored is not None:
                    log_repo.replace_note(
                        conn, latest.size, append_cosignatures(stored.note, lines)
                    )
        return len(lines)

    def _ask_all(
        self, due: list[WitnessEndpoint], latest: StoredCheckpoint
    ) -> dict[str, list[str] | BaseException]:
        """Each witness's cosignature lines, or why it gave none, by URL; a witness missing
        from the answer had not answered by the deadline."""
        pool = ThreadPoolExecutor(max_workers=len(due), thread_name_prefix="cosigning")
        futures = {pool.submit(self._ask, w, latest): w.url for w in due}
        pending: set[Future[list[str]]] = set(futures)
        started = self._timer()
        try:
            while pending:
                left = DEADLINE - (self._timer() - started)
                if left <= 0:
                    break
                _done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # the late ones are not waited for
        answers: dict[str, list[str] | BaseException] = {}
        for future, url in futures.items():
            if future in pending:
                continue
            error = future.exception()
            if error is None:
                answers[url] = future.result()
            elif isinstance(error, WitnessRequestError | httpx2.HTTPError):
                answers[url] = error
            else:  # a fault of ours: logged with its stack, and this witness backs off
                log.error("asking witness %s failed", url, exc_info=error)
                answers[url] = error
        return answers

    def _ask(self, witness: WitnessEndpoint, latest: StoredCheckpoint) -> list[str]:
        """One witness's cosignature, in a worker thread (it changes no state of ours)."""
        old = self._cosigned.get(witness.url, 0)
        proof = self._log.consistency(old, latest.size) if 0 < old < latest.size else []
        with self._client() as client:
            return request_cosignature(
                witness.url, old, proof, latest.note, client,
                prove=self._log.consistency, verifier=witness.verifier,
            )  # fmt: skip

    def _alarm(self, witness: WitnessEndpoint, size: int, error: WitnessRequestError) -> None:
        """A 409 that proves the log misbehaved: an error for the operators, not a warning."""
        if error.conflict == "split_view":
            what = f"it cosigned another checkpoint of size {size}: a split view of this log"
        else:
            what = (
                f"it cosigned size {error.latest_size}, more than this log's {size}: a "
                "rollback of this log (a restore from an older backup? docs/operations.md)"
            )
        log.error("witness %s refused size %d: %s", witness.url, size, what)

    def _latest(self) -> StoredCheckpoint | None:
        """The latest checkpoint, None without witnesses or before the first is signed."""
        if not self.witnesses:
            return None
        with self._db.read() as conn:
            return log_repo.latest_checkpoint(conn)

    def _due(self, url: str, now: datetime) -> bool:
        backoff = self._backoff.get(url)
        return backoff is None or now >= backoff.next_try

    def _failed(self, url: str, now: datetime) -> timedelta:
        failures = self._backoff[url].failures + 1 if url in self._backoff else 1
        delay: timedelta = min(FIRST_RETRY * 2 ** min(failures - 1, 16), LONGEST_RETRY)
        self._backoff[url] = _Backoff(failures, now + delay)
        return delay
