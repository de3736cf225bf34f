"""Recording checked scans in the caller's write transaction: record ids, replays, the rows
of the open batches (services/scan_batches.py) and each person's colour after the scan.

A scan's record id is a keyed tag of the person, the venue and the code's window (or, for a
printed code, the second), so the same person presenting the same code again is a replay,
refused whether it comes twice in one batch or again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from healthcode.credentials.passes import PlaceCodeCheck
from healthcode.domain.evidence import Presence
from healthcode.errors import HealthcodeError, InputRejected
from healthcode.services import scan_batches
from healthcode.services.batch_leaves import LeafWrites
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.log_reader import CheckpointRef
from healthcode.services.place_codes import VenueInfo
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.places_policy import PlacesPolicy
from healthcode.services.scan_sources import scan_source, scan_source_id
from healthcode.services.trust_lists import whole_second
from healthcode.store import evidence as evidence_repo
from healthcode.store import places as repo
from healthcode.store import registry as registry_repo


@dataclass(frozen=True)
class ScanResult:
    """What a scan answers: the screen staff look at (colour, venue, time), and the record."""

    record_id: str
    source_id: str
    venue: VenueInfo
    presence: Presence
    at: datetime
    colour: str
    # The log checkpoint the answer was computed at (read in the scan's transaction).
    checkpoint: CheckpointRef | None = field(default=None, compare=False)


@dataclass(slots=True)
class ScanOutcome:
    result: ScanResult | None = None
    error: HealthcodeError | None = None


@dataclass(slots=True)
class PendingScan:
    """A checked scan to record: its place in the caller's answers, and what recording adds."""

    index: int
    person_key: str
    check: PlaceCodeCheck
    venue: VenueInfo
    record_id: str = ""
    source_id: str = ""
    shard: int = 0
    at: datetime | None = None  # the scan's own instant, if not the transaction's


class ScanRecorder:
    """Records checked scans (`record`) for the places service, under its write lock."""

    def __init__(self, keys: DerivedKeys, policy: PlacesPolicy, derivation: Derivation) -> None:
        self._keys = keys
        self.policy = policy
        self._derivation = derivation

    def record(
        self,
        conn: Connection,
        pending: list[PendingScan],
        now: datetime,
        leaves: LeafWrites,
        *,
        isolate_sources: bool = False,
    ) -> dict[int, ScanOutcome]:
        """Record checked scans at ``now`` (each at its own instant if it has one). A revoked
        scan source refuses the whole transaction, or with ``isolate_sources`` (a group of
        person scans) only the scans at its venues."""
        outcomes: dict[int, ScanOutcome] = {}
        if not pending:
            return outcomes
        # Checked in this transaction, once per authority: a revoked scan source takes no scan.
        sources: dict[str, str] = {}
        refused: dict[str, HealthcodeError] = {}
        authorities = sorted({item.venue.authority_id for item in pending})
        states = registry_repo.sources_active(conn, [scan_source_id(a) for a in authorities])
        for authority in authorities:
            active = states.get(scan_source_id(authority))
            if not isolate_sources:
                sources[authority] = scan_source(conn, self._keys, authority, now, active)
                continue
            try:
                sources[authority] = scan_source(conn, self._keys, authority, now, active)
            except HealthcodeError as error:  # raised before anything is written
                refused[authority] = error
        if refused:
            for item in pending:
                refusal = refused.get(item.venue.authority_id)
                if refusal is not None:
                    outcomes[item.index] = ScanOutcome(
                        error=type(refusal)(refusal.code, refusal.detail)
                    )
            pending = [item for item in pending if item.venue.authority_id not in refused]
            if not pending:
                return outcomes
        tag, shards = self._keys.tag, self.policy.scan_shards
        # The same person presenting the same code again, in this batch or before: a replay.
        seen: set[tuple[str, str]] = set()
        accepted: list[PendingScan] = []
        scans: list[scan_batches.NewScan] = []
        for item in pending:
            venue, person = item.venue, item.person_key
            source_id = item.source_id = sources[venue.authority_id]
            window = item.check.window
            if window is not None:
                moment = f"w{window}"
            else:
                moment = f"static@{whole_second(item.at or now).isoformat()}"
            record_id = item.record_id = "v" + tag(f"scan|{person}|{venue.id}|{moment}")
            key = (source_id, record_id)
            if key in seen:
                outcomes[item.index] = _replayed()
                continue
            seen.add(key)
            accepted.append(item)
            item.shard = int(person[:8], 16) % shards
            scans.append(_new_scan(item))
        # Looking every scan up before writing cost more than the write itself on PostgreSQL,
        # and replays are rare: the batch is written under a savepoint, and only if the
        # primary key refuses a record are the stored ones looked up and the rest rewritten.
        try:
            with conn.begin_nested():
                visits = scan_batches.write_scans(conn, scans, now, leaves)
        except evidence_repo.DuplicateRecord:
            stored = repo.existing_record_ids(conn, sorted(seen))
            for item in accepted:
                if (item.source_id, item.record_id) in stored:
                    outcomes[item.index] = _replayed()
            accepted = [i for i in accepted if (i.source_id, i.record_id) not in stored]
            if not accepted:
                return outcomes
            visits = scan_batches.write_scans(conn, [_new_scan(i) for i in accepted], now, leaves)
        people = sorted({item.person_key for item in accepted})
        # The colour on the staff's screen: what the derivation just stored, having brought
        # each person to `now` or shown the visit cannot change them.
        colours = self._derivation.recompute_colours(
            conn, people, now=now, cause=Cause.INPUT, new_evidence=visits
        )
        for item, visit in zip(accepted, visits, strict=True):
            outcomes[item.index] = ScanOutcome(
                result=ScanResult(
                    record_id=item.record_id,
                    source_id=item.source_id,
                    venue=item.venue,
                    presence=visit.presence,
                    at=item.at or now,
                    colour=colours[item.person_key].value,
                )
            )
        return outcomes


def _replayed() -> ScanOutcome:
    return ScanOutcome(
        error=InputRejected("place.replayed", "this person already scanned this code")
    )


def _new_scan(item: PendingScan) -> scan_batches.NewScan:
    venue = item.venue
    return scan_batches.NewScan(
        item.source_id, item.shard, item.record_id, item.person_key, venue.area, venue.id,
        Presence.PROVEN if item.check.fresh else Presence.UNVERIFIED, item.at,
    )  # fmt: skip
