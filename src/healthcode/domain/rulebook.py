"""The published rulebook: versioned data that says which evidence, orders and designations
give which colour, for how long, and why (in zh and en).

Rules refer only to evidence kinds, orders and designations. The loader refuses a rulebook
that names people or lists of people (A1), one that lets an unverified visit count (A2), and
one that makes close contacts or inbound travellers red without an order (invariant 2).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, ValidationError

from healthcode.domain.canonical import canonical
from healthcode.domain.designations import RiskLevel
from healthcode.domain.evidence import MATCHABLE, EvidenceKind, Presence
from healthcode.domain.json_values import WHOLE, JsonInt
from healthcode.domain.orders import OrderKind


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}


class RulebookError(ValueError):
    """A rulebook that may not be published; ``names_people`` tells the two refusals apart."""

    def __init__(self, message: str, *, names_people: bool = False) -> None:
        super().__init__(message)
        self.names_people = names_people


@dataclass(frozen=True)
class Reason:
    zh: str
    en: str


@dataclass(frozen=True)
class EvidenceTrigger:
    kind: EvidenceKind
    match: tuple[tuple[str, object], ...]
    designation_levels: frozenset[RiskLevel]  # empty: no designation needed


@dataclass(frozen=True)
class OrderTrigger:
    kinds: frozenset[OrderKind]


@dataclass(frozen=True)
class Clearing:
    """Evidence that ends an episode when its time lies after the trigger's."""

    kind: EvidenceKind
    match: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Rule:
    id: str
    colour: Colour
    trigger: EvidenceTrigger | OrderTrigger
    until: Clearing | None
    lasts: timedelta | None
    reason: Reason


@dataclass(frozen=True)
class Rulebook:
    version: int
    title: Reason
    default_rule_id: str
    default_reason: Reason
    rules: tuple[Rule, ...]
    source: dict[str, Any]

    @property
    def digest(self) -> str:
        return hashlib.sha256(canonical(self.source)).hexdigest()

    def designation_lookback(self) -> timedelta | None:
        """The longest a rule reading designations lasts after a visit: a designation starting
        further back reaches no one's colour now. None when no such rule has a ``lasts``."""
        found = [
            rule.lasts
            for rule in self.rules
            if isinstance(rule.trigger, EvidenceTrigger)
            and rule.trigger.designation_levels
            and rule.lasts is not None
        ]
        return max(found, default=None)

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def reason_for(self, rule_id: str) -> Reason:
        rule = self.rule(rule_id)
        return rule.reason if rule else self.default_reason


# --- the source format (what the YAML/JSON file holds) --------------------------------------

_ID = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,47}$")]
_Text = Annotated[str, Field(min_length=1, max_length=400)]
_ParamRef = Annotated[str, Field(pattern=r"^\$[a-z_]{1,40}$")]
# A value a rule matches: text (an enum's value) or a JSON boolean, never 1 read as true.
_Matched = str | StrictBool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ReasonIn(_Strict):
    zh: _Text
    en: _Text


class _DurationIn(_Strict):
    # Numbers as JSON holds them (domain/json_values.py): lax, `true` was one day.
    days: JsonInt | _ParamRef | None = None
    hours: JsonInt | _ParamRef | None = None


class _TriggerIn(_Strict):
    evidence: EvidenceKind | None = None
    match: dict[str, _Matched] = Field(default_factory=dict)
    designation: list[RiskLevel] = Field(default_factory=list)
    order: list[OrderKind] = Field(default_factory=list)


class _ClearingIn(_Strict):
    evidence: EvidenceKind
    match: dict[str, _Matched] = Field(default_factory=dict)


class _RuleIn(_Strict):
    id: _ID
    colour: Literal["yellow", "red"]
    trigger: _TriggerIn
    until: _ClearingIn | None = None
    lasts: _DurationIn | None = None
    reason: _ReasonIn


class _DefaultIn(_Strict):
    id: _ID
    reason: _ReasonIn


class _RulebookIn(_Strict):
    edition: Annotated[int, Strict(), Field(ge=1), WHOLE]
    title: _ReasonIn
    parameters: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")], JsonInt] = Field(
        default_factory=dict
    )
    default: _DefaultIn
    rules: Annotated[list[_RuleIn], Field(min_length=1, max_length=200)]


# Keys that would let a rule single out people; values shaped like person keys or ID numbers.
_PEOPLE_KEYS = frozenset(
    {
        "person", "persons", "person_key", "person_keys", "people", "subject", "subjects",
        "ids", "id_list", "names", "name_list", "members", "phone", "phones", "national_id",
        "list", "lists", "include", "exclude", "targets", "target",
    }
)  # fmt: skip
_PEOPLE_VALUE = re.compile(r"^(?:[0-9a-f]{32}|[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})$")


