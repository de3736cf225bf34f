"""The only writer of statuses: recompute people after an input write or at ``valid_until``.

Nothing else in healthcode writes ``person_status`` or ``status_changes`` (a test checks every
module). A change is recorded whenever the colour or the rule that fired changes; time-based
changes are recorded at the instant they happened (``valid_until``), even when the recompute
runs later, and history is never rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from healthcode.domain.designations import RiskDesignation
from healthcode.domain.evidence import Evidence
from healthcode.domain.rulebook import Colour
from healthcode.domain.status import (
    SetAside,
    Status,
    StatusInputs,
    could_start_episodes,
    decide,
)
from healthcode.services import transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.notifications import Notice, Notifier
from healthcode.services.reference import Reference
from healthcode.services.rulebooks import Edition, Rulebooks, in_force
from healthcode.services.status_steps import Decided, status_change_entry_for, status_row, step
from healthcode.store import evidence as evidence_repo
from healthcode.store import orders as orders_repo
from healthcode.store import set_asides as set_aside_repo
from healthcode.store import status as status_repo
from healthcode.store.copy import pipelined
from healthcode.store.orders import StoredOrder
from healthcode.store.status import StatusChange, StoredStatus

_CATCH_UP_LIMIT = 10_000  # a status cannot change by itself more often than this between runs


class Cause(StrEnum):
    """Why a recompute ran: recorded with each status change it produces."""

    INPUT = "evidence"
    DESIGNATION = "designation"
    RULEBOOK = "rulebook"
    EXPIRY = "expiry"
    ORDER = "order"


@dataclass(frozen=True)
class PersonRead:
    """A person's status computed now, with what it was computed from."""

    status: Status
    inputs: StatusInputs
    orders: list[StoredOrder]  # all of the person's orders as stored, pending ones too


