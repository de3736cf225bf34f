"""Collecting witnesses' cosignatures on the log's latest checkpoint (C2SP tlog-witness).

After the sequencer signs, each configured witness is asked to cosign; its cosignature is
appended to the stored checkpoint note, so ``/log/checkpoint`` serves it. A witness that
refuses (an inconsistent or split view) or is unreachable is logged, never ignored silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from healthcode.services.log_reader import LogReader
from healthcode.services.witness_client import (
    WitnessRequestError,
    append_cosignatures,
    request_cosignature,
)
from healthcode.store import log as log_repo
from healthcode.store.database import Database
from healthcode.tlog import CosignatureVerifier, TlogError

log = logging.getLogger("healthcode.cosigning")


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
            raise ValueError(f"HEALTHCODE_WITNESSES: {url}: {error.message}") from None
    return found


class Cosigning:
    def __init__(
        self,
        db: Database,
        log_reader: LogReader,
        witnesses: list[WitnessEndpoint],
        client: Callable[[], httpx2.Client] = lambda: httpx2.Client(timeout=5.0),
    ) -> None:
        self._db = db
        self._log = log_reader
        self.witnesses = witnesses
        self._client = client
        self._cosigned: dict[
            str, int
        ] = {}  # the size each witness last cosigned, as far as we know

    def collect(self) -> int:
        """Ask every witness to cosign the latest checkpoint; return the cosignatures added."""
        if not self.witnesses:
            return 0
        latest = self._log.latest()
        lines: list[str] = []
        with self._client() as client:
            for witness in self.witnesses:
                if self._cosigned.get(witness.url) == latest.size:
                    continue
                old = self._cosigned.get(witness.url, 0)
                proof = self._log.consistency(old, latest.size) if 0 < old < latest.size else []
                try:
                    got = request_cosignature(
                        witness.url, old, proof, latest.note, client,
                        prove=self._log.consistency, verifier=witness.verifier,
                    )  # fmt: skip
                except (WitnessRequestError, httpx2.HTTPError) as error:
                    log.warning(
                        "witness %s did not cosign size %d: %s", witness.url, latest.size, error
                    )
                    continue
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