def _find_people(node: object, path: str = "") -> str | None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _PEOPLE_KEYS:
                return here
            found = _find_people(value, here)
            if found:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _find_people(value, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(node, str) and _PEOPLE_VALUE.match(node):
        return path
    return None


def _match(
    kind: EvidenceKind, given: dict[str, str | bool], where: str
) -> tuple[tuple[str, object], ...]:
    allowed = MATCHABLE[kind]
    for field, value in given.items():
        if field not in allowed:
            raise RulebookError(f"{where}: {kind} cannot be matched on {field!r}")
        if value not in allowed[field]:
            raise RulebookError(f"{where}: {field!r} cannot be {value!r}")
    return tuple(sorted(given.items()))


def _duration(spec: _DurationIn, parameters: dict[str, int], where: str) -> timedelta:
    def resolve(value: int | str | None) -> int:
        if value is None:
            return 0
        if isinstance(value, str):
            name = value[1:]
            if name not in parameters:
                raise RulebookError(f"{where}: unknown parameter {value}")
            return parameters[name]
        return value

    total = timedelta(days=resolve(spec.days), hours=resolve(spec.hours))
    if total <= timedelta(0):
        raise RulebookError(f"{where}: a duration must be positive")
    return total


def _rule(spec: _RuleIn, parameters: dict[str, int]) -> Rule:
    where = f"rule {spec.id}"
    trigger_in = spec.trigger
    trigger: EvidenceTrigger | OrderTrigger
    if (trigger_in.evidence is None) == (not trigger_in.order):
        raise RulebookError(f"{where}: a trigger names either one evidence kind or order kinds")
    if trigger_in.order:
        if trigger_in.match or trigger_in.designation:
            raise RulebookError(f"{where}: an order trigger takes no match or designation")
        if spec.lasts is not None:
            raise RulebookError(f"{where}: an order lasts as long as the order itself")
        trigger = OrderTrigger(frozenset(trigger_in.order))
    else:
        assert trigger_in.evidence is not None
        kind = trigger_in.evidence
        match = _match(kind, trigger_in.match, where)
        if trigger_in.designation and kind is not EvidenceKind.VENUE_VISIT:
            raise RulebookError(f"{where}: only venue visits fall under designations")
        if kind is EvidenceKind.VENUE_VISIT and dict(match).get("presence") != Presence.PROVEN:
            # Invariant 9: an unverified visit (a forwarded or stale code) never counts.
            raise RulebookError(f"{where}: a visit rule must match presence: proven")
        if spec.colour == "red" and kind in (
            EvidenceKind.CLOSE_CONTACT,
            EvidenceKind.BORDER_ENTRY,
        ):
            raise RulebookError(
                f"{where}: red for close contacts and inbound travellers comes only "
                "through an order"
            )
        if spec.lasts is None and spec.until is None:
            raise RulebookError(f"{where}: an evidence rule needs `lasts`, `until` or both")
        trigger = EvidenceTrigger(kind, match, frozenset(trigger_in.designation))
    until = None
    if spec.until is not None:
        until = Clearing(spec.until.evidence, _match(spec.until.evidence, spec.until.match, where))
    lasts = _duration(spec.lasts, parameters, where) if spec.lasts is not None else None
    return Rule(
        id=spec.id,
        colour=Colour(spec.colour),
        trigger=trigger,
        until=until,
        lasts=lasts,
        reason=_reason(spec.reason, parameters, where),
    )


def _reason(spec: _ReasonIn, parameters: dict[str, int], where: str) -> Reason:
    """Fill ``{parameter}`` placeholders so a reason always states the edition's numbers."""
    try:
        return Reason(spec.zh.format_map(parameters), spec.en.format_map(parameters))
    except (KeyError, ValueError, IndexError) as exc:
        raise RulebookError(f"{where}: reason names an unknown parameter ({exc})") from None


def load_rulebook(source: dict[str, Any], *, lax: bool = False) -> Rulebook:
    """Validate a rulebook's source data and build it, or raise RulebookError.

    ``lax``: an edition published already, read as the loader read it before its numbers and
    flags were strict (``"14"`` a number of days), so that a stored edition keeps counting as
    it did. Never for a new edition."""
    if not isinstance(source, dict):
        raise RulebookError("a rulebook is an object")
    named = _find_people(source)
    if named:
        raise RulebookError(f"{named}: rules may not name people", names_people=True)
    try:
        # ``strict=False`` for the call lifts the fields' own strictness; None keeps it.
        spec = _RulebookIn.model_validate(source, strict=False if lax else None)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RulebookError(f"{where}: {first['msg']}") from None
    rules = tuple(_rule(rule, spec.parameters) for rule in spec.rules)
    ids = [spec.default.id, *(rule.id for rule in rules)]
    if len(set(ids)) != len(ids):
        raise RulebookError("rule ids must be unique")
    return Rulebook(
        version=spec.edition,
        title=Reason(spec.title.zh, spec.title.en),
        default_rule_id=spec.default.id,
        default_reason=Reason(spec.default.reason.zh, spec.default.reason.en),
        rules=rules,
        source=source,
    )
