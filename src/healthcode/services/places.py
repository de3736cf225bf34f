"""Venue place codes, scans with proof of presence, and scan batches committed to the log.

Why: in Zhengzhou 871 people were made red by a station's place code someone had *sent*
them (A2). Here a venue device shows a code that rotates every few seconds (policy), signed
with the venue's own key. A scan proves presence only if the code was fresh when the server
received it; a stale, forwarded or printed code is still recorded, as an *unverified* visit,
which no rule counts (invariant 9). The same person presenting the same code again is a
replay and is refused. Nothing in a scan is the person's word: the server checks the code,
and the server is the scan's evidence source.

Codes are made and checked in services/place_codes.py. Scans are evidence of a
server-owned source per authority (services/scan_sources.py). A scan lands at once as an evidence row of the *open batch* of its
source and shard (the same transaction recomputes the person, so the colour follows at
once); a batch is one second of one source and shard. The sealer (the server's sequencer
loop, and any scan arriving for a later second) seals every batch of an earlier second in
one transaction: it computes the Merkle root over the batch's records in position order,
appends the `evidence_batch` entry and writes the `evidence_batches` row, exactly as intake
does for a submitted batch, and the batch never changes again; the self-check recomputes
its root like any other (services/scan_batches.py). A person gets a proof for a scan
(services/scan_proofs.py).

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

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from healthcode.credentials.passes import PlaceCodeCheck, VenueKeyring
from healthcode.domain.people import is_person_key
from healthcode.errors import HealthcodeError, InputRejected
from healthcode.services import scan_batches
from healthcode.services.batch_leaves import BatchLeaves
from healthcode.services.batching import BatchWorker
from healthcode.services.derivation import Derivation
from healthcode.services.log_reader import LogReader
from healthcode.services.place_codes import PlaceCodes, PlaceCodeView, VenueInfo
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.places_policy import PlacesPolicy
from healthcode.services.rulebooks import Rulebooks
from healthcode.services.scan_proofs import ScanProof, scan_proof
from healthcode.services.scan_records import PendingScan, ScanOutcome, ScanRecorder, ScanResult
from healthcode.services.scan_sources import register_scan_source, scan_source_id
from healthcode.services.trust_lists import whole_second
from healthcode.store import refusals as refusals_repo
from healthcode.store import registry as registry_repo
from healthcode.store import tables as t
from healthcode.store.database import Database

# What callers use (venue and code views and proofs live in their own modules).
__all__ = [
    "SCAN_ROUTE",
    "PlaceCodeView",
    "Places",
    "ScanOutcome",
    "ScanProof",
    "ScanRequest",
    "ScanResult",
    "VenueInfo",
]

SCAN_ROUTE = "service:scans"  # the route a refused scan of a gateway batch is recorded under


@dataclass(frozen=True)
class ScanRequest:
    person_key: str
    code: str


@dataclass(slots=True)
class _Waiting:
    """A checked person's scan in its group's transaction (`Places.submit`)."""

    item: PendingScan
    now: datetime
    outcome: ScanOutcome | None = None
    failure: BaseException | None = None  # the group's transaction failed


_GROUP_LIMIT = 256  # scans written in one transaction at most


class Places:
    """Place codes (services/place_codes.py), scans and their batches, and scan proofs."""

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
        self._leaves = BatchLeaves()  # what the open scan batches hold, for sealing them
        self._lock = threading.Lock()  # held around every write of places
        self._codes = PlaceCodes(db, keys, policy, self._lock)
        self._recorder = ScanRecorder(keys, policy, derivation)
        self._scans: BatchWorker[tuple[str, str, datetime], ScanResult] = BatchWorker(
            "healthcode-scans", self._scan_group, limit=_GROUP_LIMIT
        )

    # --- venues and their codes (services/place_codes.py) ---------------------------------

    def venue(self, venue_id: str, now: datetime) -> VenueInfo:
        return self._codes.venue(venue_id, now)

    def current_code(self, venue_id: str, now: datetime) -> PlaceCodeView:
        """The venue's rotating code for the window `now` falls in."""
        return self._codes.current_code(venue_id, now)

    def static_code(self, venue_id: str, now: datetime) -> PlaceCodeView:
        """A printable code for places without a device: every scan of it is unverified."""
        return self._codes.static_code(venue_id, now)

    def check_code(self, text: str, now: datetime) -> PlaceCodeCheck:
        """Check a scanned code's signature and freshness; refusals carry the codec's code."""
        return self._codes.check_code(text, now)

    def _keyring(self) -> VenueKeyring:
        return self._codes.keyring()

    def ensure_registered(self, now: datetime) -> dict[str, int]:
        """Register what places need up front: a scan source per authority with venues and a
        place-code key per venue (both also happen on first use). For the demo and deploys."""
        made = {"scan_sources": 0, "venue_keys": 0}
        with self._lock, self._db.write() as conn:
            authorities = sorted(set(conn.scalars(select(t.venues.c.authority_id).distinct())))
            for authority_id in authorities:
                source_id = scan_source_id(authority_id)
                if registry_repo.source(conn, source_id) is None:
                    register_scan_source(conn, self._keys, authority_id, source_id, now)
                    made["scan_sources"] += 1
            keyed = set(conn.scalars(select(t.venue_keys.c.venue_id).distinct()))
            for venue_id in sorted(set(conn.scalars(select(t.venues.c.id))) - keyed):
                self._codes.venue_key(conn, venue_id, now)
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
        venue = self._codes.venue_infos([check.venue_id], now).get(check.venue_id)
        if venue is None:
            raise InputRejected("place.unknown_venue")
        return _Waiting(PendingScan(0, person_key, check, venue, at=now), now)

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
                    outcomes = self._recorder.record(
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
        checker = self._codes.checker(now)
        for index, request in enumerate(requests):
            # Made again if the keyring was reloaded on the way (keys registered since).
            checker = self._codes.checker(now, reuse=checker)
            try:
                if not isinstance(request.person_key, str) or not is_person_key(request.person_key):
                    raise InputRejected("request.malformed", "not a person key")
                check = self._codes.check_with(checker, request.code, now)
                checked.append((index, request.person_key, check))
            except HealthcodeError as error:
                outcomes[index] = ScanOutcome(error=error)
        venues = self._codes.venue_infos([c.venue_id for _, _, c in checked], now)
        pending: list[PendingScan] = []
        for index, person, check in checked:
            venue = venues.get(check.venue_id)
            if venue is None:
                outcomes[index] = ScanOutcome(error=InputRejected("place.unknown_venue"))
            else:
                pending.append(PendingScan(index, person, check, venue))
        if pending or any(o is not None for o in outcomes):
            leaves = self._leaves.writes()
            with self._lock:
                with self._db.write() as conn:
                    for index, result in self._recorder.record(conn, pending, now, leaves).items():
                        outcomes[index] = result
                    for outcome in outcomes:
                        if outcome is None or outcome.error is None:
                            continue
                        refusals_repo.record(
                            conn, at=now, code=outcome.error.code, route=SCAN_ROUTE, source_id=None
                        )
                self._leaves.keep(leaves)
        return [outcome if outcome is not None else ScanOutcome() for outcome in outcomes]

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
        return scan_proof(self._db, self._log, person_key, record_id)


class _NothingRecorded(Exception):
    """Every scan of a group was refused: its transaction is rolled back."""