class Derivation:
    def __init__(self, rulebooks: Rulebooks, secrets: PersonSecrets, notifier: Notifier) -> None:
        self._rulebooks = rulebooks
        self._secrets = secrets
        self._notifier = notifier

    def inputs(
        self,
        conn: Connection,
        person_keys: Iterable[str],
        *,
        designations: list[RiskDesignation] | None = None,
        set_asides: list[SetAside] | None = None,
    ) -> dict[str, StatusInputs]:
        """Their inputs (``designations``: every one in force, ``set_asides``: every one, if
        already read in ``conn``)."""
        keys = sorted(set(person_keys))
        evidence = evidence_repo.evidence_for(conn, keys)
        if designations is None:
            designations = evidence_repo.all_designations(conn)
        orders = orders_repo.for_people(conn, keys)
        if set_asides is None:
            set_asides = set_aside_repo.all_set_asides(conn)
        return {
            key: _inputs(
                evidence.get(key, []),
                designations,
                orders.get(key, []),
                [aside for aside in set_asides if aside.person is None or aside.person == key],
            )
            for key in keys
        }

    def read(self, conn: Connection, person_key: str, at: datetime) -> PersonRead:
        """One person's status at ``at``, computed afresh from the inputs (never read back),
        with the inputs and the person's orders as stored: what a read of the person shows.
        Each input is read once, by statements built once (a person's read is the hot path
        of the API)."""
        orders = orders_repo.of_person(conn, person_key)
        inputs = _inputs(
            evidence_repo.evidence_of(conn, person_key),
            evidence_repo.all_designations(conn),
            orders,
            set_aside_repo.set_asides_for(conn, person_key),
        )
        status = decide(inputs, self._rulebooks.in_force(conn, at), at)
        return PersonRead(status, inputs, orders)

    def status_at(self, conn: Connection, person_key: str, at: datetime) -> Status:
        """The status at ``at``, computed afresh from the inputs (never read back)."""
        return self.read(conn, person_key, at).status

    def recompute(
        self,
        conn: Connection,
        person_keys: Iterable[str],
        *,
        now: datetime,
        cause: str,
        new_evidence: Sequence[Evidence] = (),
        reference: Reference | None = None,
    ) -> list[StatusChange]:
        """Bring the stored statuses of these people up to ``now``, inside the caller's write.

        ``new_evidence`` (just written) lets people who are green with nothing pending, and
        whose new evidence cannot start any episode, be skipped: their status cannot change.
        ``reference``: the rulebook editions, designations and set-asides as this transaction
        sees them, if already read (`services.reference`); else they are read.
        """
        return self._recompute(
            conn, person_keys, now, cause, new_evidence, colours=False, reference=reference
        )[0]

    def recompute_colours(
        self,
        conn: Connection,
        person_keys: Iterable[str],
        *,
        now: datetime,
        cause: str,
        new_evidence: Sequence[Evidence] = (),
    ) -> dict[str, Colour]:
        """As `recompute`; returns each person's colour at ``now`` as now stored (green for a
        person never computed), from the rows it read and wrote, sparing a query."""
        return self._recompute(conn, person_keys, now, cause, new_evidence, colours=True)[1]

    def prepare(
        self,
        reader: Connection,
        person_keys: Iterable[str],
        *,
        now: datetime,
        cause: str,
        new_evidence: Sequence[Evidence],
        reference: Reference | None = None,
    ) -> Decided:
        """What `recompute` reads and decides, read on ``reader``, for `commit` to write in the
        write transaction: so that the reads and decisions can be made while that transaction
        writes ``new_evidence`` (intake). ``reader`` must see the store as that transaction
        does but for ``new_evidence`` (its rows unwritten, or not yet visible): a connection
        beside it, under its write lock, so that nothing else is written meanwhile.
        ``new_evidence`` is added to its people's evidence as read."""
        return self._decide(
            reader, person_keys, now, cause, new_evidence, colours=False, reference=reference,
            unwritten=True,
        )  # fmt: skip

    def commit(self, conn: Connection, decided: Decided) -> list[StatusChange]:
        """Write what `prepare` decided, inside the write transaction: the statuses, a log
        entry and a notice for each change. Returns the changes, with their log indices."""
        now = decided.now
        status_repo.save_current(conn, decided.updates, new=False)
        # These writes wait for no answer: on PostgreSQL they go in one round trip, not five.
        # (Not the notifier's: an adapter may read, which a pipeline's statements cannot.)
        with pipelined(conn, rows=len(decided.inserts) + 3 * len(decided.changes)):
            status_repo.save_current(conn, decided.inserts, new=True)
            changes = self._log(conn, decided.changes, now)
            status_repo.append_changes(conn, changes)
        self._notifier.notify(
            conn, [Notice(c.person_key, "status", str(c.colour), now) for c in changes]
        )
        return changes

    def _recompute(
        self,
        conn: Connection,
        person_keys: Iterable[str],
        now: datetime,
        cause: str,
        new_evidence: Sequence[Evidence],
        *,
        colours: bool,
        reference: Reference | None = None,
    ) -> tuple[list[StatusChange], dict[str, Colour]]:
        """The changes, and each person's colour at ``now`` if ``colours`` (else none)."""
        decided = self._decide(
            conn, person_keys, now, cause, new_evidence, colours=colours, reference=reference
        )
        return self.commit(conn, decided), decided.colours

    def _decide(
        self,
        conn: Connection,
        person_keys: Iterable[str],
        now: datetime,
        cause: str,
        new_evidence: Sequence[Evidence],
        *,
        colours: bool,
        reference: Reference | None,
        unwritten: bool = False,
    ) -> Decided:
        """The reads and decisions of a recompute; ``unwritten``: ``new_evidence`` is not in
        the store ``conn`` reads, and is added to its people's evidence."""
        keys = sorted(set(person_keys))
        if not keys:
            return Decided(now)
        editions = self._rulebooks.editions(conn) if reference is None else reference.editions
        stored = status_repo.current(conn, keys)
        colour_of: dict[str, Colour] = {}
        if colours:
            colour_of = {key: stored[key].colour if key in stored else Colour.GREEN for key in keys}
        designations = None if reference is None else reference.designations
        if new_evidence:
            if designations is None:
                designations = evidence_repo.all_designations(conn)
            keys = self._could_change(keys, stored, new_evidence, editions, designations, now)
            if not keys:
                return Decided(now, colours=colour_of)
        inputs = self.inputs(
            conn,
            keys,
            designations=designations,
            set_asides=None if reference is None else reference.set_asides,
        )
        if unwritten:
            _add_evidence(inputs, new_evidence)
        decided = Decided(now, colours=colour_of)
        for key in keys:
            before = stored.get(key)
            after, person_changes = self._advance(key, before, inputs[key], editions, now, cause)
            if colours:
                colour_of[key] = after.colour
            decided.changes.extend(person_changes)
            if before is None:
                decided.inserts.append(status_row(after, now))
            elif after != before:
                decided.updates.append(status_row(after, now))
        return decided

    def _log(
        self, conn: Connection, changes: list[StatusChange], now: datetime
    ) -> list[StatusChange]:
        """One log entry per status change, in the same transaction; returns them indexed."""
        if not changes:
            return changes
        self._secrets.escrow_all(conn, [c.person_key for c in changes], now)
        indices = transparency.append(
            conn, [("status_change", self._entry_builder(change)) for change in changes], now
        )
        return [
            replace(change, log_index=index) for change, index in zip(changes, indices, strict=True)
        ]

    def _entry_builder(self, change: StatusChange) -> transparency.EntryBuilder:
        secret = self._secrets.secret(change.person_key)
        return lambda index: status_change_entry_for(change, index, secret)

    def _could_change(
        self,
        keys: list[str],
        stored: dict[str, StoredStatus],
        new_evidence: Sequence[Evidence],
        editions: list[Edition],
        designations: list[RiskDesignation],
        now: datetime,
    ) -> list[str]:
        rulebook = in_force(editions, now)
        # Settled: green with nothing pending under the rulebook in force, or no stored status
        # (the default status, never computed). Only stored statuses can be otherwise.
        unsettled = {
            key
            for key, status in stored.items()
            if status.colour is not Colour.GREEN
            or status.valid_until is not None
            or status.rulebook_version != rulebook.version
        }
        starting = could_start_episodes(
            (item for item in new_evidence if item.person not in unsettled)
            if unsettled
            else new_evidence,
            rulebook,
            designations,
            now,
        )
        return [key for key in keys if key in unsettled or key in starting]

    def _advance(
        self,
        key: str,
        stored: StoredStatus | None,
        inputs: StatusInputs,
        editions: list[Edition],
        now: datetime,
        cause: str,
    ) -> tuple[StoredStatus, list[StatusChange]]:
        changes: list[StatusChange] = []
        current = stored
        steps = 0
        # First the changes that happened by themselves since the last run, each at its instant.
        while (
            current is not None and current.valid_until is not None and current.valid_until <= now
        ):
            at = current.valid_until
            current, change = step(
                key, current, decide(inputs, in_force(editions, at), at), at, now, Cause.EXPIRY
            )
            if change:
                changes.append(change)
            steps += 1
            if steps > _CATCH_UP_LIMIT:
                raise RuntimeError("status catch-up does not converge")
        status = decide(inputs, in_force(editions, now), now)
        if current is None:
            current = StoredStatus(
                person_key=key,
                colour=Colour.GREEN,
                rule_id=in_force(editions, now).default_rule_id,
                inputs=(),
                since=now,
                valid_until=None,
                rulebook_version=status.rulebook_version,
            )
        current, change = step(key, current, status, now, now, cause)
        if change:
            changes.append(change)
        return current, changes


def _inputs(
    evidence: list[Evidence],
    designations: list[RiskDesignation],
    orders: list[StoredOrder],
    set_asides: list[SetAside],
) -> StatusInputs:
    """One person's inputs: their evidence, every designation in force, their orders that
    count (not pending), the set-asides that concern them."""
    return StatusInputs(
        evidence=evidence,
        designations=designations,
        orders=[o for o in (stored.as_input() for stored in orders) if o is not None],
        set_asides=set_asides,
    )


def _add_evidence(inputs: dict[str, StatusInputs], unwritten: Sequence[Evidence]) -> None:
    """Add evidence not yet readable in the store to the inputs of its people (those being
    decided), as it will read once stored (`evidence_repo.as_read`)."""
    added: dict[str, list[Evidence]] = {}
    for item in unwritten:
        if item.person in inputs:
            added.setdefault(item.person, []).append(evidence_repo.as_read(item))
    for person, items in added.items():
        inputs[person] = replace(inputs[person], evidence=[*inputs[person].evidence, *items])
