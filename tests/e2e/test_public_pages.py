"""The public pages: the rules with what each edition changed, the risk designations, the log."""

from __future__ import annotations

import copy
import html
import re

from fastapi.testclient import TestClient

from healthcode.domain.designations import RiskLevel
from healthcode.services.rulebooks import default_edition_source
from healthcode.web.app import create_app
from tests.town import ERQI, Town, days


def test_the_rules_page_shows_the_edition_in_force_and_each_change(town: Town) -> None:
    second = copy.deepcopy(default_edition_source())
    second["edition"] = 2
    second["title"] = {"zh": "健康码规则（第 2 版）", "en": "Health code rules, edition 2"}
    second["parameters"]["close_contact_days"] = 10
    with town.services.db.write() as conn:
        town.services.rulebooks.publish(conn, second, now=town.clock.now())
    town.clock.advance(hours=1)
    client = TestClient(create_app(town.services, run_scheduler=False))
    page = client.get("/public/rules?lang=en")
    assert page.status_code == 200
    assert "In force: edition 2" in page.text and "What edition 2 changed" in page.text
    assert "-    &#34;close_contact_days&#34;: 14," in page.text
    assert "+    &#34;close_contact_days&#34;: 10," in page.text
    chinese = client.get("/public/rules?lang=zh").text
    assert "现行" in chinese and "第 2 版的改动" in chinese


def test_the_designations_page_names_area_level_period_and_authority(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(6), id="des-public")
    client = TestClient(create_app(town.services, run_scheduler=False))
    page = client.get("/public/designations?lang=en")
    assert page.status_code == 200
    row = page.text[page.text.index('id="des-public"') :].split("</tr>")[0]
    assert "Erqi" in row and "high risk" in row and "Zhengzhou" in row and "<td>5</td>" in row
    assert "二七区" in client.get("/public/designations?lang=zh").text


def test_an_entry_not_yet_in_a_checkpoint_has_no_page(town: Town) -> None:
    client = TestClient(create_app(town.services, run_scheduler=False))
    assert client.get("/public/log/999999").status_code == 404
    assert client.get("/public/log/-1").status_code in (404, 422)


def test_the_statistics_page_counts_colours_and_suppresses_small_cells(town: Town) -> None:
    people = [town.person(f"s{n}") for n in range(12)]
    for person in people[:2]:
        town.test(person, town.clock.now(), "positive")
    stats = town.services.public_stats.compute(town.clock.now())
    assert stats.cities.col_totals == {"green": 10, "yellow": "<10", "red": "<10"}
    assert stats.changes["red"][-1] == "<10"  # two changes today, hidden
    client = TestClient(create_app(town.services, run_scheduler=False))
    page = client.get("/public/stats?lang=en")
    assert page.status_code == 200
    assert "&lt;10" in page.text and 'class="hidden"' in page.text  # a hatched mark, not a bar
    assert "统计" in client.get("/public/stats?lang=zh").text


def test_an_entry_page_shows_its_exact_bytes_leaf_hash_and_a_tlog_proof_download(
    town: Town,
) -> None:
    from healthcode.tlog import leaf_hash

    town.test(town.person("pub"), town.clock.now(), "positive")
    town.services.sequencer.integrate(now=town.clock.now())
    client = TestClient(create_app(town.services, run_scheduler=False))
    body = town.services.log.entry(0)
    page = client.get("/public/log/0?lang=en")
    assert page.status_code == 200
    shown = page.text.split('id="entry-bytes">')[1].split("</pre>")[0]
    assert html.unescape(shown) == body.decode("utf-8")  # as logged, not re-indented
    assert leaf_hash(body).hex() in page.text
    name = "healthcode.example-log-0.tlog-proof"
    assert f'href="/public/log/0/receipt" download="{name}"' in page.text
    receipt = client.get("/public/log/0/receipt")
    assert receipt.status_code == 200
    assert receipt.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert receipt.text == town.services.log.receipt(0)
    assert receipt.text.startswith("c2sp.org/tlog-proof@v1\n")


