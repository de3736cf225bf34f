"""Reads of a person's record by anyone but that person: scoped, with a purpose, recorded.

The status is computed first and the access record appended after it, so the reader sees
exactly what the person sees, at the same checkpoint (A6); the person sees every access (A5).
A guardian reading a dependant's code (their page, their app) is such a reader too: each read
is recorded as staff reads are, none left out or merged, since the dependant is owed every one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain import areas
from healthcode.domain.log_entries import access_entry
from healthcode.errors import Detail, InputRejected, NotFound, Unauthorized
from healthcode.services import person_token_uses, staff_tokens, transparency, venue_tokens
from healthcode.services.escrow import PersonSecrets
from healthcode.services.explain import Explanations, Named, StatusView
from healthcode.services.orders import staff_secret_key
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database

PURPOSES = {
    "appeal_handling": ("处理申诉", "appeal handling"),
    "contact_tracing": ("流行病学调查", "contact tracing"),
    "oversight_case": ("监督案件", "oversight case"),
    "hotline_request": ("热线咨询", "hotline request"),
    # A venue device exchanging a printed identity card for the colour (services/passes.py).
    "identity_card_check": ("场所核验身份卡", "identity card check at a venue"),
    # A guardian looking at a dependant's code, reason and pass (`read_dependants`).
    "guardianship": ("监护人照看", "care by a guardian"),
}
GUARDIAN_PURPOSE = "guardianship"
# Recorded by venues and guardians, never chosen by staff.
UNCHOSEN_PURPOSES = frozenset({"identity_card_check", GUARDIAN_PURPOSE})
READERS = frozenset({"hotline", "official", "supervisor", "auditor"})
GUARDIAN = "guardian"  # the role a guardian's reads are recorded under
VENUE = "venue"  # and a venue device's card checks (services/passes.py)


def purposes_for(role: str) -> tuple[str, ...]:
    """The purposes a reader of ``role`` may state, in the catalogue's order: what ``read``
    accepts, so a form offers exactly these and no purpose the server would refuse."""
    if role not in READERS:
        return ()
    return tuple(purpose for purpose in PURPOSES if purpose not in UNCHOSEN_PURPOSES)


@dataclass(frozen=True)
class Reader:
    id: str
    role: str
    authority_id: str | None
    scope: frozenset[str]  # area codes; empty with role auditor means everything
    # Set when the reader's token is one the operator issued: the read is logged as made with
    # it, as the reader's other acts are (staff: services/staff_tokens.py; a guardian, whose
    # token is a person's: services/person_token_uses.py; a venue device's card check:
    # services/venue_tokens.py).
    operator_token: str | None = None


@dataclass(frozen=True)
class AccessRecord:
    accessor_id: str
    accessor_role: str
    authority_id: str | None
    purpose: str
    at: datetime
    log_index: int
    # The reader and its authority as the person knows them: a venue by its name, a guardian
    # by theirs, staff by their id (what an order names too); None for what the registry
    # does not hold.
    accessor_name: Named | None = None
    authority: Named | None = None

    @property
    def shown_id(self) -> str | None:
        """The reader's id as the person is shown it: none for a guardian, whose id is their
        person key, another person's pseudonym that the dependant has no use for and should
        not hold; the dependant knows them by their name (``accessor_name``)."""
        return None if self.accessor_role == GUARDIAN else self.accessor_id


class Access:
    def __init__(self, db: Database, explanations: Explanations, secrets: PersonSecrets) -> None:
        self._db = db
        self._explanations = explanations
        self._secrets = secrets

    def read(
        self, reader: Reader, person_key: str, purpose: str | None, *, now: datetime
    ) -> StatusView:
        if reader.role not in READERS:
            raise Unauthorized("auth.forbidden")
        allowed = purposes_for(reader.role)
        if purpose not in allowed:
            raise InputRejected("access.purpose_invalid", f"one of {sorted(allowed)}")
        self._check_scope(reader, person_key)
        view = self._explanations.explain(person_key, now=now)
        with self._db.write() as conn:
            record_reads(conn, self._secrets, reader, [person_key], str(purpose), now)
        return view

    def record(
        self, reader: Reader, person_keys: Sequence[str], purpose: str, *, now: datetime
    ) -> list[int]:
        """Record reads already made of these people's records (oversight opening log
        entries: services/entry_opening.py), each a row and an entry as `read` writes, in one
        transaction; the indices of the entries."""
        if reader.role not in READERS:
            raise Unauthorized("auth.forbidden")
        if purpose not in purposes_for(reader.role):
            raise InputRejected("access.purpose_invalid")
        return self._append(reader, person_keys, purpose, now)

    def read_dependants(
        self, guardian: str, *, now: datetime, operator_token: str | None = None
    ) -> list[tuple[str, StatusView]]:
        """Every dependant's status as their guardian is shown it, each read recorded (made
        with ``operator_token``, the guardian's token if the operator issued it)."""
        with self._db.read() as conn:
            keys = staff_repo.dependants(conn, guardian)
        views = [(key, self._explanations.explain(key, now=now)) for key in keys]
        self._append(guardian_reader(guardian, operator_token), keys, GUARDIAN_PURPOSE, now)
        return views

    def read_dependant(
        self, guardian: str, person_key: str, *, now: datetime, operator_token: str | None = None
    ) -> StatusView:
        """One dependant's status as their guardian is shown it, the read recorded; anyone
        else's is refused. ``operator_token`` as for `read_dependants`."""
        with self._db.read() as conn:
            if not staff_repo.is_guardian(conn, guardian, person_key):
                raise Unauthorized("auth.forbidden", Detail("not your dependant"))
        view = self._explanations.explain(person_key, now=now)
        self._append(guardian_reader(guardian, operator_token), [person_key], GUARDIAN_PURPOSE, now)
        return view

    def _append(
        self, reader: Reader, person_keys: Sequence[str], purpose: str, now: datetime
    ) -> list[int]:
        """Access rows and their entries for these reads, in one transaction."""
        if not person_keys:
            return []
        with self._db.write() as conn:
            return record_reads(conn, self._secrets, reader, person_keys, purpose, now)

    def _check_scope(self, reader: Reader, person_key: str) -> None:
        if reader.role == "auditor":
            return
        with self._db.read() as conn:
            person = registry_repo.person(conn, person_key)
            places = {person[1]} if person else set()
            if reader.role != "hotline":  # officials: also where the person's evidence lies
                places |= {
                    item.area
                    for item in evidence_repo.evidence_for(conn, [person_key]).get(person_key, [])
                }
        if not places:
            raise NotFound("person.unknown")
        if not any(areas.contained_in_any(reader.scope, place) for place in places):
            raise Unauthorized("access.outside_scope")

    def of_person(self, person_key: str) -> list[AccessRecord]:
        with self._db.read() as conn:
            rows = orders_repo.accesses(conn, person_key)
            venue_ids = {r.accessor_id for r in rows if r.accessor_role == "venue"}
            venues = registry_repo.venue_names(conn, venue_ids) if venue_ids else {}
            authority_ids = {r.authority_id for r in rows if r.authority_id}
            authorities = (
                registry_repo.authority_names(conn, authority_ids) if authority_ids else {}
            )
            guardians: dict[str, tuple[str, str]] = {}
            for key in {r.accessor_id for r in rows if r.accessor_role == GUARDIAN}:
                found = registry_repo.person(conn, key)
                if found is not None:  # a guardian's name is one, in both languages
                    guardians[key] = (found[0], found[0])
        return [
            AccessRecord(
                r.accessor_id, r.accessor_role, r.authority_id, r.purpose, r.at, r.log_index,
                accessor_name=_named(r.accessor_id, guardians if r.accessor_role == GUARDIAN else venues),
                authority=_named(r.authority_id, authorities),
            )
            for r in rows
        ]  # fmt: skip


