"""Retention: what a purge may remove without changing anyone's status, and how a purge is
accounted for in the log. Pure: no I/O, no clock (``docs/operations.md``, "Retention").

A purge removes evidence records that both occurred and were received before the cutoff
(``now - period``). That changes no status at ``now`` or later when:

* every rule that ``lasts`` lasts less than the period (``check_policy`` refuses a policy
  otherwise): an episode it opened from a record before the cutoff ended before ``now``, and a
  clearing record before the cutoff can only have ended such an episode;
* under a rule that lasts until clearing evidence and no longer ("open-ended", such as a
  positive test until a recovery), a trigger is kept while no clearing record of the same
  person follows it, and a clearing record is kept while a trigger it may end is kept
  (``still_in_use``).

Records under a legal hold (an open appeal, an oversight case not closed, an order in force)
are kept by the caller whatever their age.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcode.domain.canonical import canonical
from healthcode.domain.log_entries import encode_entry, instant_text
from healthcode.domain.rulebook import EvidenceTrigger, Rulebook


class RetentionTooShort(ValueError):
    """A retention period that is not longer than the longest rule in force."""


@dataclass(frozen=True)
class RetentionPolicy:
    evidence_days: int  # personal data older than this is purged
    run_every: timedelta  # the server's scheduler purges at most this often
    batch_records: int  # evidence records examined per write transaction

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.evidence_days)

    def cutoff(self, now: datetime) -> datetime:
        return now - self.period

    def whole_day_cutoff(self, now: datetime) -> datetime:
        """The cutoff where evidence is stored by day (PostgreSQL's partitions): the start
        of the UTC day holding `cutoff`, so that only whole days are purged. A record is then
        kept at most a day longer than the period, never less long."""
        cutoff = self.cutoff(now).astimezone(UTC)
        return datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)

    def allows_cutoff(self, now: datetime, cutoff: datetime) -> bool:
        return cutoff in (self.cutoff(now), self.whole_day_cutoff(now))


def load_retention_policy(data: Mapping[str, Any]) -> RetentionPolicy:
    """The ``retention:`` block of ``data/policy.yaml``; ValueError if a number is missing or
    not a positive integer."""

    def positive(name: str) -> int:
        value = data.get(name)
        if type(value) is not int or value < 1:
            raise ValueError(f"retention.{name} must be a positive integer")
        return value

    return RetentionPolicy(
        evidence_days=positive("evidence_days"),
        run_every=timedelta(minutes=positive("run_every_minutes")),
        batch_records=positive("batch_records"),
    )


def check_policy(policy: RetentionPolicy, rulebooks: Iterable[Rulebook]) -> None:
    """Raise RetentionTooShort unless the period is longer than every rule's ``lasts``."""
    for rulebook in rulebooks:
        for rule in rulebook.rules:
            if rule.lasts is not None and rule.lasts >= policy.period:
                raise RetentionTooShort(
                    f"rule {rule.id} of edition {rulebook.version} lasts {rule.lasts.days} days;"
                    f" the retention period ({policy.evidence_days} days) must be longer"
                )


Match = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class OpenEnded:
    """A rule whose episodes end only on clearing evidence: its trigger and its clearing."""

    rule_id: str
    trigger_kind: str
    trigger_match: Match
    clearing_kind: str
    clearing_match: Match


def open_ended_rules(rulebooks: Iterable[Rulebook]) -> tuple[OpenEnded, ...]:
    found: dict[OpenEnded, None] = {}
    for rulebook in rulebooks:
        for rule in rulebook.rules:
            trigger = rule.trigger
            if (
                rule.lasts is None
                and rule.until is not None
                and isinstance(trigger, EvidenceTrigger)
            ):
                found[OpenEnded(
                    rule.id, str(trigger.kind), trigger.match, str(rule.until.kind),
                    rule.until.match,
                )] = None  # fmt: skip
    return tuple(found)


def open_ended_kinds(rules: Iterable[OpenEnded]) -> frozenset[str]:
    return frozenset(kind for rule in rules for kind in (rule.trigger_kind, rule.clearing_kind))


@dataclass(frozen=True)
class Record:
    """What the purge reads of one stored evidence record (no canonical bytes)."""

    source_id: str
    record_id: str
    person: str
    kind: str
    occurred_at: datetime
    attributes: Mapping[str, object]

    @property
    def ref(self) -> str:
        return f"{self.source_id}/{self.record_id}"

    def matches(self, kind: str, match: Match) -> bool:
        return self.kind == kind and all(self.attributes.get(k) == v for k, v in match)


def still_in_use(
    purgeable: set[str],
    history: Mapping[str, Sequence[Record]],
    rules: Sequence[OpenEnded],
    disputed: Callable[[Record], bool],
    at: datetime,
) -> set[str]:
    """The refs among ``purgeable`` that an open-ended rule still needs.

    ``history`` holds, per person with a purgeable record, every stored record of theirs of
    the rules' kinds (the purgeable ones included). ``disputed`` tells a record some set-aside
    names (for anyone, from any instant): it is not relied on to have ended an episode.
    """
    keep: set[str] = set()
    for rule in rules:
        for records in history.values():
            cleared_at = [
                r.occurred_at
                for r in records
                if r.matches(rule.clearing_kind, rule.clearing_match)
                and r.occurred_at <= at
                and not disputed(r)
            ]
            for record in records:
                trigger = record.matches(rule.trigger_kind, rule.trigger_match)
                if (
                    trigger
                    and record.ref in purgeable
                    and not any(when > record.occurred_at for when in cleared_at)
                ):
                    keep.add(record.ref)  # an episode still open: the status rests on it
    changed = True
    while changed:  # a clearing stays while a trigger it may end stays
        changed = False
        for rule in rules:
            for records in history.values():
                kept = [
                    r.occurred_at
                    for r in records
                    if r.matches(rule.trigger_kind, rule.trigger_match)
                    and (r.ref not in purgeable or r.ref in keep)
                ]
                if not kept:
                    continue
                for record in records:
                    if (
                        record.ref in purgeable
                        and record.ref not in keep
                        and record.matches(rule.clearing_kind, rule.clearing_match)
                        and any(when < record.occurred_at for when in kept)
                    ):
                        keep.add(record.ref)
                        changed = True
    return keep


# --- accounting for a purge -------------------------------------------------------------------


def positions_digest(batches: Iterable[tuple[str, str, Sequence[int]]]) -> bytes:
    """SHA-256 of which leaves of which batches a purge removed: JCS of the sorted list of
    ``[source, batch, [positions]]``. Recomputed by the self-check from the stored rows."""
    listed = sorted([source, batch, sorted(positions)] for source, batch, positions in batches)
    return hashlib.sha256(canonical(listed)).digest()


def removed_digest(leaves: Iterable[tuple[str, str, int, bytes]]) -> bytes:
    """SHA-256 of the removed records themselves: JCS of the sorted list of ``[source, batch,
    position, hex leaf hash]``. Anyone holding the records from before the purge (a backup, the
    source that sent them) can check it; after the purge nobody can recompute it."""
    listed = sorted(
        [source, batch, position, leaf.hex()] for source, batch, position, leaf in leaves
    )
    return hashlib.sha256(canonical(listed)).digest()


@dataclass(frozen=True)
class PurgeCounts:
    evidence: int = 0
    batches: int = 0  # evidence batches records were removed from
    notices: int = 0
    identity_cards: int = 0

    @property
    def any(self) -> bool:
        return bool(self.evidence or self.notices or self.identity_cards)


def retention_purge_entry(
    *,
    purged_at: datetime,
    cutoff: datetime,
    days: int,
    counts: PurgeCounts,
    positions: bytes,
    removed: bytes,
) -> bytes:
    """One purge transaction: the policy and cutoff it applied, how many rows of each table it
    removed, and commitments to which evidence leaves went. No personal data."""
    return encode_entry(
        "retention_purge",
        {
            "purged_at": instant_text(purged_at),
            "cutoff": instant_text(cutoff),
            "days": days,
            "counts": {
                "evidence": counts.evidence,
                "notices": counts.notices,
                "identity_cards": counts.identity_cards,
            },
            "batches": counts.batches,
            "positions": positions.hex(),
            "removed": removed.hex(),
        },
    )