def test_the_log_page_pages_through_every_entry_and_opens_one_by_number(town: Town) -> None:
    for i in range(40):
        town.test(town.person(f"paged{i}"), town.clock.now(), "negative")
    town.services.sequencer.integrate(now=town.clock.now())
    size = town.services.log.latest().size
    assert size > 50  # more than two pages of 25
    client = TestClient(create_app(town.services, run_scheduler=False))

    def shown(page: str) -> list[int]:
        return [int(i) for i in re.findall(r'<td><a href="/public/log/(\d+)">', page)]

    seen: list[int] = []
    url: str | None = "/public/log?lang=en"
    while url is not None:
        page = client.get(url)
        assert page.status_code == 200, url
        seen += shown(page.text)
        older = re.search(r'rel="next" href="([^"]+)"', page.text)
        url = html.unescape(older.group(1)) + "&lang=en" if older else None
    assert seen == list(range(size - 1, -1, -1))  # every entry once, newest first
    # The oldest page leads back, and a page in between names its range.
    middle = client.get(f"/public/log?before={size - 25}&lang=zh").text
    assert (
        f"第 {size - 50} 至 {size - 26} 条" in middle and 'rel="prev" href="/public/log"' in middle
    )
    # The number box opens an entry's page; a number that is no entry is that page's 404.
    opened = client.get("/public/log?entry=3", follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/public/log/3")
    assert client.get(f"/public/log?entry={size + 5}&lang=en").status_code == 404
    assert client.get("/public/log?before=-1").json()["code"] == "request.malformed"


def test_a_missing_entry_is_an_html_404_page_in_both_languages(town: Town) -> None:
    town.test(town.person("pub"), town.clock.now(), "positive")
    town.services.sequencer.integrate(now=town.clock.now())
    client = TestClient(create_app(town.services, run_scheduler=False))
    for path in ("/public/log/99999999", "/public/log/abc", "/public/log/-1",
                 "/public/log/abc/receipt", "/public/log/99999999/receipt"):  # fmt: skip
        for lang, words in (("en", "No such log entry"), ("zh", "没有这条日志条目")):
            page = client.get(f"{path}?lang={lang}")
            assert page.status_code == 404, path
            assert page.headers["content-type"].startswith("text/html"), path
            assert words in page.text and "signed checkpoint" not in page.text, path
    # An entry written but not signed yet says so.
    town.test(town.person("late"), town.clock.now(), "positive")
    pending = town.services.log.latest().size
    page = client.get(f"/public/log/{pending}?lang=en")
    assert page.status_code == 404 and "not in a signed checkpoint yet" in page.text


def test_a_browser_at_an_address_that_is_no_page_gets_a_page(town: Town) -> None:
    client = TestClient(create_app(town.services, run_scheduler=False))
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for lang, words in (("en", "No such page"), ("zh", "没有这个页面")):
        page = client.get(f"/no-such-page?lang={lang}", headers=browser)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert words in page.text and 'href="/"' in page.text and "not_found" in page.text
    # Every page names its icon, so a browser does not ask for /favicon.ico (a 404 a page).
    assert '<link rel="icon" href="/static/icon.svg"' in page.text
    icon = client.get("/static/icon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    # The API's and the log's clients, and anyone not asking for HTML, read the JSON refusal.
    for path, accept in (("/api/v1/no-such-route", browser["Accept"]),
                         ("/log/no-such-tile", browser["Accept"]), ("/no-such-page", "*/*")):  # fmt: skip
        answer = client.get(path, headers={"Accept": accept})
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), path


def test_person_receipts_download_as_tlog_proof() -> None:
    from pathlib import Path

    import healthcode.web

    template = Path(healthcode.web.__file__).parent / "templates" / "person.html"
    assert 'download="receipt-{{ change.log_index }}.tlog-proof"' in template.read_text()


def test_the_log_page_names_entry_kinds_in_both_languages(town: Town) -> None:
    town.test(town.person("pub"), town.clock.now(), "positive")
    town.services.sequencer.integrate(now=town.clock.now())
    client = TestClient(create_app(town.services, run_scheduler=False))
    english = client.get("/public/log?lang=en").text
    assert 'Status change <code class="small">status_change</code>' in english
    chinese = client.get("/public/log?lang=zh").text
    assert '健康码状态变更 <code class="small">status_change</code>' in chinese


def test_the_log_pages_entry_box_says_open_not_in_progress_in_chinese(town: Town) -> None:
    """The box's button shared the msgid "Open" with an appeal's or a case's status, whose
    Chinese is 处理中 ("in progress"): the button read 处理中."""
    town.test(town.person("pub"), town.clock.now(), "negative")
    town.services.sequencer.integrate(now=town.clock.now())
    client = TestClient(create_app(town.services, run_scheduler=False))
    page = client.get("/public/log?lang=zh").text
    box = page[page.index('<form class="inline"') :]
    box = box[: box.index("</form>")]
    assert "处理中" not in box and re.search(r"<button[^>]*>打开[^<]*</button>", box)
    assert "按序号打开条目" in box
