"""The public statistics page over a small town on both backends: colours per city now and at
the end of each day, code changes, orders, designations, appeals and oversight, in zh and en;
a count under 10 reads "<10" and its value appears nowhere in the charts; one of 10 or more
is shown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from healthcode.domain.appeals import AppealTarget, Ground
from healthcode.domain.designations import RiskLevel
from healthcode.services.appeals import AppealRequest
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.web.app import create_app
from tests.town import ERQI, PUDONG, ZHENGZHOU, Town, days

OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))


def build(town: Town) -> None:
    """Day 1 (1 June, local time): 12 close contacts quarantined by one order each, a high-risk
    designation of Erqi. Day 2: two positive tests, both appealed."""
    town.register_staff()
    now = town.clock.now()
    contacts = [town.person(f"c{n}") for n in range(12)]
    records = [
        town.record("close_contact", p, now - timedelta(hours=2), area=ERQI, case_ref="c-1")
        for p in contacts
    ]
    town.submit("cdc-1", records)
    town.services.orders.issue(
        OFFICIAL,
        OrderRequest(
            kind="close_contact_quarantine",  # type: ignore[arg-type]
            legal_basis="idl-art-41-quarantine",
            persons=tuple(
                PersonEvidence(p, (f"cdc-1/{r['record_id']}",))
                for p, r in zip(contacts, records, strict=True)
            ),
            valid_until=now + days(10),
        ),
        now=now,
    )
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(6), id="des-stats")
    others = [town.person(f"g{n}") for n in range(5)]
    town.clock.advance(days=1)
    for person in others[:2]:
        town.test(person, town.clock.now() - timedelta(hours=1), "positive")
        town.services.appeals.file(
            person, AppealRequest(AppealTarget.COLOUR, Ground.NOT_MINE), now=town.clock.now()
        )


def svgs(page: str) -> str:
    return "".join(re.findall(r"<svg.*?</svg>", page, re.S))


def test_the_counts_per_city_and_day_follow_the_colour_changes(town: Town) -> None:
    build(town)
    stats = town.services.public_stats.compute(town.clock.now())
    assert stats.days[-2:][0].isoformat() == "2026-06-01" and len(stats.days) == 30
    assert stats.cities.rows == ("410100",)
    zhengzhou = {c: stats.cities.cell("410100", c) for c in ("green", "yellow", "red")}
    assert zhengzhou == {"green": "<10", "yellow": "<10", "red": 14}
    assert stats.cities.row_totals["410100"] == 17 and stats.cities.total == 17
    [city] = stats.city_days
    assert city.city == "410100"
    assert city.held["red"][-2:] == (12, 14)  # the end of 1 June, and now
    assert city.held["red"][-3] == "<10" and city.held["yellow"][-1] == "<10"
    assert stats.changes["red"][-2:] == (12, "<10")  # 12 quarantined, then 2 positives
    assert stats.changes["yellow"][-2] == 12  # the contacts were yellow before their orders
    acts = stats.acts
    assert acts.orders is not None and acts.orders.cell("zz-health", "idl-art-41-quarantine") == 12
    assert acts.order_days[-2:] == (12, "<10")
    assert acts.designations is not None and acts.designations.cell("zz-health", "high") == 1
    assert acts.designation_days["high"][-2:] == (1, 1)
    assert acts.appeals is not None and acts.appeals.row_totals["zz-health"] == "<10"
    assert acts.findings is None and acts.cases is None
    # One resident of Shanghai: that city's counts are small, and the totals would give them
    # away (all red less Zhengzhou's red is Shanghai's), so Zhengzhou's red and total are
    # hidden too ("×"), in the table and in today's column of the chart.
    town.person("shanghai", home=PUDONG)
    stats = town.services.public_stats.compute(town.clock.now())
    assert stats.cities.rows == ("310100", "410100")
    assert stats.cities.cell("410100", "red") == "×" and stats.cities.col_totals["red"] == 14
    assert stats.cities.row_totals == {"310100": "<10", "410100": "×"}
    assert stats.cities.total == 18
    assert stats.city_days[0].held["red"][-2:] == (12, "×")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_hides_small_counts_in_tables_and_charts(town: Town, lang: str) -> None:
    build(town)
    client = TestClient(create_app(town.services, run_scheduler=False))
    page = client.get(f"/public/stats?lang={lang}")
    assert page.status_code == 200
    text = page.text
    for section in ("colours", "colour-days", "changes", "orders", "designations", "appeals",
                    "oversight"):  # fmt: skip
        assert f'id="{section}"' in text
    row = text[text.index('id="city-410100"') :].split("</tr>")[0]
    assert "<td>14</td>" in row and "<td>&lt;10</td>" in row
    charts = svgs(text)
    red = "Red code" if lang == "en" else "红码"
    assert f"2026-06-02 · {red}: 14</title>" in charts  # held now, 10 or more: shown
    assert f"2026-06-02 · {red}: &lt;10</title>" in charts  # the two positives: hidden
    assert f"{red}: 2<" not in charts and ": 2</title>" not in charts
    assert 'class="hidden"' in charts and 'class="bar-red"' in charts
    orders = text[text.index('id="orders-zz-health"') :].split("</tr>")[0]
    assert "<td>12</td>" in orders
    assert ("None yet." if lang == "en" else "暂无。") in text[text.index('id="oversight"') :]
    if lang == "zh":
        assert "郑州市" in row and "各城市现持各色码人数" in text
    else:
        assert "Zhengzhou" in row and "Orders per authority and legal basis" in text


def test_the_appeals_chart_stands_alone_for_the_appeal_statistics_page(town: Town) -> None:
    build(town)
    client = TestClient(create_app(town.services, run_scheduler=False))
    chart = client.get("/public/stats/appeals.svg?lang=en")
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert "Zhengzhou Health Commission · Open: &lt;10" in chart.text
    assert ": 2</title>" not in chart.text
    page = client.get("/stats/appeals?lang=zh").text
    assert 'src="/public/stats/appeals.svg?lang=zh"' in page


def test_an_empty_town_says_none_yet(town: Town) -> None:
    client = TestClient(create_app(town.services, run_scheduler=False))
    text = client.get("/public/stats?lang=en").text
    assert (
        text.count("None yet.") == 6
    )  # colours per day, orders, designations, appeals, 2x oversight
    empty = client.get("/public/stats/appeals.svg?lang=zh")
    assert empty.status_code == 200 and "暂无。" in empty.text


def test_the_page_counts_at_most_once_a_minute(town: Town) -> None:
    public = town.services.public_stats
    first = public.latest(town.clock.now())
    town.person("late")
    assert public.latest(town.clock.now() + timedelta(seconds=59)) is first
    town.clock.advance(minutes=1)
    again = public.latest(town.clock.now())
    assert again is not first and again.counted_at == town.clock.now()
    assert again.cities.rows == ("410100",) and first.cities.rows == ()
