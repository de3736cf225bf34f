"""The peer: the same rulebook written in JsonLogic, evaluated per person with
panzi-json-logic (the pure-Python JsonLogic / CertLogic evaluator of the EU DCC world).

The rulebook, the designations, the set-asides and the instant are compiled into one JsonLogic
expression (as a business-rule engine would hold them); the per-person data object holds the
person's evidence and orders, times as integer microseconds. The expression answers the id of
the rule that fires (or the default's). It follows ``decide``'s semantics at ``at``: a rule
fires when its latest matching trigger (known, not set aside, under a designation where the
rule asks for one, within ``lasts``) is not followed by a clearing record, or when an order of
its kinds is in force. It does not compute ``valid_until``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from json_logic import jsonLogic

from bench.city import City
from healthcode.domain.areas import prefix as area_prefix
from healthcode.domain.bulk_columns import ATTRIBUTES, KINDS, duration_micros, to_micros
from healthcode.domain.designations import RiskDesignation
from healthcode.domain.orders import Order
from healthcode.domain.rulebook import EvidenceTrigger, Rulebook
from healthcode.domain.status import SetAside

Logic = dict[str, Any]


_NEVER = 2**62  # microseconds: past any instant the peer is asked about


def _var(name: str) -> Logic:
    return {"var": name}


def _latest(condition: Logic) -> Logic:
    """The latest ``occurred`` among the person's evidence meeting ``condition`` (-1: none)."""
    return {
        "reduce": [
            {"filter": [_var("evidence"), condition]},
            {"max": [_var("accumulator"), _var("current.occurred")]},
            -1,
        ]
    }


def compile_rulebook(
    rulebook: Rulebook,
    designations: list[RiskDesignation],
    set_asides: list[SetAside],
    at: datetime,
) -> Logic:
    now = to_micros(at)
    known: list[Logic] = [{"<=": [_var("received"), now]}, {"<=": [_var("occurred"), now]}]
    # Set-asides in force at ``at``: records or sources, for anyone or for one person.
    lists: dict[tuple[str, bool], list[str]] = {}
    for a in set_asides:
        if a.effective_at > at or (a.recorded_at is not None and a.recorded_at > at):
            continue
        what, name = ("ref", a.evidence_ref) if a.evidence_ref else ("source", a.source_id)
        if name is None:
            continue
        key = name if a.person is None else f"{name}|{a.person}"
        lists.setdefault((what, a.person is not None), []).append(key)
    for (what, for_one), names in sorted(lists.items()):
        value: Logic = _var(what)
        if for_one:
            value = {"cat": [_var(what), "|", _var("person")]}
        known.append({"!": {"in": [value, names]}})

    def matching(kind: object, match: tuple[tuple[str, object], ...]) -> list[Logic]:
        return [{"===": [_var("kind"), str(kind)]}] + [
            {"===": [_var(name), value if isinstance(value, bool) else str(value)]}
            for name, value in match
        ]

    def under(levels: frozenset[Any]) -> Logic:
        cases: list[Logic] = []
        for d in designations:
            if d.level not in levels or d.recorded_at > at:
                continue
            prefix = area_prefix(d.area)
            here: list[Logic] = [
                {"===": [{"substr": [_var("area"), 0, len(prefix)]}, prefix]},
                {">=": [_var("occurred"), to_micros(d.valid_from)]},
            ]
            if d.valid_to is not None:
                here.append({"<": [_var("occurred"), to_micros(d.valid_to)]})
            if d.venue_id is not None:
                here.append({"===": [_var("venue"), d.venue_id]})
            cases.append({"and": here})
        return {"or": cases} if cases else {"===": [1, 0]}

    fires: list[tuple[int, Logic]] = []
    for index, rule in enumerate(rulebook.rules):
        trigger = rule.trigger
        if isinstance(trigger, EvidenceTrigger):
            condition = [*known, *matching(trigger.kind, trigger.match)]
            if rule.lasts is not None:
                condition.append({">": [_var("occurred"), now - duration_micros(rule.lasts)]})
            if trigger.designation_levels:
                condition.append(under(trigger.designation_levels))
            latest = _latest({"and": condition})
            if rule.until is None:
                fires.append((index, {">": [latest, -1]}))
            else:
                cleared = _latest({"and": [*known, *matching(rule.until.kind, rule.until.match)]})
                fires.append((index, {">=": [latest, {"max": [cleared, 0]}]}))
        else:
            # The earliest of its expiry and the ends recorded by ``now`` (the evaluator takes
            # a reduction's start as it is, not evaluated: a number past any instant).
            known_ends = {
                "reduce": [
                    {"filter": [_var("ends"), {"<=": [_var("recorded"), now]}]},
                    {"min": [_var("accumulator"), _var("current.at")]},
                    _NEVER,
                ]
            }
            end = {"min": [_var("until"), known_ends]}
            in_force = {
                "and": [
                    {"in": [_var("kind"), sorted(str(k) for k in trigger.kinds)]},
                    {"<=": [_var("recorded"), now]},
                    {"<=": [_var("from"), now]},
                    {">": [end, now]},
                ]
            }
            fires.append((index, {"some": [_var("orders"), in_force]}))
    ranked = sorted(fires, key=lambda f: (-rulebook.rules[f[0]].colour.severity, f[0]))
    chain: list[Any] = []
    for index, when in ranked:
        chain += [when, rulebook.rules[index].id]
    return {"if": [*chain, rulebook.default_rule_id]}


def person_data(city: City, rows: list[int], orders: list[Order]) -> dict[str, Any]:
    """The data object of one person: their evidence and orders."""
    c = city.columns
    evidence = []
    for row in rows:
        item: dict[str, Any] = {
            "kind": str(KINDS[int(c.kind[row])]),
            "occurred": int(c.occurred_at[row]),
            "received": int(c.received_at[row]),
            "area": str(int(c.area[row])),
            "source": c.sources[int(c.source[row])],
            "ref": city.ref(row),
            "person": c.persons[int(c.person[row])],
            "venue": c.venues[int(c.venue[row])] if c.venue[row] >= 0 else None,
        }
        for name, values in ATTRIBUTES.items():
            code = int(getattr(c, name)[row])
            value = values[code - 1] if code else None
            item[name] = value if value is None or isinstance(value, bool) else str(value)
        evidence.append(item)
    return {
        "evidence": evidence,
        "orders": [
            {
                "kind": str(o.kind),
                "from": to_micros(o.valid_from),
                "until": to_micros(o.valid_until),
                "recorded": to_micros(o.recorded_at),
                "ends": [
                    {"at": to_micros(at), "recorded": to_micros(recorded)}
                    for at, recorded in (
                        *o.earlier_ends,
                        *(
                            [(o.ended_at, o.ended_recorded_at)]
                            if o.ended_at is not None and o.ended_recorded_at is not None
                            else []
                        ),
                    )
                ],
            }
            for o in orders
        ],
    }


def evaluate(logic: Logic, data: dict[str, Any]) -> str:
    answer = jsonLogic(logic, data)
    assert isinstance(answer, str)
    return answer
