"""Venue place codes, scans with proof of presence, and scan batches committed to the log.

Why: in Zhengzhou 871 people were made red by a station's place code someone had *sent*
them (A2). Here a venue device shows a code that rotates every few seconds (policy), signed
with the venue's own key. A scan proves presence only if the code was fresh when the server
received it; a stale, forwarded or printed code is still recorded, as an *unverified* visit,
which no rule counts (invariant 9). The same person presenting the same code again is a
replay and is refused. Nothing in a scan is the person's word: the server checks the code,
and the server is the scan's evidence source.

Scans are evidence of a server-owned source per authority (`scans.<authority>`, registered
like any source: its authority is the venue's, its area the smallest registered area
covering the authority's jurisdiction and venues, its only kind `venue_visit`). Its key is
derived (services/place_keys.py) and never signs an intake batch, so intake's rules cannot
reach its batches. A scan lands at once as an evidence row of the *open batch* of its
source and shard (the same transaction recomputes the person, so the colour follows at
once); a batch is one second of one source and shard. The sealer (the server's sequencer
loop, and any scan arriving for a later second) seals every batch of an earlier second in
one transaction: it computes the Merkle root over the batch's records in position order,
appends the `evidence_batch` entry and writes the `evidence_batches` row, exactly as intake
does for a submitted batch, and the batch never changes again; the self-check recomputes
its root like any other. A person gets a proof for a scan: its leaf's inclusion in the batch
root, the batch's log entry and that entry's tlog-proof receipt.

A person's scan is answered only once it is committed, and a commit is durable (the store
waits for the disk). Scans are handled by one thread of the places service
(services/batching.py): the scans submitted while it writes a group wait, and are then
written together, in one transaction with one commit (group commit). The disk's wait, the
hand-over to a thread and the statements every scan needs (the source, the open batch, the
rulebook and designations the derivation reads) are paid once per group rather than once
per scan. Each scan is still checked on its own, recorded at its own instant (the one it
was submitted with), refused on its own (a replay, a revoked source) with nothing of it
written, and answered with the colour its person has once the group is committed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from healthcode.credentials.passes import (
    PassError,
    PlaceCodeCheck,
    PlaceCodeChecker,
    UnknownVenueError,
    VenueKey,
    VenueKeyring,
    key_id_for,
    peek_place_code,
    place_code,
    raw_public_key,
    static_place_code,
    window_of,
    window_start,
)
from healthcode.domain import areas
from healthcode.domain.batches import SourceRegistration
from healthcode.domain.evidence import EvidenceKind, Presence
from healthcode.domain.log_entries import registry_entry
from healthcode.domain.people import is_person_key
from healthcode.errors import HealthcodeError, InputRejected, NotFound
from healthcode.services import scan_batches, transparency
from healthcode.services.batch_leaves import BatchLeaves, LeafWrites
from healthcode.services.batching import BatchWorker
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.log_reader import CheckpointRef, LogReader
from healthcode.services.pass_refusals import refused
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.places_policy import PlacesPolicy
from healthcode.services.rulebooks import Rulebooks
from healthcode.services.trust_lists import b64url, whole_second
from healthcode.store import evidence as evidence_repo
from healthcode.store import log as log_repo
from healthcode.store import places as repo
from healthcode.store import refusals as refusals_repo
from healthcode.store import registry as registry_repo
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.tlog import inclusion_proof, leaf_hash, merkle_root

_VENUE_TTL = timedelta(minutes=5)  # venue names and areas are re-read at least this often
SCAN_ROUTE = "service:scans"  # the route a refused scan of a gateway batch is recorded under


@dataclass(frozen=True)
class VenueInfo:
    id: str
    name_zh: str
    name_en: str
    area: str
    authority_id: str


@dataclass(frozen=True)
class PlaceCodeView:
    venue: VenueInfo
    text: str
    window: int | None  # None: a printed static code
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass(frozen=True)
class ScanRequest:
    person_key: str
    code: str


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


@dataclass(frozen=True)
class ScanProof:
    """A scan record's inclusion in its batch root, the batch's log entry and its receipt."""

    source_id: str
    record_id: str
    batch_id: str
    record: bytes  # the canonical record: leaf_hash(record) is the leaf
    leaf_index: int
    batch_size: int
    inclusion: list[bytes]  # RFC 9162 inclusion proof of the leaf in the batch root
    batch_root: bytes
    log_index: int
    entry: bytes  # the evidence_batch log entry holding batch_root
    receipt: str  # tlog-proof of the entry under the latest checkpoint


@dataclass(slots=True)
class _Pending:
    index: int
    person_key: str
    check: PlaceCodeCheck
    venue: VenueInfo
    record_id: str = ""
    source_id: str = ""
    shard: int = 0
    at: datetime | None = None  # the scan's own instant, if not the transaction's


@dataclass(slots=True)
class _Waiting:
    """A checked person's scan in its group's transaction (`Places.submit`)."""

    item: _Pending
    now: datetime
    outcome: ScanOutcome | None = None
    failure: BaseException | None = None  # the group's transaction failed


_GROUP_LIMIT = 256  # scans written in one transaction at most


@dataclass
class _Caches:
    ring: VenueKeyring = field(default_factory=lambda: VenueKeyring(()))
    ring_loaded: bool = False
    venues: dict[str, tuple[VenueInfo, datetime]] = field(default_factory=dict)


def scan_source_id(authority_id: str) -> str:
    """The server-owned scan source of an authority (an id of at most 64 characters)."""
    candidate = f"scans.{authority_id}"
    if len(candidate) <= 64:
        return candidate
    return "scans." + hashlib.sha256(authority_id.encode()).hexdigest()[:32]


class Places:
    def __init__(
        self,
        db: Database,
        derivation: Derivation,
        rulebooks: Rulebooks,
        log: LogReader,
        keys: DerivedKeys,
        policy: PlacesPolicy,
    ) -> None:
        self._db = db
        self._derivation = derivation
        self._rulebooks = rulebooks
        self._log = log
        self._keys = keys
        self.policy = policy
        self._caches = _Caches()
        self._leaves = BatchLeaves()  # what the open scan batches hold, for sealing them
        self._lock = threading.Lock()  # held around every write of places
        self._scans: BatchWorker[tuple[str, str, datetime], ScanResult] = BatchWorker(
            "healthcode-scans", self._scan_group, limit=_GROUP_LIMIT
        )

    # --- venues and their keys -----------------------------------------------------------

    def venue(self, venue_id: str, now: datetime) -> VenueInfo:
        found = self._venue_infos([venue_id], now).get(venue_id)
        if found is None:
            raise NotFound("evidence.venue_unknown")
        return found

    def _venue_infos(self, venue_ids: Sequence[str], now: datetime) -> dict[str, VenueInfo]:
        cache = self._caches.venues
        found: dict[str, VenueInfo] = {}
        missing = []
        for venue_id in set(venue_ids):
            cached = cache.get(venue_id)
            if cached is not None and now - cached[1] < _VENUE_TTL:
                found[venue_id] = cached[0]
            else:
                missing.append(venue_id)
        if missing:
            with self._db.read() as conn:
                rows = repo.venues(conn, missing)
            for row in rows.values():
                info = VenueInfo(row.id, row.name_zh, row.name_en, row.area_code, row.authority_id)
                cache[row.id] = (info, now)
                found[row.id] = info
        return found

    def _venue_key(self, conn: Connection, venue_id: str, now: datetime) -> tuple[int, bytes]:
        """(generation, key id) of the venue's key valid now; registers one if it has none."""
        row = repo.venue_key_of(conn, venue_id)
        if row is not None and row.not_before <= now < row.not_after - self.policy.code_interval:
            return row.generation, bytes.fromhex(row.key_id)
        generation = (row.generation if row else 0) + 1
        public = self._keys.venue(venue_id, generation).public_key()
        key_id = key_id_for(public)
        start = whole_second(now)
        record = {
            "key_id": key_id.hex(),
            "venue": venue_id,
            "public_key": b64url(raw_public_key(public)),
            "not_before": start.isoformat(),
            "not_after": (start + self.policy.key_lifetime).isoformat(),
            "generation": generation,
        }
        index = transparency.append_one(
            conn, "registry", registry_entry("venue_key", record, now), now
        )
        repo.insert_venue_key(
            conn,
            {
                "key_id": key_id.hex(),
                "venue_id": venue_id,
                "generation": generation,
                "public_key": raw_public_key(public),
                "not_before": start,
                "not_after": start + self.policy.key_lifetime,
                "registered_at": now,
                "log_index": index,
            },
        )
        self._caches.ring_loaded = False
        return generation, key_id

    def _signing(self, venue_id: str, now: datetime) -> tuple[VenueInfo, Any, bytes]:
        venue = self.venue(venue_id, now)
        with self._db.read() as conn:
            row = repo.venue_key_of(conn, venue_id)
        if row is not None and row.not_before <= now < row.not_after - self.policy.code_interval:
            generation, key_id = row.generation, bytes.fromhex(row.key_id)
        else:
            with self._lock, self._db.write() as conn:
                generation, key_id = self._venue_key(conn, venue_id, now)
        return venue, self._keys.venue(venue_id, generation), key_id

    def current_code(self, venue_id: str, now: datetime) -> PlaceCodeView:
        """The venue's rotating code for the window `now` falls in."""
        venue, key, key_id = self._signing(venue_id, now)
        window = window_of(now, self.policy.code_interval)
        return PlaceCodeView(
            venue=venue,
            text=place_code(venue_id, window, key, key_id),
            window=window,
            valid_from=window_start(window, self.policy.code_interval),
            valid_until=window_start(window + 1, self.policy.code_interval),
        )

    def static_code(self, venue_id: str, now: datetime) -> PlaceCodeView:
        """A printable code for places without a device: every scan of it is unverified."""
        venue, key, key_id = self._signing(venue_id, now)
        return PlaceCodeView(venue, static_place_code(venue_id, key, key_id), None, None, None)

    def _keyring(self) -> VenueKeyring:
        caches = self._caches
        if not caches.ring_loaded:
            with self._db.read() as conn:
                rows = repo.venue_keys(conn)
            caches.ring = VenueKeyring.of(
                VenueKey(row.venue_id, bytes.fromhex(row.key_id), bytes(row.public_key),
                         row.not_before, row.not_after)
                for row in rows
            )  # fmt: skip
            caches.ring_loaded = True
        return caches.ring

    def check_code(self, text: str, now: datetime) -> PlaceCodeCheck:
        """Check a scanned code's signature and freshness; refusals carry the codec's code."""
        return self._check_code(self._checker(now), text, now)

    def _checker(self, now: datetime) -> PlaceCodeChecker:
        policy = self.policy
        return PlaceCodeChecker(self._keyring(), now, policy.code_interval, policy.freshness)

    def _check_code(self, checker: PlaceCodeChecker, text: str, now: datetime) -> PlaceCodeCheck:
        """`check_code` with a checker made for `now` (reused across a gateway's batch)."""
        try:
            try:
                return checker.check(text)
            except UnknownVenueError:
                # Perhaps a key another process registered since the ring was loaded.
                _venue, _window, key_id = peek_place_code(text)
                with self._db.read() as conn:
                    known = conn.scalar(
                        select(t.venue_keys.c.key_id).where(t.venue_keys.c.key_id == key_id.hex())
                    )
                if known is None:
                    raise
                self._caches.ring_loaded = False
                return self._checker(now).check(text)
        except PassError as error:
            raise refused(error) from None

    # --- the server-owned scan sources -----------------------------------------------------

    def _scan_source(
        self, conn: Connection, authority_id: str, now: datetime, active: bool | None
    ) -> str:
        """The authority's scan source, registered if it is not (``active``: its state, read
        in this transaction; None if not registered); refused if revoked."""
        source_id = scan_source_id(authority_id)
        if active is None:
            self._register_source(conn, authority_id, source_id, now)
        elif not active:
            # Revoked by a supervisor of its authority: no more scans at its venues (and the
            # revocation sets aside whatever was recorded since, like any source's evidence).
            raise InputRejected("source.inactive", f"the scan source {source_id} is revoked")
        return source_id

    def _register_source(
        self, conn: Connection, authority_id: str, source_id: str, now: datetime
    ) -> None:
        jurisdiction = set(
            conn.scalars(
                select(t.authority_areas.c.area_code).where(
                    t.authority_areas.c.authority_id == authority_id
                )
            )
        )
        venue_areas = set(
            conn.scalars(
                select(t.venues.c.area_code).where(t.venues.c.authority_id == authority_id)
            )
        )
        area = covering_area(jurisdiction | venue_areas, registry_repo.area_codes(conn))
        if area is None:
            raise InputRejected(
                "registry.invalid",
                f"no registered area covers the venues and jurisdiction of {authority_id}",
            )
        public = raw_public_key(self._keys.scan_source(source_id).public_key())
        name = f"healthcode scans ({authority_id})"
        kinds = [EvidenceKind.VENUE_VISIT.value]
        record = {"id": source_id, "authority": authority_id, "name": name,
                  "public_key": b64url(public), "kinds": kinds, "area": area}  # fmt: skip
        transparency.append_one(conn, "registry", registry_entry("source", record, now), now)
        registry_repo.save_source(
            conn,
            SourceRegistration(source_id, authority_id, public,
                               frozenset({EvidenceKind.VENUE_VISIT}), area),
            name,
            now,
        )  # fmt: skip

    def ensure_registered(self, now: datetime) -> dict[str, int]:
        """Register what places need up front: a scan source per authority with venues and a
        place-code key per venue (both also happen on first use). For the demo and deploys."""
        made = {"scan_sources": 0, "venue_keys": 0}
        with self._lock, self._db.write() as conn:
            authorities = sorted(set(conn.scalars(select(t.venues.c.authority_id).distinct())))
            for authority_id in authorities:
                source_id = scan_source_id(authority_id)
                if registry_repo.source(conn, source_id) is None:
                    self._register_source(conn, authority_id, source_id, now)
                    made["scan_sources"] += 1
            keyed = set(conn.scalars(select(t.venue_keys.c.venue_id).distinct()))
            for venue_id in sorted(set(conn.scalars(select(t.venues.c.id))) - keyed):
                self._venue_key(conn, venue_id, now)
                made["venue_keys"] += 1
        return made

    # --- scans -------------------------------------------------------------------------------

    def scan(self, person_key: str, code: str, now: datetime) -> ScanResult:
        """One person's scan (the per-request path): recorded, or refused with nothing written.
        Blocks until it is committed (`submit`)."""
        return self.submit(person_key, code, now).result()

    def submit(self, person_key: str, code: str, now: datetime) -> Future[ScanResult]:
        """`scan` without blocking the caller: the places' scan thread checks the scan, on its
        own, then writes it with the scans submitted alongside it in one transaction (the
        module's docstring), and answers the future once that has committed."""
        return self._scans.submit((person_key, code, now))

    def _scan_group(
        self, submitted: list[tuple[str, str, datetime]]
    ) -> list[tuple[ScanResult | None, BaseException | None]]:
        """The scan thread's work: check each scan, then write those that pass together."""
        waiting: list[_Waiting | BaseException] = []
        for person_key, code, now in submitted:
            try:
                waiting.append(self._checked(person_key, code, now))
            except BaseException as error:  # refused (or the check failed): that scan only
                waiting.append(error)
        group = [w for w in waiting if isinstance(w, _Waiting)]
        if group:
            with self._lock:
                self._write_group(group)
        answers: list[tuple[ScanResult | None, BaseException | None]] = []
        for w in waiting:
            if isinstance(w, BaseException):
                answers.append((None, w))
            elif w.failure is not None:
                answers.append((None, w.failure))
            elif w.outcome is None or w.outcome.result is None:
                refusal = w.outcome.error if w.outcome is not None else None
                answers.append((None, refusal or RuntimeError("a scan was not answered")))
            else:
                answers.append((w.outcome.result, None))
        return answers

    def _checked(self, person_key: str, code: str, now: datetime) -> _Waiting:
        if not isinstance(person_key, str) or not is_person_key(person_key):
            raise InputRejected("request.malformed", "not a person key")
        check = self.check_code(code, now)
        venue = self._venue_infos([check.venue_id], now).get(check.venue_id)
        if venue is None:
            raise InputRejected("place.unknown_venue")
        return _Waiting(_Pending(0, person_key, check, venue, at=now), now)

    def _write_group(self, group: list[_Waiting]) -> None:
        """Write a group of checked scans in one transaction (the caller holds the lock), and
        give each its outcome; if the transaction fails, each fails with it."""
        leaves = self._leaves.writes()
        try:
            with self._db.write() as conn:
                checkpoint = self._log.checkpoint_at(conn)
                # A batch is one second: the scans of each second together, in time order.
                ordered = sorted(group, key=lambda w: w.now)
                seconds: dict[datetime, list[_Waiting]] = {}
                for waiting in ordered:
                    seconds.setdefault(whole_second(waiting.now), []).append(waiting)
                for members in seconds.values():
                    pending = [w.item for w in members]
                    for index, item in enumerate(pending):
                        item.index = index
                    outcomes = self._record(
                        conn, pending, members[-1].now, leaves, isolate_sources=True
                    )
                    for index, waiting in enumerate(members):
                        outcome = outcomes[index]
                        if outcome.result is not None:
                            outcome.result = replace(outcome.result, checkpoint=checkpoint)
                        waiting.outcome = outcome
                if all(w.outcome is None or w.outcome.result is None for w in group):
                    # Nothing is recorded (every scan refused): nothing to commit. Raising
                    # rolls back whatever the transaction did (a batch sealed on the way is
                    # sealed again by the next scan or the sequencer).
                    raise _NothingRecorded
        except _NothingRecorded:
            pass
        except BaseException as error:
            for waiting in group:
                waiting.outcome = None
                waiting.failure = error
        else:
            self._leaves.keep(leaves)

    def scan_many(self, requests: Sequence[ScanRequest], now: datetime) -> list[ScanOutcome]:
        """Many scans in one transaction (a gateway's or device's batch path).

        Each scan is checked on its own: refused ones are answered with their error and a
        refusal row, and change nothing else; the others are recorded together.
        """
        outcomes: list[ScanOutcome | None] = [None] * len(requests)
        checked: list[tuple[int, str, PlaceCodeCheck]] = []
        checker = self._checker(now)
        for index, request in enumerate(requests):
            caches = self._caches
            if not caches.ring_loaded or checker.keys is not caches.ring:
                checker = self._checker(now)  # keys registered since: the ring was reloaded
            try:
                if not isinstance(request.person_key, str) or not is_person_key(request.person_key):
                    raise InputRejected("request.malformed", "not a person key")
                check = self._check_code(checker, request.code, now)
                checked.append((index, request.person_key, check))
            except HealthcodeError as error:
                outcomes[index] = ScanOutcome(error=error)
        venues = self._venue_infos([c.venue_id for _, _, c in checked], now)
        pending: list[_Pending] = []
        for index, person, check in checked:
            venue = venues.get(check.venue_id)
            if venue is None:
                outcomes[index] = ScanOutcome(error=InputRejected("place.unknown_venue"))
            else:
                pending.append(_Pending(index, person, check, venue))
        if pending or any(o is not None for o in outcomes):
            leaves = self._leaves.writes()
            with self._lock:
                with self._db.write() as conn:
                    for index, result in self._record(conn, pending, now, leaves).items():
                        outcomes[index] = result
                    for outcome in outcomes:
                        if outcome is None or outcome.error is None:
                            continue
                        refusals_repo.record(
                            conn, at=now, code=outcome.error.code, route=SCAN_ROUTE, source_id=None
                        )
                self._leaves.keep(leaves)
        return [outcome if outcome is not None else ScanOutcome() for outcome in outcomes]

    def _record(
        self,
        conn: Connection,
        pending: list[_Pending],
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
                sources[authority] = self._scan_source(conn, authority, now, active)
                continue
            try:
                sources[authority] = self._scan_source(conn, authority, now, active)
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
        for item in pending:
            item.source_id = sources[item.venue.authority_id]
            window = item.check.window
            if window is not None:
                moment = f"w{window}"
            else:
                moment = f"static@{whole_second(item.at or now).isoformat()}"
            item.record_id = "v" + tag(f"scan|{item.person_key}|{item.venue.id}|{moment}")
            item.shard = int(item.person_key[:8], 16) % shards
        # The same person presenting the same code again, in this batch or before: a replay.
        seen: set[tuple[str, str]] = set()
        accepted: list[_Pending] = []
        for item in pending:
            key = (item.source_id, item.record_id)
            if key in seen:
                outcomes[item.index] = _replayed()
            else:
                seen.add(key)
                accepted.append(item)
        # Looking every scan up before writing cost more than the write itself on PostgreSQL,
        # and replays are rare: the batch is written under a savepoint, and only if the
        # primary key refuses a record are the stored ones looked up and the rest rewritten.
        try:
            with conn.begin_nested():
                visits = scan_batches.write_scans(
                    conn, [_new_scan(i) for i in accepted], now, leaves
                )
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

    # --- sealing -------------------------------------------------------------------------------

    def seal_due(self, now: datetime, *, everything: bool = False) -> int:
        """Seal every open batch of a second before `now`'s (all of them with `everything`)."""
        leaves = self._leaves.writes()
        with self._lock:
            with self._db.write() as conn:
                sealed = scan_batches.seal_due(conn, now, leaves, everything=everything)
            self._leaves.keep(leaves)
        return sealed

    # --- proofs ----------------------------------------------------------------------------

    def proof(self, person_key: str, record_id: str) -> ScanProof:
        """The proof that one of the person's scans is in the log (once its batch is sealed
        and the batch entry is in a signed checkpoint)."""
        with self._db.read() as conn:
            found = repo.scan_record(conn, person_key, record_id)
            if found is None:
                raise NotFound("scan.not_found")
            if found.sealed_at is None:
                raise InputRejected("scan.not_sealed", "the batch is still open")
            batch = evidence_repo.batch(conn, found.source_id, found.batch_id)
            leaves = repo.batch_leaves(conn, found.source_id, found.batch_id)
            if batch is None:  # pragma: no cover - sealed batches always have their row
                raise InputRejected("scan.not_sealed")
            log_index = int(batch.log_index)
            entry = log_repo.entries(conn, log_index, log_index + 1)[0]
        hashes = [leaf_hash(bytes(row.canonical)) for row in leaves]

        def node(level: int, index: int) -> bytes:
            return merkle_root(hashes[index << level : (index + 1) << level])

        receipt = self._log.receipt(log_index)
        if receipt is None:
            raise InputRejected("scan.not_sealed", "the batch entry is not in a checkpoint yet")
        return ScanProof(
            source_id=found.source_id,
            record_id=record_id,
            batch_id=found.batch_id,
            record=bytes(found.canonical),
            leaf_index=int(found.position),
            batch_size=len(hashes),
            inclusion=inclusion_proof(int(found.position), len(hashes), node),
            batch_root=bytes(batch.merkle_root),
            log_index=log_index,
            entry=entry,
            receipt=receipt,
        )


class _NothingRecorded(Exception):
    """Every scan of a group was refused: its transaction is rolled back."""


def _replayed() -> ScanOutcome:
    return ScanOutcome(
        error=InputRejected("place.replayed", "this person already scanned this code")
    )


def _new_scan(item: _Pending) -> scan_batches.NewScan:
    venue = item.venue
    return scan_batches.NewScan(
        item.source_id, item.shard, item.record_id, item.person_key, venue.area, venue.id,
        Presence.PROVEN if item.check.fresh else Presence.UNVERIFIED, item.at,
    )  # fmt: skip


def covering_area(codes: set[str], known: set[str]) -> str | None:
    """The smallest registered area containing every code (district < city < province)."""
    if not codes:
        return None
    first = min(codes)
    candidate: str | None = first
    while candidate is not None:
        if candidate in known and all(areas.contains(candidate, code) for code in codes):
            return candidate
        candidate = areas.parent_of(candidate)
    return None
