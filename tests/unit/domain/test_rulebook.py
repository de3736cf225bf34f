"""The rulebook loader: what a published edition may and may not say."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from healthcode.domain.rulebook import RulebookError, load_rulebook
from healthcode.services.rulebooks import default_edition_source

DEFAULT = default_edition_source()


def edited(change: Any) -> dict[str, Any]:
    source = copy.deepcopy(DEFAULT)
    change(source)
    return source


def test_default_edition_loads_with_parameters_filled_in() -> None:
    rulebook = load_rulebook(DEFAULT)
    assert rulebook.version == 1
    high = rulebook.rule("high-risk-visit")
    assert high is not None and high.lasts is not None and high.lasts.days == 14
    assert "14" in high.reason.zh and "14 days" in high.reason.en


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["rules"][0]["trigger"].__setitem__(
            "persons", ["0123456789abcdef0123456789abcdef"]
        ),
        lambda s: s["rules"].append({**s["rules"][0], "id": "depositors", "people": ["a", "b"]}),
        lambda s: s["rules"][0]["trigger"]["match"].__setitem__(
            "result", "0123456789abcdef0123456789abcdef"
        ),
        lambda s: s.__setitem__("targets", {"list": "depositors"}),
        lambda s: s["rules"][0]["trigger"]["match"].__setitem__("id", "41010219900101123X"),
    ],
)
def test_a_rulebook_naming_people_is_refused(change: Any) -> None:
    with pytest.raises(RulebookError) as refused:
        load_rulebook(edited(change))
    assert refused.value.names_people


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda s: s["rules"][3]["trigger"]["match"].__setitem__("presence", "unverified"),
            "presence: proven",
        ),
        (lambda s: s["rules"][3]["trigger"]["match"].pop("presence"), "presence: proven"),
        (lambda s: s["rules"][6].__setitem__("colour", "red"), "only through an order"),
        (
            lambda s: s["rules"][0]["trigger"]["match"].__setitem__("colour", "red"),
            "cannot be matched",
        ),
        (lambda s: s["rules"][3]["lasts"].__setitem__("days", "$nowhere"), "unknown parameter"),
        (lambda s: s["rules"][1].__setitem__("lasts", {"days": 3}), "as long as the order"),
        (lambda s: s["rules"].append(copy.deepcopy(s["rules"][0])), "unique"),
        (lambda s: s["rules"][0].__setitem__("colour", "green"), "colour"),
        (lambda s: s["rules"][0].__setitem__("severity", 3), "severity"),
    ],
)
def test_invalid_editions_are_refused_with_a_reason(change: Any, says: str) -> None:
    with pytest.raises(RulebookError) as refused:
        load_rulebook(edited(change))
    assert not refused.value.names_people
    assert says in str(refused.value)


def _border_rule(source: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in source["rules"] if r["trigger"].get("evidence") == "border_entry")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["rules"][3]["lasts"].__setitem__("days", True),  # lax: one day
        lambda s: s["rules"][3]["lasts"].__setitem__("days", "14"),
        lambda s: s["parameters"].__setitem__("inbound_days", "14"),
        lambda s: s["parameters"].__setitem__("inbound_days", True),
        lambda s: s.__setitem__("edition", "1"),
        lambda s: _border_rule(s)["trigger"]["match"].__setitem__("quarantine_required", 1),
    ],
    ids=["days true", "days text", "parameter text", "parameter true", "edition text", "flag 1"],
)
def test_numbers_and_flags_are_json_numbers_and_flags(change: Any) -> None:
    """The published source is what people read: it must say what the engine counts."""
    with pytest.raises(RulebookError):
        load_rulebook(edited(change))


def test_a_published_edition_is_read_back_as_it_was_accepted() -> None:
    """An edition stored before the loader was strict is read as it was then (``lax``)."""
    source = edited(lambda s: s["parameters"].__setitem__("high_risk_visit_days", "14"))
    high = load_rulebook(source, lax=True).rule("high-risk-visit")
    assert high is not None and high.lasts is not None and high.lasts.days == 14
    whole = edited(lambda s: s["parameters"].__setitem__("high_risk_visit_days", 14.0))
    assert load_rulebook(whole).rule("high-risk-visit") == high
