"""Oversight opens log entries: whom each tag names, from the escrows and oversight's own key.

Entries name people and staff only by tags, different in every entry (domain/entry_tags.py).
Oversight holds the private half of the key every per-person secret is escrowed to, so it can
open the escrows and recompute each tag: the one whose secret gives the tag is the one the
entry names. Nothing here uses the server's master key: what an entry says is learned from the
log, the escrows and oversight's key alone, so a server that lied in its rows is caught.

Opening is a read of the named people's records and is recorded as one: each person an
opened entry names gets an access record (purpose ``oversight_case``, the auditor named),
written before anything is returned (DESIGN, invariant 7; docs/oversight.md, "Opening an
entry"). Staff named as actors are not: their tags cover official acts, which are oversight's
to examine, not their private record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import Connection

from healthcode.domain.entry_tags import FINDING, TagSpot, tag_spots
from healthcode.domain.log_entries import inputs_commitment
from healthcode.errors import Detail, InputRejected, NotFound, StoreFault, Unauthorized
from healthcode.services.access import Access, Reader
from healthcode.services.escrow import EscrowOpener
from healthcode.services.oversight import AUDITOR
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import oversight as oversight_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database

MAX_ENTRIES = 1000  # a run HMACs every secret once an entry: this bounds it
# Every escrow is sealed to oversight's key: a key that opens none of the first few is not
# oversight's, and trying it on every escrow of a city would only cost time.
KEY_PROBES = 8
PURPOSE = "oversight_case"


@dataclass(frozen=True)
class OpenedSpot:
    """A tag or commitment and what opening found: ``owner`` is the escrow key whose secret
    gives it (a person key, ``staff:<id>``, ``finding:<id>``), None if no escrow opened does;
    for a commitment, ``opens_to`` is the stored value it was checked against, if any."""

    spot: TagSpot
    owner: str | None
    opens_to: str | None = None


@dataclass(frozen=True)
class OpenedEntry:
    index: int
    kind: str
    spots: tuple[OpenedSpot, ...]


@dataclass(frozen=True)
class Opening:
    entries: tuple[OpenedEntry, ...]
    escrows_tried: int
    escrows_opened: int
    access_entries: tuple[int, ...]  # the access records this opening wrote, by log index


def load_oversight_key(data: bytes) -> X25519PrivateKey:
    """Oversight's X25519 private key from its file: the 32 raw bytes the demo writes
    (``keys/oversight-escrow.x25519``), or PEM (PKCS #8)."""
    if len(data) == 32:
        return X25519PrivateKey.from_private_bytes(data)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, X25519PrivateKey):
        raise InputRejected(
            "oversight.key_malformed", f"{len(data)} bytes, neither 32 raw bytes nor PEM X25519"
        )
    return key


class EntryOpening:
    def __init__(self, db: Database, access: Access) -> None:
        self._db = db
        self._access = access

    def open(
        self, indices: Sequence[int], key: X25519PrivateKey, *, auditor: str, now: datetime,
        people: Sequence[str] | None = None,
    ) -> Opening:  # fmt: skip
        """Open entries ``indices`` with oversight's ``key``, for ``auditor``; with ``people``,
        person tags are tried against those people's escrows only. Refused, nothing written:
        an unknown index, an auditor who is not an active one, a key that opens no escrow."""
        wanted = sorted(set(indices))
        if len(wanted) > MAX_ENTRIES:
            raise InputRejected("request.too_large", f"at most {MAX_ENTRIES} entries a run")
        with self._db.snapshot() as conn:
            member = staff_repo.find(conn, auditor)
            if member is None or not member.active or member.role != AUDITOR:
                raise Unauthorized("auth.forbidden", Detail("only an active auditor opens entries"))
            read = [(index, *_entry(conn, index)) for index in wanted]
            matcher = _Matcher(EscrowOpener(key), read)
            matcher.persons(
                log_repo.escrows_of_persons(conn, people) if matcher.wants("person") else []
            )
            matcher.staff(log_repo.escrows_of_staff(conn) if matcher.wants("actor") else [])
            matcher.findings(conn)
            if matcher.tried == 0 and (sealed := log_repo.any_escrow(conn)) is not None:
                matcher.try_key(bytes(sealed))
        if matcher.tried and not matcher.opened:
            raise _wrong_key(matcher.tried)
        entries = matcher.result()
        named = {s.owner for e in entries for s in e.spots if s.spot.role == "person" and s.owner}
        recorded = self._access.record(
            Reader(auditor, AUDITOR, None, frozenset()), sorted(named), PURPOSE, now=now
        )
        return Opening(entries, matcher.tried, matcher.opened, tuple(recorded))


