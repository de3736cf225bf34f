"""What a resident reads on /me and in the API, in words they understand: the evidence behind
an order, who read their record by name, the evidence's details and the rules in their
language, high-risk venues by name, and whether a scan proved their visit (invariants 1, 7, 9).
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.domain.designations import RiskLevel
from tests.e2e.test_person_page import login
from tests.http import bearer
from tests.services.test_explain import quarantine
from tests.town import ZHONGYUAN, Town


def section(page: str, heading: str) -> str:
    """The text of the page's card under ``heading``."""
    start = page.index(f"<h2>{heading}</h2>")
    return page[start : page.index("</section>", start)]


def test_a_quarantined_resident_sees_the_evidence_behind_their_order(
    town: Town, client: TestClient
) -> None:
    person = town.person("隔离者")
    ref, order_id = quarantine(town, person)
    status = client.get("/api/v1/me/status", headers=bearer(town, person, "person")).json()
    assert status["rule_id"] == "quarantine-order" and status["inputs"] == [f"order:{order_id}"]
    [item] = status["evidence"]
    assert (item["ref"], item["kind"], item["authority_id"]) == (ref, "close_contact", "zz-health")
    assert item["authority_name"]["zh"] == "郑州市卫健委" and item["cited_by_orders"] == [order_id]
    [order] = status["orders"]
    assert [e["ref"] for e in order["cited_evidence"]] == [ref] and order["evidence"] == [ref]
    login(client, town.services, person)
    page = client.get("/me?lang=zh").text
    evidence = section(page, "本码依据的证据")
    assert "没有需要采取措施的证据" not in page
    assert "密切接触" in evidence and "郑州市卫健委" in evidence and ref in evidence
    assert "密接隔离" in evidence  # the order it counts through
    orders = section(page, "与您有关的命令")
    assert "密切接触" in orders and "郑州市卫健委" in orders


def test_who_read_my_record_names_the_venue_and_its_authority(
    town: Town, client: TestClient
) -> None:
    person = town.person("持卡人", home=ZHONGYUAN)
    me = bearer(town, person, "person")
    card = client.get("/api/v1/me/card?format=json", headers=me).json()["text"]
    checked = client.post(
        "/api/v1/venue/identity-check", json={"card": card}, headers=bearer(town, "market", "venue")
    )
    assert checked.status_code == 200, checked.text
    [access] = client.get("/api/v1/me/accesses", headers=me).json()
    assert access["accessor_name"] == {"zh": "中原菜市场", "en": "Zhongyuan Market"}
    assert access["authority_name"]["zh"] == "郑州市卫健委"
    login(client, town.services, person)
    zh = section(client.get("/me?lang=zh").text, "谁查看过您的记录")
    assert "中原菜市场" in zh and "郑州市卫健委" in zh and "zz-health" not in zh
    en = section(client.get("/me?lang=en").text, "Who read your record")
    assert "Zhongyuan Market" in en and "Zhengzhou Health Commission" in en


def test_the_history_shows_each_rules_text_in_the_readers_language(
    town: Town, client: TestClient
) -> None:
    person = town.person("康复者")
    town.test(person, town.clock.now() - timedelta(hours=3), "positive")
    town.submit("lab-1", [town.record("recovery", person, town.clock.now() - timedelta(hours=1))])
    login(client, town.services, person)
    # Green now: the red change in the history shows its rule's text, the id in small print.
    history = section(client.get("/me?lang=zh").text, "变更历史")
    assert "核酸或抗原检测阳性，康复前为红码。" in history
    assert "<small><code>confirmed-case</code></small>" in history
    assert "未发现需要管控的风险证据。" in history
    english = section(client.get("/me?lang=en").text, "History of changes")
    assert "Positive PCR or antigen test; red until recovery." in english


def tags(html: str) -> list[str]:
    return re.findall(r'<span class="tag">([^<]*)</span>', html)


def test_evidence_details_are_in_the_readers_language(town: Town, client: TestClient) -> None:
    person = town.person("阳性者")
    town.test(person, town.clock.now() - timedelta(hours=1), "positive")
    login(client, town.services, person)
    assert tags(section(client.get("/me?lang=zh").text, "本码依据的证据")) == [
        "核酸检测",
        "阳性",
    ]
    english = section(client.get("/me?lang=en").text, "Evidence behind this code")
    assert tags(english) == ["PCR test", "positive"]


def test_a_visit_shows_its_presence_and_the_venue_by_name(town: Town, client: TestClient) -> None:
    person = town.person("到访者")
    now = town.clock.now()
    town.designate(ZHONGYUAN, RiskLevel.HIGH, now - timedelta(days=1), None, id="d-1")
    town.visit(person, now - timedelta(hours=1), venue="market")
    login(client, town.services, person)
    evidence = section(client.get("/me?lang=zh").text, "本码依据的证据")
    assert tags(evidence) == ["到访已核实", "中原菜市场"]
    status = client.get("/api/v1/me/status").json()
    assert status["evidence"][0]["venue_name"] == {"zh": "中原菜市场", "en": "Zhongyuan Market"}


def test_high_risk_venues_are_listed_by_name_and_area(town: Town, client: TestClient) -> None:
    now = town.clock.now()
    town.designate(ZHONGYUAN, RiskLevel.HIGH, now - timedelta(days=1), None, id="d-market",
                   venue="market")  # fmt: skip
    zh = client.get("/public/designations?lang=zh").text
    row = zh[zh.index('id="d-market"') :]
    row = row[: row.index("</tr>")]
    assert "中原菜市场 (中原区)" in row and "<small><code>market</code></small>" in row
    en = client.get("/public/designations?lang=en").text
    assert "Zhongyuan Market (Zhongyuan)" in en


def test_a_scan_tells_whether_the_visit_was_proven(town: Town, client: TestClient) -> None:
    person = town.person("扫码者", home=ZHONGYUAN)
    me = bearer(town, person, "person")
    fresh = client.get("/api/v1/venue/place-code", headers=bearer(town, "market", "venue"))
    proven = client.post("/api/v1/scans", json={"code": fresh.json()["text"]}, headers=me).json()
    assert proven["presence"] == "proven"
    assert "经核实" in proven["presence_note"]["zh"] and "proven" in proven["presence_note"]["en"]
    printed = client.get(
        "/api/v1/venue/place-code/static", headers=bearer(town, "station", "venue")
    )
    unverified = client.post("/api/v1/scans", json={"code": printed.json()["text"]}, headers=me)
    assert unverified.json()["presence"] == "unverified", unverified.text
    assert "不会改变" in unverified.json()["presence_note"]["zh"]
    login(client, town.services, person)
    station = client.get("/api/v1/venue/place-code", headers=bearer(town, "station", "venue"))
    page = client.post("/me/scan?lang=zh", data={"code": station.json()["text"]})
    assert page.status_code == 200 and "到访已核实" in page.text, page.text
    mall = client.get("/api/v1/venue/place-code/static", headers=bearer(town, "mall", "venue"))
    english = client.post("/me/scan?lang=en", data={"code": mall.json()["text"]}).text
    assert "Presence unverified" in english and "never changes your colour" in english