def _named(key: str | None, names: dict[str, tuple[str, str]]) -> Named | None:
    found = names.get(key) if key else None
    return Named(key, *found) if key and found else None


def record_reads(
    conn: Connection,
    secrets: PersonSecrets,
    reader: Reader,
    person_keys: Sequence[str],
    purpose: str,
    now: datetime,
) -> list[int]:
    """Access rows and their entries for reads of these people's records, in the caller's
    transaction: a read that writes too (a guardian's fetch of a dependant's card, a venue's
    card check: services/passes.py) commits with its record or not at all; a reader's with an
    operator-issued token, with a use of it each (a staff member's: services/staff_tokens.py;
    a guardian's: services/person_token_uses.py; a venue device's: services/venue_tokens.py).
    The indices of the access entries."""
    keys = sorted(set(person_keys))
    reader_key = staff_secret_key(reader.id)
    reader_secret = secrets.secret(reader_key)
    secrets.escrow_missing(conn, [*keys, reader_key], now)
    indices = transparency.append(
        conn,
        [("access", _entry(secrets, reader, key, reader_secret, purpose, now)) for key in keys],
        now,
    )
    # Read with a token the operator issued: each read is logged as made with it, against the
    # tokens of the reader's kind (a venue's id is no staff badge, nor the reverse).
    if reader.role == GUARDIAN:
        person_token_uses.record_uses(
            conn, reader.operator_token, person_key=reader.id, act_indices=indices, act="access",
            now=now,
        )  # fmt: skip
    elif reader.role == VENUE:
        venue_tokens.record_uses(
            conn, reader.operator_token, venue_id=reader.id, act_indices=indices, act="access",
            now=now,
        )  # fmt: skip
    else:
        staff_tokens.record_uses(
            conn, reader.operator_token, staff_id=reader.id, act_indices=indices, act="access",
            now=now,
        )  # fmt: skip
    for key, index in zip(keys, indices, strict=True):
        orders_repo.record_access(conn, {
            "person_key": key, "accessor_id": reader.id, "accessor_role": reader.role,
            "authority_id": reader.authority_id, "purpose": purpose, "at": now, "log_index": index,
        })  # fmt: skip
    return indices


def _entry(
    secrets: PersonSecrets,
    reader: Reader,
    person_key: str,
    reader_secret: bytes,
    purpose: str,
    at: datetime,
) -> Callable[[int], bytes]:
    person_secret = secrets.secret(person_key)
    return lambda index: access_entry(
        index=index, person_secret=person_secret, accessor_secret=reader_secret,
        accessor_role=reader.role, authority_id=reader.authority_id, purpose=purpose, at=at,
    )  # fmt: skip


def guardian_reader(person_key: str, operator_token: str | None = None) -> Reader:
    """A guardian as a reader: no authority and no area. They are tagged in the log by an
    actor secret of their own (``staff:<person key>``, as a venue device is), apart from their
    person secret, so that oversight opens their reads as it does any reader's.
    ``operator_token``: their token's id if the operator issued it."""
    return Reader(person_key, GUARDIAN, None, frozenset(), operator_token)
