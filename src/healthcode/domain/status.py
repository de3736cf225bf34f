"""The status derivation: a colour is a pure function of evidence, orders, designations,
set-asides, the rulebook and the time.

Each rule turns its triggers into *episodes* (a start, maybe an end, the inputs behind it).
The status at ``at`` is the most severe rule with an episode covering ``at`` (ties go to the
rule listed first); ``valid_until`` is the first later instant at which, with what is known
at ``at``, the colour or the rule would change by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

from healthcode.domain.designations import RiskDesignation, in_effect
from healthcode.domain.evidence import MATCHABLE, Evidence, EvidenceKind, VenueVisit
from healthcode.domain.orders import Order
from healthcode.domain.rulebook import (
    Clearing,
    Colour,
    EvidenceTrigger,
    Reason,
    Rule,
    Rulebook,
)


@dataclass(frozen=True)
class SetAside:
    """Evidence that stops counting from ``effective_at`` on (as known from ``recorded_at``):
    one record (an appeal outcome, for ``person``), or everything from one source (a revoked
    source, for everyone)."""

    effective_at: datetime
    evidence_ref: str | None = None
    source_id: str | None = None
    person: str | None = None
    recorded_at: datetime | None = None

    def covers(self, evidence: Evidence, at: datetime) -> bool:
        if self.effective_at > at or (self.recorded_at is not None and self.recorded_at > at):
            return False
        if self.person is not None and self.person != evidence.person:
            return False
        if self.evidence_ref is not None:
            return self.evidence_ref == evidence.ref
        return self.source_id == evidence.source_id


@dataclass(frozen=True)
class StatusInputs:
    evidence: Sequence[Evidence] = ()
    orders: Sequence[Order] = ()
    designations: Sequence[RiskDesignation] = ()
    set_asides: Sequence[SetAside] = ()


@dataclass(frozen=True)
class Episode:
    rule_index: int
    start: datetime
    end: datetime | None
    inputs: tuple[str, ...]

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True)
class Status:
    colour: Colour
    rule_id: str
    reason: Reason
    inputs: tuple[str, ...]
    valid_until: datetime | None
    rulebook_version: int
    at: datetime
    episodes: tuple[Episode, ...] = field(default=(), compare=False, repr=False)

    @property
    def key(self) -> tuple[Colour, str]:
        return (self.colour, self.rule_id)


def evidence_input(evidence: Evidence) -> str:
    return f"evidence:{evidence.ref}"


def _known(inputs: StatusInputs, at: datetime) -> list[Evidence]:
    """Evidence received by ``at`` that speaks of a time up to ``at`` and is not set aside."""
    return [
        item
        for item in inputs.evidence
        if item.received_at <= at
        and item.occurred_at <= at
        and not any(aside.covers(item, at) for aside in inputs.set_asides)
    ]


def _matches(item: Evidence, kind: object, match: tuple[tuple[str, object], ...]) -> bool:
    return item.kind == kind and all(getattr(item, name) == value for name, value in match)


def _designations_for(
    visit: VenueVisit, trigger: EvidenceTrigger, designations: Iterable[RiskDesignation]
) -> list[RiskDesignation]:
    return [
        designation
        for designation in designations
        if designation.level in trigger.designation_levels
        and designation.covers(visit.area, visit.venue_id, visit.occurred_at)
    ]


def _clearing_time(
    clearing: Clearing, after: datetime, known: Iterable[Evidence]
) -> datetime | None:
    times = [
        item.occurred_at
        for item in known
        if item.occurred_at > after and _matches(item, clearing.kind, clearing.match)
    ]
    return min(times) if times else None


def _evidence_episodes(
    index: int, rule: Rule, trigger: EvidenceTrigger, known: list[Evidence],
    designations: list[RiskDesignation],
) -> Iterable[Episode]:  # fmt: skip
    for item in known:
        if not _matches(item, trigger.kind, trigger.match):
            continue
        refs = [evidence_input(item)]
        if trigger.designation_levels:
            assert isinstance(item, VenueVisit)  # the loader allows designations on visits only
            under = _designations_for(item, trigger, designations)
            if not under:
                continue
            refs.extend(f"designation:{designation.id}" for designation in under)
        start = item.occurred_at
        end = start + rule.lasts if rule.lasts is not None else None
        if rule.until is not None:
            cleared = _clearing_time(rule.until, start, known)
            if cleared is not None and (end is None or cleared < end):
                end = cleared
        yield Episode(index, start, end, tuple(refs))


def episodes_at(inputs: StatusInputs, rulebook: Rulebook, at: datetime) -> list[Episode]:
    """Every episode of every rule, as far as the inputs known at ``at`` tell."""
    known = _known(inputs, at)
    designations = in_effect(inputs.designations, at)
    orders = [o for o in inputs.orders if o.recorded_at <= at]
    episodes: list[Episode] = []
    for index, rule in enumerate(rulebook.rules):
        trigger = rule.trigger
        if isinstance(trigger, EvidenceTrigger):
            episodes.extend(_evidence_episodes(index, rule, trigger, known, designations))
        else:
            episodes.extend(
                Episode(index, order.valid_from, order.end_as_known_at(at), (f"order:{order.id}",))
                for order in orders
                if order.kind in trigger.kinds
            )
    return episodes


def _winner(episodes: Sequence[Episode], rulebook: Rulebook, at: datetime) -> int | None:
    """The index of the rule that fires at ``at``: most severe, then first listed."""
    best: int | None = None
    for episode in episodes:
        if not episode.covers(at):
            continue
        if best is None:
            best = episode.rule_index
            continue
        here, there = rulebook.rules[episode.rule_index], rulebook.rules[best]
        if (here.colour.severity, -episode.rule_index) > (there.colour.severity, -best):
            best = episode.rule_index
    return best


def decide(inputs: StatusInputs, rulebook: Rulebook, at: datetime) -> Status:
    """The status at ``at`` under ``rulebook``, using only what was received by ``at``."""
    if at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    episodes = episodes_at(inputs, rulebook, at)
    winner = _winner(episodes, rulebook, at)
    boundaries = sorted({t for e in episodes for t in (e.start, e.end) if t is not None and t > at})
    valid_until = next((t for t in boundaries if _winner(episodes, rulebook, t) != winner), None)
    if winner is None:
        return Status(
            colour=Colour.GREEN,
            rule_id=rulebook.default_rule_id,
            reason=rulebook.default_reason,
            inputs=(),
            valid_until=valid_until,
            rulebook_version=rulebook.version,
            at=at,
            episodes=tuple(episodes),
        )
    rule = rulebook.rules[winner]
    refs = sorted(
        {ref for e in episodes if e.rule_index == winner and e.covers(at) for ref in e.inputs}
    )
    return Status(
        colour=rule.colour,
        rule_id=rule.id,
        reason=rule.reason,
        inputs=tuple(refs),
        valid_until=valid_until,
        rulebook_version=rulebook.version,
        at=at,
        episodes=tuple(episodes),
    )


def could_start_episodes(
    items: Iterable[Evidence],
    rulebook: Rulebook,
    designations: Sequence[RiskDesignation],
    at: datetime,
) -> set[str]:
    """The people whose evidence among ``items`` `can_start_episode`.

    What that depends on is the kind, the attributes a rule may match and, for a kind some
    rule triggers on only under a designation (visits), the area, the venue and the time: it
    is decided once per distinct combination (a batch of scans of a few hundred venues in one
    second holds a few hundred, not one per scan). Evidence of a kind no rule is triggered by
    is passed over at the cost of a lookup.
    """
    keys = _trigger_keys(rulebook)
    decided: dict[tuple[object, ...], bool] = {}
    people: set[str] = set()
    for item in items:
        kind = item.kind
        key_of = keys.get(kind)
        if key_of is None:
            continue  # no rule is triggered by this kind
        key = (kind, key_of(item))
        starts = decided.get(key)
        if starts is None:
            starts = decided[key] = can_start_episode(item, rulebook, designations, at)
        if starts:
            people.add(item.person)
    return people


def _trigger_keys(rulebook: Rulebook) -> dict[EvidenceKind, Callable[[Evidence], object]]:
    """For each kind some rule is triggered by, what `can_start_episode` of its evidence
    depends on: the attributes its rules may match, and the place and time if one of them
    needs a designation (the loader allows that on visits only)."""
    placed: dict[EvidenceKind, bool] = {}
    for rule in rulebook.rules:
        trigger = rule.trigger
        if isinstance(trigger, EvidenceTrigger):
            placed[trigger.kind] = placed.get(trigger.kind, False) or bool(
                trigger.designation_levels
            )
    return {
        kind: attrgetter(
            "kind",  # a constant for the kind: attrgetter takes at least one name
            *MATCHABLE[kind],
            *(("area", "venue_id", "occurred_at") if by_place else ()),
        )
        for kind, by_place in placed.items()
    }


def can_start_episode(
    item: Evidence, rulebook: Rulebook, designations: Sequence[RiskDesignation], at: datetime
) -> bool:
    """Whether ``item`` could be the trigger of some rule's episode, as known at ``at``.

    A person whose status is the default with nothing pending (no ``valid_until``) has no
    episode; evidence that cannot start one leaves their status as it is. The derivation uses
    this to skip recomputing them, with exactly the same outcome.
    """
    known = in_effect(designations, at)
    for rule in rulebook.rules:
        trigger = rule.trigger
        if not isinstance(trigger, EvidenceTrigger) or not _matches(
            item, trigger.kind, trigger.match
        ):
            continue
        if not trigger.designation_levels:
            return True
        assert isinstance(item, VenueVisit)
        if _designations_for(item, trigger, known):
            return True
    return False
