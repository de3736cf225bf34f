"""The national log: records each regional log's checkpoints, once proven consistent.

For every configured region it fetches the checkpoint over HTTP, checks it is signed by the
region's configured key, proves it consistent with the checkpoint recorded for that region
before (from the region's tiles, as the monitor does: ``services/monitor.py``), and appends a
``regional_checkpoint`` entry only when the region grew. A checkpoint that is not consistent
— the region forked, or shows the national log another view than before — is refused with
``region.inconsistent``, recorded as a refusal and reported with both signed notes, which
together prove the misbehaviour to anyone; nothing is appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx2

from healthcode.domain.log_entries import regional_checkpoint_entry
from healthcode.errors import InputRejected
from healthcode.services import transparency
from healthcode.services.monitor import open_served_checkpoint, prove_consistency
from healthcode.services.monitor_errors import MonitorError
from healthcode.services.monitor_fetch import LogReader
from healthcode.services.refusals import Refusals
from healthcode.services.regions_config import Region
from healthcode.store import regions as repo
from healthcode.store.database import Database
from healthcode.store.regions import RegionalCheckpoint
from healthcode.tlog import Checkpoint

__all__ = ["Collected", "RegionalCheckpoints"]

# The note goes whole into the entry, and an entry holds at most 65,535 bytes (tlog-tiles):
# a region's signature and a hundred witness cosignatures take about 10 KiB.
MAX_NOTE_BYTES = 16 * 1024
# Another collector may record the same region between our proof and our write; prove again
# against what it recorded, a few times at most.
ATTEMPTS = 3

_REGION_CODES = {
    "monitor.http": "region.unreachable",
    "monitor.inconsistent": "region.inconsistent",
    "monitor.tile_invalid": "region.tiles_invalid",
}


@dataclass(frozen=True)
class Collected:
    """What collecting one region did: ``recorded`` a new checkpoint, found it ``unchanged``,
    or ``refused`` it (``refusal`` says why; ``evidence`` holds the recorded and the served
    signed notes when they are inconsistent)."""

    region: Region
    outcome: str
    size: int | None = None
    previous_size: int = 0
    log_index: int | None = None
    refusal: InputRejected | None = None
    evidence: tuple[str, ...] = ()


class RegionalCheckpoints:
    def __init__(self, db: Database, refusals: Refusals) -> None:
        self._db = db
        self._refusals = refusals

    def collect(
        self,
        regions: Sequence[Region],
        *,
        now: datetime,
        client: httpx2.Client | None = None,
        workers: int = 8,
    ) -> list[Collected]:
        """Collect every region in turn; one region's refusal does not stop the others."""
        http = httpx2.Client(timeout=30.0) if client is None else client
        try:
            return [self._collect_reported(region, http, now, workers) for region in regions]
        finally:
            if client is None:
                http.close()

    def _collect_reported(
        self, region: Region, http: httpx2.Client, now: datetime, workers: int
    ) -> Collected:
        try:
            return self._collect(region, http, now, workers)
        except MonitorError as error:
            code = _REGION_CODES.get(error.code, "region.checkpoint_invalid")
            refused = Collected(
                region,
                "refused",
                refusal=InputRejected(code, f"{error.code}: {error.message}"),
                evidence=error.evidence,
            )
        except InputRejected as error:
            refused = Collected(region, "refused", refusal=error)
        assert refused.refusal is not None
        self._refusals.record(
            refused.refusal, route=f"log collect {region.url}", source_id=None, now=now, by=None
        )
        return refused

    def _collect(
        self, region: Region, http: httpx2.Client, now: datetime, workers: int
    ) -> Collected:
        reader = LogReader(region.url, http)
        for _attempt in range(ATTEMPTS):
            # Read what is recorded before fetching: a checkpoint recorded by another collector
            # after this read is then caught below, and the region fetched again.
            with self._db.read() as conn:
                recorded = repo.latest(conn, region.origin)
            note, served = self._fetch(reader, region)
            previous = 0 if recorded is None else recorded.size
            if recorded is not None:
                old = Checkpoint(recorded.origin, recorded.size, recorded.root)
                proven, _tiles = prove_consistency(
                    reader, old, recorded.note, served, note, workers
                )
                if not proven:
                    raise InputRejected(
                        "region.tiles_invalid",
                        f"the tiles served do not prove size {served.size} consistent with the "
                        f"recorded size {recorded.size}",
                    )
            if served.size == previous:  # the same root too: proven above (or both empty)
                return Collected(region, "unchanged", served.size, previous)
            with self._db.write() as conn:
                if repo.latest(conn, region.origin) != recorded:
                    continue
                body = regional_checkpoint_entry(
                    origin=served.origin, size=served.size, root=served.root_hash,
                    key=region.key, note=note, previous_size=previous, recorded_at=now,
                )  # fmt: skip
                index = transparency.append_one(conn, "regional_checkpoint", body, now)
                repo.insert(conn, RegionalCheckpoint(
                    index, served.origin, served.size, served.root_hash, region.key, note,
                    previous, now,
                ))  # fmt: skip
            return Collected(region, "recorded", served.size, previous, index)
        raise InputRejected(
            "region.unreachable",
            f"other collectors recorded this region {ATTEMPTS} times while it was being proven",
        )

    @staticmethod
    def _fetch(reader: LogReader, region: Region) -> tuple[str, Checkpoint]:
        """The served checkpoint, signed by the region's configured key for its own origin."""
        note, served, _cosigners = open_served_checkpoint(reader.checkpoint(), region.verifier, ())
        if served.origin != region.origin:
            raise InputRejected(
                "region.checkpoint_invalid",
                f"the checkpoint names origin {served.origin!r}, its key {region.origin!r}",
            )
        if len(note.encode()) > MAX_NOTE_BYTES:
            raise InputRejected(
                "region.checkpoint_invalid", f"the signed note is over {MAX_NOTE_BYTES} bytes"
            )
        return note, served