def _wrong_key(tried: int) -> InputRejected:
    return InputRejected("oversight.key_wrong", f"it opened none of the {tried} escrows tried")


def _entry(conn: Connection, index: int) -> tuple[str, dict[str, object]]:
    if index < 0:
        raise NotFound("log.not_found", f"no entry {index}")
    try:
        found = log_bundles.entries(conn, index, index + 1)
    except log_bundles.BundleFault as fault:
        raise StoreFault("log.tile_missing", str(fault)) from None
    if not found:
        size = log_bundles.next_index(conn)
        raise NotFound("log.not_found", f"no entry {index}: the log holds entries 0 to {size - 1}")
    body = json.loads(found[0])
    return str(body["kind"]), dict(body["data"])


def _tag(secret: bytes, label: str, index: int) -> str:
    return hmac.digest(secret, f"{label}:{index}".encode(), hashlib.sha256).hex()


class _Matcher:
    """Finds whose secret gives each tag of the entries read, opening each escrow once and
    HMACing its secret once an entry; it stops opening a class of escrows once every tag of
    that class is found."""

    def __init__(self, opener: EscrowOpener, read: list[tuple[int, str, dict[str, object]]]):
        self._opener = opener
        self._read = read
        self._spots = {index: tag_spots(kind, data) for index, kind, data in read}
        self._owner: dict[tuple[int, str], str] = {}  # (index, field) -> escrow key
        self._opens_to: dict[tuple[int, str], str] = {}
        self.tried = self.opened = 0

    def wants(self, role: str) -> bool:
        return any(spot.role == role for spots in self._spots.values() for spot in spots)

    def try_key(self, sealed: bytes) -> tuple[str, bytes] | None:
        self.tried += 1
        found = self._opener.open(sealed)
        self.opened += found is not None
        if not self.opened and self.tried >= KEY_PROBES:
            raise _wrong_key(self.tried)
        return found

    def persons(self, escrows: Iterable[tuple[str, bytes]]) -> None:
        self._match(escrows, "person", "entry")

    def staff(self, escrows: Iterable[tuple[str, bytes]]) -> None:
        self._match(escrows, "actor", "actor")

    def _match(self, escrows: Iterable[tuple[str, bytes]], role: str, label: str) -> None:
        wanted = {
            (index, spot.value): spot.field
            for index, spots in self._spots.items()
            for spot in spots
            if spot.role == role
        }
        indices = sorted({index for index, _ in wanted})
        for _, sealed in escrows:
            if not wanted:
                return
            found = self.try_key(sealed)
            if found is None:
                continue
            key, secret = found
            for index in indices:
                field = wanted.pop((index, _tag(secret, label, index)), None)
                if field is not None:
                    self._owner[(index, field)] = key

    def findings(self, conn: Connection) -> None:
        """A finding's commitments are under its own escrowed secret, and checked against the
        subject and records stored with it."""
        for index, kind, data in self._read:
            if kind != "oversight_finding":
                continue
            escrow_key = log_repo.FINDING_ESCROW + str(data.get("finding"))
            sealed = log_repo.escrow(conn, escrow_key)
            found = None if sealed is None else self.try_key(sealed)
            if found is None:
                continue
            stored = oversight_repo.finding(conn, str(data.get("finding")))
            for spot in self._spots[index]:
                if spot.under != FINDING:
                    continue
                self._owner[(index, spot.field)] = escrow_key
                if stored is None:
                    continue
                values = [stored.subject] if spot.field == "subject" else sorted(stored.records)
                if inputs_commitment(found[1], index, values) == spot.value:
                    self._opens_to[(index, spot.field)] = (
                        stored.subject
                        if spot.field == "subject"
                        else f"the {len(values)} records stored with {stored.id}"
                    )

    def result(self) -> tuple[OpenedEntry, ...]:
        opened = []
        for index, kind, _ in self._read:
            fields = {
                spot.field: self._owner.get((index, spot.field)) for spot in self._spots[index]
            }
            spots = tuple(
                OpenedSpot(
                    spot,
                    fields[spot.under] if spot.under and spot.under != FINDING
                    else self._owner.get((index, spot.field)),
                    self._opens_to.get((index, spot.field)),
                )
                for spot in self._spots[index]
            )  # fmt: skip
            opened.append(OpenedEntry(index, kind, spots))
        return tuple(opened)
