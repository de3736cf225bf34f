"""The product as people use it, in a real browser against a real server over the demo city.

A red resident of Zhengzhou signs in by the link `healthcode demo` printed, reads the reason
in Chinese, switches to English and appeals against the test that made them red; the
Zhengzhou official (also signed in by a printed link) overturns it; the resident sees their
code change, with receipts and notices. A venue device shows its place code and checks the resident's
pass from a photo of it; the public log page shows the checkpoint the log serves. Every page
is also shot at phone and desktop widths into var/screenshots/.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx2

from tests.e2e.browser.conftest import DESKTOP, PHONE, shoot
from tests.served import ServedCity

Page = Any  # playwright.sync_api.Page: imported lazily so the suite collects without it


def _context(browser: Any, viewport: dict[str, int], locale: str = "zh-CN") -> Any:
    return browser.new_context(viewport=viewport, locale=locale)


def _sign_in(browser: Any, link: str, viewport: dict[str, int] = PHONE) -> Page:
    page = _context(browser, viewport).new_page()
    page.goto(link)
    if urlsplit(link).path == "/login":  # a person's asks before it spends itself, as for a preview
        page.click('form[action="/login"] button')
        page.wait_for_url("**/me")
    return page


def test_a_red_resident_appeals_and_an_official_overturns(browser: Any, city: ServedCity) -> None:
    person = _sign_in(browser, city.links["red"])
    assert person.url.endswith("/me")
    code = person.locator("section.code")
    assert "code-red" in (code.get_attribute("class") or "")
    assert person.locator("h1.colour").inner_text() == "红码"
    reason_zh = person.locator("p.reason").inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason_zh), reason_zh
    shoot(person, "person-red-zh-phone")

    person.locator("nav a[hreflang=en]").click()
    assert person.locator("h1.colour").inner_text() == "Red code"
    assert person.locator("p.reason").inner_text() != reason_zh
    person.set_viewport_size(DESKTOP)
    shoot(person, "person-red-en-desktop")
    person.set_viewport_size(PHONE)

    person.goto(f"{city.base}/me/appeals#file-appeal")
    contested = person.locator("select[name=item] option[value^='evidence:']").first
    person.select_option("select[name=item]", value=contested.get_attribute("value"))
    person.select_option("select[name=ground]", value="evidence_wrong")
    shoot(person, "appeal-form-en-phone")
    person.locator("#file-appeal button[type=submit]").click()
    appeal = person.locator("article.appeal").first
    appeal_id = appeal.get_attribute("id")
    assert appeal.locator("dd.where").inner_text()  # held by the accountable authority

    official = _sign_in(browser, city.links["official"], DESKTOP)
    assert official.url.endswith("/official/appeals")
    shoot(official, "official-appeals-zh-desktop")
    answer = official.locator(f"form[action='/official/appeals/{appeal_id}/answer']")
    answer.locator("select[name=outcome]").select_option("overturned")
    answer.locator("button[type=submit]").click()
    assert official.locator(f"form[action='/official/appeals/{appeal_id}/answer']").count() == 0

    person.goto(f"{city.base}/me")
    assert "code-red" not in (person.locator("section.code").get_attribute("class") or "")
    assert person.locator("h1.colour").inner_text() in {"Green code", "Yellow code"}
    outcome = person.locator(f"article.appeal[id='{appeal_id}'] dd.outcome").inner_text()
    assert "verturned" in outcome, outcome
    receipts = person.locator(f"article.appeal[id='{appeal_id}'] p.receipts a")
    assert receipts.count() >= 2  # filed, answered
    notices = person.locator("#notices li").all_inner_texts()
    assert any(appeal_id in n and "Overturned" in n for n in notices), notices
    shoot(person, "person-after-appeal-en-phone")


def test_a_venue_shows_its_code_and_checks_a_pass_from_a_photo(
    browser: Any, city: ServedCity, tmp_path: Any
) -> None:
    venue_link = next(link for who, link in city.links.items() if who.startswith("venue"))
    venue = _sign_in(browser, venue_link, DESKTOP)
    assert venue.url.endswith("/venue")
    assert venue.locator("img, svg").count() >= 1
    shoot(venue, "venue-code-zh-desktop")

    person = _sign_in(browser, city.links["green"])
    photo = person.request.get(f"{city.base}/api/v1/me/pass?format=png")
    assert photo.status == 200
    (tmp_path / "pass.png").write_bytes(photo.body())

    venue.set_viewport_size(PHONE)
    venue.set_input_files("input[name=image]", str(tmp_path / "pass.png"))
    venue.locator("form[action='/venue/check'] button[type=submit]").click()
    assert venue.locator("h1.colour").inner_text() == "绿码"
    masked = venue.locator("p.who").inner_text()
    assert "*" in masked
    shown = venue.locator("main").inner_text()
    for private in ("reason", "理由", "evidence", "证据"):
        assert private not in shown.lower()
    shoot(venue, "venue-check-zh-phone")


def test_the_public_log_page_shows_the_served_checkpoint(browser: Any, city: ServedCity) -> None:
    page = _context(browser, DESKTOP, locale="en-US").new_page()
    page.goto(f"{city.base}/public/log?lang=en")
    served = httpx2.get(f"{city.base}/log/checkpoint").text.split("\n")
    size = int(page.locator("dd.checkpoint-size").inner_text())
    assert size >= int(served[1])
    if size == int(served[1]):
        assert page.locator("code.checkpoint-root").inner_text() == served[2]
    shoot(page, "public-log-en-desktop")
    page.locator("#entries a").first.click()
    assert page.locator("pre.receipt").inner_text().startswith("c2sp.org/tlog-proof@v1")
    shoot(page, "public-entry-en-desktop")
    page.set_viewport_size(PHONE)
    page.goto(f"{city.base}/public/log?lang=zh")
    assert page.locator("h1").inner_text() == "透明日志"
    shoot(page, "public-log-zh-phone")


def test_the_public_rules_designations_and_statistics_fit_a_phone(
    browser: Any, city: ServedCity
) -> None:
    page = _context(browser, PHONE).new_page()
    page.goto(f"{city.base}/public/rules")
    assert page.locator("table.rules tr").count() > 3
    shoot(page, "public-rules-zh-phone")
    page.goto(f"{city.base}/public/designations?lang=en")
    assert page.locator("h1").inner_text() == "Risk designations"
    shoot(page, "public-designations-en-phone")
    page.goto(f"{city.base}/public/stats?lang=en")
    assert page.locator("svg.chart rect").count() > 0
    shoot(page, "public-stats-en-phone")
    page.goto(f"{city.base}/public/stats?lang=zh")
    assert page.locator("#colour-days svg.chart").count() > 0
    shoot(page, "public-stats-zh-phone")
    page.goto(f"{city.base}/stats/appeals?lang=en")  # the appeals chart, drawn by the server
    assert page.locator("img.chart").evaluate("image => image.naturalWidth") > 0
    shoot(page, "appeal-stats-en-phone")


def test_the_auditor_finds_the_abuse_and_moves_a_case(browser: Any, city: ServedCity) -> None:
    """The demo city holds the simulator's abuse attempts; the detectors ran when it was built,
    so oversight's auditor opens on cases, and moving one is recorded with its note."""
    auditor = _sign_in(browser, city.links["auditor"], DESKTOP)
    assert auditor.url.endswith("/oversight")
    assert auditor.locator("table.cases tbody tr").count() > 0
    assert auditor.locator("table.findings tbody tr").count() > 0
    shoot(auditor, "oversight-zh-desktop")
    case_link = auditor.locator("table.cases tbody tr a").first
    case_id = case_link.inner_text()
    case_link.click()
    assert case_id in auditor.url
    auditor.select_option("select[name=status]", value="investigating")
    auditor.fill("textarea[name=note]", "调取该来源的签名设备记录。")
    auditor.locator(f"form[action='/oversight/cases/{case_id}/steps'] button[type=submit]").click()
    assert "调取该来源的签名设备记录。" in auditor.content()
    auditor.goto(f"{city.base}/oversight/cases/{case_id}?lang=en")
    assert "nvestigat" in auditor.locator("main").inner_text()
    shoot(auditor, "oversight-case-en-desktop")
