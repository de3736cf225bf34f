"""Collecting witnesses' cosignatures on the log's latest checkpoint (C2SP tlog-witness).

Each configured witness is asked to cosign the latest checkpoint for as long as the stored
note lacks its cosignature, not only when a checkpoint is new: a quiet log, a witness that was
down, or one added since, is cosigned on a later period. Its cosignature is appended to the
stored checkpoint note, so ``/log/checkpoint`` serves it. A witness that refuses (an
inconsistent or split view) or is unreachable is logged, never ignored silently, and asked
again only after a delay that doubles with each failure (from the services' clock), so a
witness that is down is not asked every sequencer period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
    ) -> None:
        self._db = db
        self._log = log_reader
        self.witnesses = witnesses
        self._client = client
        self._clock = clock or SystemClock()
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

    def collect(self) -> int:
        """Ask every witness whose cosignature the latest checkpoint lacks, and whose backoff
        has run out, to cosign it; return the cosignatures added."""
        latest = self._latest()
        if latest is None:
            return 0
        now = self._clock.now()
        due = [w for w in self._lacking(latest) if self._due(w.url, now)]
        if not due:
            return 0
        lines: list[str] = []
        with self._client() as client:
            for witness in due:
                old = self._cosigned.get(witness.url, 0)
                proof = self._log.consistency(old, latest.size) if 0 < old < latest.size else []
                try:
                    got = request_cosignature(
                        witness.url, old, proof, latest.note, client,
                        prove=self._log.consistency, verifier=witness.verifier,
                    )  # fmt: skip
                except (WitnessRequestError, httpx2.HTTPError) as error:
                    wait = self._failed(witness.url, now)
                    log.warning(
                        "witness %s did not cosign size %d (asked again in %d s): %s",
                        witness.url, latest.size, wait.total_seconds(), error,
                    )  # fmt: skip
                    continue
                self._backoff.pop(witness.url, None)
                self._cosigned[witness.url] = latest.size
                lines.extend(got)
        if lines:
            with self._db.write() as conn:
                stored = log_repo.checkpoint(conn, latest.size)
                if stored is not None:
                    log_repo.replace_note(
                        conn, latest.size, append_cosignatures(stored.note, lines)
                    )
        return len(lines)

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
        wait: timedelta = min(FIRST_RETRY * 2 ** min(failures - 1, 16), LONGEST_RETRY)
        self._backoff[url] = _Backoff(failures, now + wait)
        return wait
