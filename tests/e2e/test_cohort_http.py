"""The cohort test (A1, A8) over HTTP and against the store, on SQLite and PostgreSQL: an
auditor's list of depositors is compared with people of the same home area and exposure; the
answer holds counts, rates and exact p-values, nobody's colour; other roles are refused; bad
input is refused with a stable code and changes nothing. Also what the service counts: each
exposure class, the look-back before the window, and a colour that came and went."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import comb
from typing import Any

import pytest
from fastapi.testclient import TestClient

from healthcode.domain.designations import RiskLevel
from healthcode.services.cohort import EXPOSURES, count_cells
from healthcode.web.api.cohort import EXPOSURE_NAMES
from healthcode.web.auth import ROLES
from tests.counting import counts, refusal_codes
from tests.http import bearer
from tests.town import ERQI, ZHENGZHOU, Town, days

URL = "/api/v1/oversight/cohort"
STRANGER = "0" * 32  # a well-formed key of nobody


AUDITOR = ("auditor-1", "auditor")


def contacts(town: Town, people: list[str]) -> dict[str, str]:
    """A close-contact record for each person, two hours ago; their evidence refs."""
    at = town.clock.now() - timedelta(hours=2)
    records = [town.record("close_contact", p, at, case_ref="case-7") for p in people]
    town.submit("cdc-1", records)
    return {r["person"]: f"cdc-1/{r['record_id']}" for r in records}


def depositors_city(town: Town, client: TestClient) -> dict[str, list[str]]:
    """A1 done the only way healthcode allows, and caught: 12 depositors and 20 neighbours
    are all traced as close contacts (yellow), and an official orders quarantine (red) for
    the depositors alone. Also 3 depositors and 5 neighbours with no exposure (green), and
    one depositor in Erqi, where nobody else lives (no controls)."""
    people = {
        "dep_contacts": [town.person(f"dep-cc-{i}") for i in range(12)],
        "contacts": [town.person(f"res-cc-{i}") for i in range(20)],
        "dep_none": [town.person(f"dep-none-{i}") for i in range(3)],
        "none": [town.person(f"res-none-{i}") for i in range(5)],
        "dep_erqi": [town.person("dep-erqi", home=ERQI)],
    }
    refs = contacts(town, people["dep_contacts"] + people["contacts"])
    body = {
        "kind": "close_contact_quarantine",
        "legal_basis": "idl-art-41-quarantine",
        "persons": [{"person": p, "evidence": [refs[p]]} for p in people["dep_contacts"]],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }
    ordered = client.post("/api/v1/orders", json=body, headers=bearer(town, "zz-off-1", "official"))
    assert ordered.status_code == 200, ordered.text
    assert town.status(people["dep_contacts"][0]) == ("red", "quarantine-order")
    assert town.status(people["contacts"][0]) == ("yellow", "close-contact")
    return people


def test_the_auditor_gets_counts_rates_and_exact_p_values(town: Town, client: TestClient) -> None:
    people = depositors_city(town, client)
    depositors = people["dep_contacts"] + people["dep_none"] + people["dep_erqi"]
    persons = [*depositors, depositors[0], STRANGER, "f" * 32]  # a repeat, two unknown keys
    town.services.sequencer.integrate(now=town.clock.now())
    before = counts(town.services.db)
    answer = client.post(URL, json={"persons": persons}, headers=bearer(town, *AUDITOR))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Healthcode-Checkpoint"].split()[1].isdigit()
    found = answer.json()
    assert (found["submitted"], found["distinct"], found["unknown"]) == (19, 18, 2)
    assert found["window_to"].startswith(town.clock.now().isoformat()[:19])
    # Everyone traced is flagged, depositor or not: red or yellow says nothing against them.
    either = found["red_or_yellow"]
    assert (either["matched"], either["unmatched"], either["controls"]) == (15, 1, 25)
    assert (either["strata"], either["unmatched_strata"], either["flagged"]) == (2, 1, 12)
    assert either["cohort_rate"] == pytest.approx(12 / 15)
    assert either["control_rate"] == pytest.approx(12 / 15)  # 20/20 contacts, 0/5 others
    assert either["risk_difference"] == pytest.approx(0.0, abs=1e-12)
    assert either["p_greater"] == pytest.approx(1.0)
    assert either["odds_ratio"] is None and either["odds_ratio_kind"] == "undefined"
    # Red is another matter: all 12 depositors among the 32 contacts, none of the others.
    # Under the null the 12 red are a random 12 of the 32, so P(T >= 12) = 1 / C(32, 12);
    # the stratum of the uncontacted (nobody red) adds nothing.
    red = found["red"]
    assert (red["flagged"], red["expected_flagged"]) == (12, pytest.approx(12 * 12 / 32))
    assert red["p_greater"] == pytest.approx(1 / comb(32, 12), rel=1e-9)
    assert red["p_greater"] < 1e-8 and red["p_two_sided"] < 1e-8
    assert red["odds_ratio"] is None and red["odds_ratio_kind"] == "infinite"
    assert red["control_rate"] == 0.0 and red["cohort_rate"] == pytest.approx(12 / 15)
    by_exposure = {row["exposure"]: row for row in found["by_exposure"]}
    assert list(by_exposure) == list(EXPOSURES)
    assert (by_exposure["close_contact"]["cohort"], by_exposure["close_contact"]["red"]) == (12, 12)
    assert by_exposure["none"]["cohort"] == "<10"  # 3 people: too few to show
    assert by_exposure["close_contact"]["name"]["zh"] == "密切接触者"
    # Nobody's key, colour or evidence is in the answer, and nothing was written.
    assert not any(key in answer.text for key in depositors)
    assert counts(town.services.db) == before


def test_other_roles_are_refused(town: Town, client: TestClient) -> None:
    person = town.person("someone")
    body = {"persons": [person] * 3}
    subjects = {"person": person, "venue": "station", "hotline": "hl-erqi",
                "official": "zz-off-1", "supervisor": "zz-sup-1"}  # fmt: skip
    for role in ROLES:
        if role == "auditor":
            continue
        headers = bearer(town, subjects[role], role) if role in subjects else {}
        answer = client.post(URL, json=body, headers=headers)
        assert answer.status_code in (401, 403), (role, answer.text)
        assert answer.json()["code"].startswith("auth."), role


@pytest.mark.parametrize(
    ("body", "code", "http_status"),
    [
        ({"persons": ["not-a-key"]}, "request.malformed", 422),
        ({"persons": []}, "request.malformed", 422),
        ({}, "request.malformed", 422),
        ({"persons": [STRANGER], "window_days": 0}, "request.malformed", 422),
        ({"persons": [STRANGER], "window_days": 400}, "request.malformed", 422),
        # A JSON number, not text, and not a flag (lax, true was a window of one day).
        ({"persons": [STRANGER], "window_days": "30"}, "request.malformed", 422),
        ({"persons": [STRANGER], "window_days": True}, "request.malformed", 422),
        ({"persons": [STRANGER], "colour": "red"}, "request.malformed", 422),  # closed body
        ({"persons": [STRANGER] * 3}, "cohort.too_small", 422),
        ({"persons": [f"{n:032x}" for n in range(100_001)]}, "cohort.too_large", 413),
    ],
)
def test_bad_input_gets_a_stable_code_and_changes_nothing(
    town: Town, client: TestClient, body: dict[str, Any], code: str, http_status: int
) -> None:
    before = counts(town.services.db)
    answer = client.post(URL, json=body, headers=bearer(town, *AUDITOR))
    assert (answer.status_code, answer.json()["code"]) == (http_status, code), answer.text
    assert set(answer.json()["message"]) == {"zh", "en"}
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db)[-1] == code  # only the refusal, with no content


def test_too_few_matched_counts_only_people_with_controls(town: Town, client: TestClient) -> None:
    # Twelve listed, but eleven live in Erqi where nobody else does: one is matched.
    listed = [town.person(f"erqi-{i}", home=ERQI) for i in range(11)] + [town.person("zy")]
    town.person("zy-neighbour")
    answer = client.post(URL, json={"persons": listed}, headers=bearer(town, *AUDITOR))
    assert (answer.status_code, answer.json()["code"]) == (422, "cohort.too_small")
    assert "1 of the persons" in answer.json()["detail"]


def test_every_exposure_class_has_a_bilingual_name() -> None:
    assert set(EXPOSURE_NAMES) == set(EXPOSURES)


# --- what is counted: exposure classes and flags in the window ------------------------------


def cell_of(town: Town, person: str, now: datetime, window: timedelta) -> tuple[str, int] | None:
    """The (exposure class, flag level) the service counts the person in, if any."""
    with town.services.db.read() as conn:
        cohort, _ = count_cells(conn, [person], since=now - window, now=now)
    cells = [(exposure, level) for (_, exposure, level), n in cohort.items() if n]
    assert len(cells) <= 1 and sum(cohort.values()) == len(cells)
    return cells[0] if cells else None


def test_exposure_classes(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(3), None, id="erqi-high")
    town.designate(ZHENGZHOU, RiskLevel.MEDIUM, now - days(10), now - days(9), id="city-medium")
    town.designate(ZHENGZHOU, RiskLevel.LOW, now - days(2), None, id="city-low")
    town.designate(ERQI, RiskLevel.MEDIUM, now - days(8), now - days(7), id="station-medium",
                   venue="station")  # fmt: skip
    p = {name: town.person(name) for name in (
        "positive", "contact", "inbound", "inbound-free", "high-visit", "unverified",
        "before-designation", "city-visit", "low-visit", "venue-visit", "contact-and-positive",
        "nothing", "old-contact",
    )}  # fmt: skip
    town.test(p["positive"], now - timedelta(hours=3), "positive")
    town.test(p["contact-and-positive"], now - timedelta(hours=3), "positive")
    town.submit("cdc-1", [
        town.record("close_contact", p["contact"], now - days(1), case_ref="c-1"),
        town.record("close_contact", p["contact-and-positive"], now - days(1), case_ref="c-1"),
        town.record("close_contact", p["old-contact"], now - days(45), case_ref="c-0"),
    ])  # fmt: skip
    town.submit("border-1", [
        town.record("border_entry", p["inbound"], now - days(2), port="ZZ", quarantine_required=True),
        town.record("border_entry", p["inbound-free"], now - days(2), port="ZZ",
                    quarantine_required=False),
    ])  # fmt: skip
    town.visit(p["high-visit"], now - timedelta(hours=5))  # the station, in Erqi: high risk
    town.visit(p["unverified"], now - timedelta(hours=5), presence="unverified")
    town.visit(p["before-designation"], now - days(4))
    town.visit(p["city-visit"], now - days(9.5), venue="market")  # the whole city was medium
    town.visit(p["low-visit"], now - days(1), venue="market")
    town.visit(p["venue-visit"], now - days(7.5))  # the station alone was medium then
    expected = {
        "positive": "positive_test", "contact": "close_contact", "inbound": "inbound_traveller",
        "inbound-free": "none", "high-visit": "designated_visit", "unverified": "none",
        "before-designation": "none", "city-visit": "designated_visit", "low-visit": "none",
        "venue-visit": "designated_visit", "contact-and-positive": "positive_test",
        "nothing": "none", "old-contact": "none",
    }  # fmt: skip
    for name, exposure in expected.items():
        colour, _ = town.status(p[name])
        level = {"green": 0, "yellow": 1, "red": 2}[colour]
        assert cell_of(town, p[name], now, days(30)) == (exposure, level), name


def test_the_exposure_look_back_and_a_colour_that_came_and_went(town: Town) -> None:
    t0 = town.clock.now()
    ill = town.person("ill")
    town.test(ill, t0 - timedelta(hours=1), "positive")  # red from t0
    town.clock.advance(days=5)
    town.submit("lab-1", [town.record("recovery", ill, town.clock.now() - timedelta(hours=1))])
    assert town.status(ill)[0] == "green"  # green from t0 + 5 days
    now = t0 + days(10)
    # Red inside the 30-day window, gone by its end: counted as flagged (red).
    assert cell_of(town, ill, now, days(30)) == ("positive_test", 2)
    # A 3-day window sees no colour, but the test 10 days back is inside the look-back.
    assert cell_of(town, ill, now, days(3)) == ("positive_test", 0)
    # Long after, the test is beyond the window and its look-back: no exposure, no flag.
    assert cell_of(town, ill, t0 + days(40), days(1)) == ("none", 0)
    # Before the person was registered, the key is nobody's: not counted (an unknown key).
    assert cell_of(town, ill, t0 - days(1), days(30)) is None
