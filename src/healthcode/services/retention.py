"""Retention: purge personal data older than the policy period, accountably, in bounded
write transactions (``docs/operations.md``, "Retention").

Run by ``Ticker.tick`` (the server's scheduler, at most every ``run_every_minutes``) and by
``healthcode tick``. Each write transaction examines the records of a bounded number of
evidence batches received before the cutoff, keeps those under a legal hold or still needed by
an open-ended rule (``domain.retention``), deletes the rest with the old notices and expired
identity cards, and appends one ``retention_purge`` log entry with the cutoff, the counts and
commitments to the removed leaves. The batch rows and their log entries stay. Idempotency keys
older than the cutoff go too (they are not logged, so neither is their purge). Running it again
at the same instant finds nothing and writes nothing.

On PostgreSQL evidence is partitioned by day (``store.partitions``) and the cutoff is the start
of its UTC day. Each day partition before it is purged in one transaction: the same steps and
the same entries as row by row, then the kept records go back into the default partition and
the day's table is dropped. Only what the default partition holds is deleted row by row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.retention import (
    PurgeCounts,
    Record,
    RetentionPolicy,
    RetentionTooShort,
    check_policy,
    open_ended_kinds,
    open_ended_rules,
    positions_digest,
    removed_digest,
    retention_purge_entry,
    still_in_use,
)
from healthcode.domain.rulebook import Rulebook
from healthcode.errors import InputRejected
from healthcode.services import transparency
from healthcode.services.rulebooks import Rulebooks
from healthcode.store import idempotency as idempotency_repo
from healthcode.store import partitions
from healthcode.store import retention as repo
from healthcode.store import status as status_repo
from healthcode.store.database import Database
from healthcode.tlog import leaf_hash

_BATCHES_PER_STEP = 500


@dataclass
class PurgeSummary:
    cutoff: datetime
    evidence: int = 0
    batches: int = 0
    notices: int = 0
    identity_cards: int = 0
    idempotency_keys: int = 0
    held: int = 0  # records past the cutoff kept under a legal hold
    in_use: int = 0  # records past the cutoff a status still rests on
    entries: list[int] = field(default_factory=list)  # the purges' log indices


@dataclass(frozen=True)
class _Step:
    counts: PurgeCounts
    keys: int  # idempotency keys
    held: int
    in_use: int
    entry: int | None
    after: repo.BatchKey | None
    done: bool
    exhausted: bool  # no batch in range is left to examine


def rulebooks_in_force(rulebooks: Rulebooks, conn: Connection, now: datetime) -> list[Rulebook]:
    """The edition in force at ``now`` and every edition published to come into force later."""
    editions = rulebooks.editions(conn)
    current = [e for e in editions if e.effective_from <= now][-1:]
    return [e.rulebook for e in current + [e for e in editions if e.effective_from > now]]


class Retention:
    def __init__(self, db: Database, rulebooks: Rulebooks, policy: RetentionPolicy) -> None:
        self._db = db
        self._rulebooks = rulebooks
        self.policy = policy
        self._next_run: datetime | None = None

    def check(self, conn: Connection, now: datetime) -> list[Rulebook]:
        """The editions the purge must respect; refuses (``retention.too_short``) a period
        that is not longer than the longest of their rules."""
        editions = rulebooks_in_force(self._rulebooks, conn, now)
        try:
            check_policy(self.policy, editions)
        except RetentionTooShort as error:
            raise InputRejected("retention.too_short", str(error)) from None
        return editions

    def purge_due(self, now: datetime) -> PurgeSummary | None:
        """Purge unless the last purge of this process was less than ``run_every`` ago."""
        if self._next_run is not None and now < self._next_run:
            return None
        self._next_run = now + self.policy.run_every
        return self.purge(now)

    def purge(self, now: datetime) -> PurgeSummary:
        partitioned = not self._db.is_sqlite
        cutoff = self.policy.whole_day_cutoff(now) if partitioned else self.policy.cutoff(now)
        summary = PurgeSummary(cutoff)
        dropped: list[tuple[datetime, datetime]] = []
        if partitioned:
            with self._db.read() as conn:
                due = [p for p in partitions.day_partitions(conn) if p.upper <= cutoff]
            for day in due:
                with self._db.write() as conn:
                    self._drop_day(conn, now, cutoff, day, summary)
                dropped.append((day.lower, day.upper))
        # Then row by row: what no day partition held (SQLite: everything). The records a
        # dropped day kept were examined there, and are not counted twice.
        after: repo.BatchKey | None = None
        while True:
            with self._db.write() as conn:
                step = self._step(conn, now, cutoff, after, skip=dropped)
            _add(summary, step)
            if step.done:
                return summary
            after = step.after

    def _drop_day(
        self, conn: Connection, now: datetime, cutoff: datetime, day: partitions.DayPartition,
        summary: PurgeSummary,
    ) -> None:  # fmt: skip
        """One write transaction: the steps over the day's batches, then the day's table is
        dropped (its kept records go back through the parent). A failure leaves nothing."""
        removed: list[tuple[str, str]] = []
        steps: list[_Step] = []
        after: repo.BatchKey | None = None
        while True:
            step = self._step(conn, now, cutoff, after, day=day, dropping=removed)
            steps.append(step)
            if step.exhausted:
                break
            after = step.after
        partitions.drop_day(conn, day, removed)
        for step in steps:  # counted once the day has gone
            _add(summary, step)

    def _step(
        self, conn: Connection, now: datetime, cutoff: datetime, after: repo.BatchKey | None,
        *, day: partitions.DayPartition | None = None,
        dropping: list[tuple[str, str]] | None = None,
        skip: list[tuple[datetime, datetime]] | None = None,
    ) -> _Step:  # fmt: skip
        """Up to ``batch_records`` records, notices and cards: one write transaction, or one
        step of a ``day``'s, whose records are then not deleted but added to ``dropping``."""
        editions = self.check(conn, now)
        limit = self.policy.batch_records
        if day is None:
            fetched = repo.due_batches(conn, cutoff, after, _BATCHES_PER_STEP, skip=skip or ())
        else:
            fetched = repo.due_batches(conn, day.upper, after, _BATCHES_PER_STEP, day.lower)
        taken: list[repo.DueBatch] = []
        budget = 0
        for batch in fetched:
            if taken and budget + batch.left > limit:
                break
            taken.append(batch)
            budget += batch.left
        exhausted = len(fetched) < _BATCHES_PER_STEP and len(taken) == len(fetched)
        last = taken[-1] if taken else None
        next_after = (last.received_at, last.source_id, last.batch_id) if last else after

        leaves = [
            leaf
            for leaf in repo.leaves_of(conn, [batch.key for batch in taken])
            if leaf.record.occurred_at < cutoff and leaf.received_at < cutoff
        ]
        persons = sorted({leaf.record.person for leaf in leaves})
        holds = repo.legal_holds(conn, now, persons) if leaves else None
        held = {
            leaf.record.ref
            for leaf in leaves
            if holds is not None and (leaf.record.source_id, leaf.record.record_id) in holds
        }
        keep = self._in_use(conn, [leaf.record for leaf in leaves], held, editions, now)
        kept = held | keep
        gone = [leaf for leaf in leaves if leaf.record.ref not in kept]

        notices = repo.purge_notices(conn, cutoff, limit)
        cards = repo.purge_identity_cards(conn, cutoff, limit)
        keys = idempotency_repo.purge(conn, cutoff, limit)
        done = exhausted and notices < limit and cards < limit and keys < limit
        positions: dict[tuple[str, str], list[int]] = defaultdict(list)
        for leaf in gone:
            positions[(leaf.record.source_id, leaf.batch_id)].append(leaf.position)
        counts = PurgeCounts(len(gone), len(positions), notices, cards)
        if not counts.any:
            return _Step(counts, keys, len(held), len(keep), None, next_after, done, exhausted)

        refs = [(leaf.record.source_id, leaf.record.record_id) for leaf in gone]
        if dropping is None:
            repo.delete_records(conn, refs)
        else:
            dropping.extend(refs)
        repo.mark_batches(conn, {key: len(p) for key, p in positions.items()}, now)
        removed = removed_digest(
            (leaf.record.source_id, leaf.batch_id, leaf.position, leaf_hash(leaf.canonical))
            for leaf in gone
        )
        body = retention_purge_entry(
            purged_at=now, cutoff=cutoff, days=self.policy.evidence_days, counts=counts,
            positions=positions_digest((s, b, p) for (s, b), p in positions.items()),
            removed=removed,
        )  # fmt: skip
        index = transparency.append_one(conn, "retention_purge", body, now)
        repo.insert_purge(
            conn,
            {"log_index": index, "purged_at": now, "cutoff": cutoff,
             "days": self.policy.evidence_days, "evidence": counts.evidence,
             "notices": notices, "identity_cards": cards, "removed": removed},
            positions,
        )  # fmt: skip
        return _Step(counts, keys, len(held), len(keep), index, next_after, done, exhausted)

    @staticmethod
    def _in_use(
        conn: Connection, records: list[Record], held: set[str], editions: list[Rulebook],
        now: datetime,
    ) -> set[str]:  # fmt: skip
        """Records a status rests on now: inputs of a current status, and what open-ended
        rules still need (``domain.retention.still_in_use``)."""
        purgeable = {r.ref for r in records} - held
        if not purgeable:
            return set()
        persons = sorted({r.person for r in records if r.ref in purgeable})
        keep = {
            ref.removeprefix("evidence:")
            for status in status_repo.current(conn, persons).values()
            for ref in status.inputs
            if ref.startswith("evidence:")
        } & purgeable
        rules = open_ended_rules(editions)
        kinds = open_ended_kinds(rules)
        concerned = sorted({r.person for r in records if r.ref in purgeable and r.kind in kinds})
        if not concerned:
            return keep
        history = repo.records_of_people(conn, concerned, kinds)
        asides = repo.disputed(conn)

        def disputed(record: Record) -> bool:
            return any(
                source == record.source_id
                and (record_id is None or record_id == record.record_id)
                and (person is None or person == record.person)
                for person, source, record_id in asides
            )

        return keep | still_in_use(purgeable - keep, history, rules, disputed, now)


def _add(summary: PurgeSummary, step: _Step) -> None:
    summary.evidence += step.counts.evidence
    summary.batches += step.counts.batches
    summary.notices += step.counts.notices
    summary.identity_cards += step.counts.identity_cards
    summary.idempotency_keys += step.keys
    summary.held += step.held
    summary.in_use += step.in_use
    if step.entry is not None:
        summary.entries.append(step.entry)
