"""Guardianships the operator records that give one person reach over many, or that last only
for an errand (A5, A8).

A guardian reads a dependant's code, pass and identity card and appeals for them
(`services/guardianships.py`); the operator alone records and ends guardianships, each a
``guardianship`` or ``guardianship_end`` entry. That is the quiet reach the 2022 Henan abuse
needed: make one person — a corrupt official's contact — the guardian of many, and read every
one of their records as "guardian", each read recorded, but under a role no one questions.
Two shapes are findings, each about the guardian:

- *many dependants*: more than ``max_dependants`` people whose guardianship with the guardian
  was in force at some moment of the window (one after another counts: ending each before the
  next is recorded hides nothing). Six is a family's size: a person is guardian of their own
  children (three at most, by China's 2021 rule) and of their own ageing parents (two), and
  may have one more (a grandparent, a sibling in their care); a seventh is someone else's
  family, which a care home or a school is not (they do not read as guardians);
- *short-lived*: a guardianship ended less than ``min_hours_in_force`` after it was recorded
  (the end in the window): real guardianship — of a child, of an elderly parent — lasts months
  or years; one ended within a day was made for an errand ("make me guardian, read the card,
  end it"), or by mistake, and either is for an auditor to ask about. The guardian's reads of
  the dependant while it was in force are counted beside it.

The detector gathers the rows; these functions judge them. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class GuardianshipPolicy:
    max_dependants: int = 6  # a family's size (above): more is a finding
    min_hours_in_force: float = 24.0  # ended sooner than this: a finding


@dataclass(frozen=True)
class Held:
    """One guardianship as the store holds it: in force (``until`` None) or ended."""

    guardian: str  # person keys: the detector's alone, never in a finding
    dependant: str
    since: datetime
    until: datetime | None
    log_index: int | None  # its ``guardianship`` entry; None: recorded before it was logged
    reads: int = 0  # the guardian's reads of the dependant while it was in force


@dataclass(frozen=True)
class WideGuardian:
    guardian: str
    dependants: int  # distinct people, in force at some moment of the window
    entries: tuple[int, ...]  # the logged ``guardianship`` entries behind them, in order
    excess: int  # dependants over the policy's maximum


@dataclass(frozen=True)
class ShortGuardianships:
    guardian: str
    ended: tuple[Held, ...]  # each ended too soon, in entry order
    shortest: timedelta

    @property
    def reads(self) -> int:
        return sum(held.reads for held in self.ended)

    @property
    def entries(self) -> tuple[int, ...]:
        return tuple(h.log_index for h in self.ended if h.log_index is not None)  # all are


def in_force_between(held: Held, since: datetime, now: datetime) -> bool:
    """In force at some moment of ``[since, now)``."""
    return held.since < now and (held.until is None or held.until > since)


def wide_guardians(
    held: Iterable[Held], *, since: datetime, now: datetime,
    policy: GuardianshipPolicy = GuardianshipPolicy(),
) -> list[WideGuardian]:  # fmt: skip
    """Guardians of more than ``policy.max_dependants`` people in the window, by guardian.
    One with no logged entry among them (every one recorded before guardianships were logged)
    has no record a finding could name: the operator logs it by recording it again."""
    dependants: dict[str, set[str]] = {}
    entries: dict[str, set[int]] = {}
    for one in held:
        if not in_force_between(one, since, now):
            continue
        dependants.setdefault(one.guardian, set()).add(one.dependant)
        if one.log_index is not None:
            entries.setdefault(one.guardian, set()).add(one.log_index)
    found = []
    for guardian, people in sorted(dependants.items()):
        logged = tuple(sorted(entries.get(guardian, ())))
        if len(people) > policy.max_dependants and logged:
            found.append(WideGuardian(guardian, len(people), logged,
                                      len(people) - policy.max_dependants))  # fmt: skip
    return found


def short_guardianships(
    ended: Iterable[Held], *, since: datetime, now: datetime,
    policy: GuardianshipPolicy = GuardianshipPolicy(),
) -> list[ShortGuardianships]:  # fmt: skip
    """Per guardian, the guardianships ended in ``[since, now)`` less than
    ``policy.min_hours_in_force`` after they began."""
    limit = timedelta(hours=policy.min_hours_in_force)
    by_guardian: dict[str, list[Held]] = {}
    for one in ended:
        if one.until is None or not since <= one.until < now or one.log_index is None:
            continue  # (one never logged began before guardianships were: not short)
        if one.until - one.since < limit:
            by_guardian.setdefault(one.guardian, []).append(one)
    return [
        ShortGuardianships(
            guardian, tuple(sorted(found, key=lambda h: h.log_index or 0)),
            min(h.until - h.since for h in found if h.until is not None),
        )
        for guardian, found in sorted(by_guardian.items())
    ]  # fmt: skip


def guardian_subject(first_entry: int) -> str:
    """A guardian's subject, ``guardian:<index>``: the first ``guardianship`` entry that ever
    named them (rows in force and ended are both kept, so it does not change from one run to
    the next), never their person key. The index is what oversight opens
    (`healthcode oversight open-entry`) to learn whom, and the opening is a recorded read."""
    return f"guardian:{first_entry}"
