"""The auditors' pages, in Chinese and English: sign-in lands on /oversight; findings and
cases with their summaries, supporting records and steps; the form moves a case, a refused
step shows its message and writes nothing; other staff are told they may not (403)."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from healthcode.oversight.detectors.guardianships import GuardianReach
from healthcode.web.app import create_app
from tests.counting import counts
from tests.services.test_guardianship_oversight import people, record_all
from tests.services.test_oversight_cases import HandMade, finding, upheld_and_escalated
from tests.town import ERQI, Town, days


def signed_in(town: Town, staff_id: str, role: str) -> TestClient:
    client = TestClient(create_app(town.services, run_scheduler=False))
    landed = client.get(f"/staff/login?token={town.token(staff_id, role)}", follow_redirects=False)
    assert landed.status_code == 303
    return client


def test_an_auditor_works_a_case_from_the_pages(town: Town) -> None:
    town.register_staff()
    detector = HandMade(
        [finding(town, "venue:station", "evidence:scan-1/r7", "evidence:scan-1/r8")]
    )
    [case_id] = town.services.oversight.run(town.clock.now(), detectors=[detector]).new_cases
    client = TestClient(create_app(town.services, run_scheduler=False))
    landed = client.get(
        f"/staff/login?token={town.token('auditor-1', 'auditor')}", follow_redirects=False
    )
    assert (landed.status_code, landed.headers["location"]) == (303, "/oversight")

    zh = client.get("/oversight")
    assert zh.status_code == 200
    assert "独立监督" in zh.text and "检测器发现" in zh.text and "待处理" in zh.text
    assert "venue:station 异常" in zh.text and case_id in zh.text
    en = client.get("/oversight?lang=en").text
    assert "Detector finding" in en and "Open, awaiting an auditor" in en
    assert "venue:station stands out" in en and "Oversight changes no colour" in en

    page = client.get(f"/oversight/cases/{case_id}?lang=zh").text
    assert "支持记录" in page and "evidence:scan-1/r7" in page and "evidence:scan-1/r8" in page
    assert "推进案件" in page and 'value="investigating"' in page and 'value="referred"' not in page
    moved = client.post(
        f"/oversight/cases/{case_id}/steps",
        data={"status": "investigating", "note": "两条扫码来自同一设备"},
        follow_redirects=False,
    )
    assert (moved.status_code, moved.headers["location"]) == (303, f"/oversight/cases/{case_id}")
    page = client.get(f"/oversight/cases/{case_id}").text
    assert "调查中" in page and "两条扫码来自同一设备" in page and "auditor-1" in page

    before = counts(town.services.db)
    bad = client.post(
        f"/oversight/cases/{case_id}/steps?lang=en", data={"status": "open", "note": "back"}
    )
    assert bad.status_code == 409 and "cannot move there" in bad.text
    unconcluded = client.post(
        f"/oversight/cases/{case_id}/steps?lang=zh", data={"status": "closed"}
    )
    assert unconcluded.status_code == 422 and "结案必须写明结论" in unconcluded.text
    assert counts(town.services.db) == before
    closed = client.post(
        f"/oversight/cases/{case_id}/steps",
        data={"status": "closed", "note": "a busy station"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    page = client.get(f"/oversight/cases/{case_id}?lang=en").text
    assert "The case is closed." in page and "a busy station" in page
    # No form moves it (the header's sign-out form is on every signed-in page).
    assert f'action="/oversight/cases/{case_id}/steps"' not in page
    missing = client.get("/oversight/cases/case-none?lang=en")
    assert missing.status_code == 404 and "No such oversight case." in missing.text


def test_an_escalated_appeal_shows_on_the_case_page(town: Town) -> None:
    town.register_staff()
    upheld_and_escalated(town)
    client = signed_in(town, "auditor-1", "auditor")
    [view] = town.services.oversight.cases()
    page = client.get(f"/oversight/cases/{view.case.id}").text
    assert "提交监督的申诉" in page and view.case.appeal_id in page  # type: ignore[operator]
    assert "zz-health" in page and "evidence:cdc-1/" in page
    en = client.get(f"/oversight/cases/{view.case.id}?lang=en").text
    assert "Escalated appeal" in en and "Supporting records" in en


def test_other_staff_are_told_they_may_not(town: Town) -> None:
    town.register_staff()
    detector = HandMade([finding(town, "venue:station", "evidence:scan-1/r7")])
    [case_id] = town.services.oversight.run(town.clock.now(), detectors=[detector]).new_cases
    before = counts(town.services.db)
    for staff_id, role in (("zz-off-1", "official"), ("zz-sup-1", "supervisor"),
                           ("hl-erqi", "hotline")):  # fmt: skip
        client = signed_in(town, staff_id, role)
        # Signed in, with another role: forbidden (403), not asked to sign in again (401).
        assert client.get("/oversight").status_code == 403
        assert client.get(f"/oversight/cases/{case_id}").status_code == 403
        posted = client.post(
            f"/oversight/cases/{case_id}/steps", data={"status": "closed", "note": "no"}
        )
        assert posted.status_code == 403 and "venue:station" not in posted.text
        assert "auth.forbidden" in posted.text
    assert counts(town.services.db) == before


def test_detectors_are_named_in_each_language_with_their_code(town: Town) -> None:
    town.register_staff()
    bursts = replace(finding(town, "official:zz-off-1", "order:o1"), detector="act_bursts")
    detector = HandMade([bursts], name="act_bursts")
    [case_id] = town.services.oversight.run(town.clock.now(), detectors=[detector]).new_cases
    client = signed_in(town, "auditor-1", "auditor")
    # The title the registered detector carries (oversight/detectors/bursts.py), not a copy.
    for path in ("/oversight", f"/oversight/cases/{case_id}"):
        zh, en = client.get(path + "?lang=zh").text, client.get(path + "?lang=en").text
        assert "命令或风险区划定数量突增" in zh and "Bursts of orders" not in zh, path
        assert "Bursts of orders or designations" in en, path
        assert '<code class="small">act_bursts</code>' in zh + en, path


def test_public_statistics_name_each_detector_in_the_readers_language(town: Town) -> None:
    """/public/stats counted findings under the detectors' code names only (`act_bursts`),
    in the table and the chart, on the Chinese page too."""
    town.register_staff()
    bursts = replace(finding(town, "official:zz-off-1", "order:o1"), detector="act_bursts")
    town.services.oversight.run(town.clock.now(), detectors=[HandMade([bursts], name="act_bursts")])
    client = TestClient(create_app(town.services, run_scheduler=False))
    zh = client.get("/public/stats?lang=zh").text
    section = zh[zh.index('id="oversight"') :]
    assert "命令或风险区划定数量突增" in section and "Bursts of orders" not in section
    assert '<code class="small">act_bursts</code>' in section
    chart = section[section.index("<svg") : section.index("</svg>")]
    assert "命令或风险区划定数量突增" in chart
    en = client.get("/public/stats?lang=en").text
    assert "Bursts of orders or designations" in en[en.index('id="oversight"') :]


def test_a_findings_score_reads_the_same_on_the_list_and_its_case(town: Town) -> None:
    town.register_staff()
    # source_reach scores a share: 0.0063 is 0.63 % of the source's records, not nothing.
    small = finding(town, "source:cdc-1", "evidence:cdc-1/r1", score=0.0063)
    [case_id] = town.services.oversight.run(
        town.clock.now(), detectors=[HandMade([small])]
    ).new_cases
    client = signed_in(town, "auditor-1", "auditor")
    listed = client.get("/oversight?lang=en").text
    shown = client.get(f"/oversight/cases/{case_id}?lang=en").text
    assert "<td>0.0063</td>" in listed and "<dd>0.0063</dd>" in shown
    assert "<td>0.0</td>" not in listed


def test_an_unknown_status_filter_is_refused_not_ignored(town: Town) -> None:
    """`/oversight?status=bogus` showed every case as if filtered; it is refused (422) with the
    catalogue's message in the page's language, and the filter's links to choose again. The
    API twin refuses it as malformed, as any closed list."""
    town.register_staff()
    detector = HandMade([finding(town, "venue:station", "evidence:scan-1/r7")])
    [case_id] = town.services.oversight.run(town.clock.now(), detectors=[detector]).new_cases
    client = signed_in(town, "auditor-1", "auditor")
    assert '<table class="cases">' in client.get("/oversight?status=open").text
    for lang, says in (
        ("zh", "案件状态必须是待处理、调查中、已移交或已结案之一。"),
        ("en", "status is one of open, investigating, referred, closed."),
    ):
        page = client.get(f"/oversight?status=bogus&lang={lang}")
        assert page.status_code == 422 and says in page.text, lang
        assert '<table class="cases">' not in page.text  # no list passed off as filtered
        assert 'href="/oversight?status=closed"' in page.text
        assert '<a href="/oversight">' in page.text  # "All" is not marked as what is shown
    api = client.get(
        "/api/v1/oversight/cases?status=bogus",
        headers={"Authorization": f"Bearer {town.token('auditor-1', 'auditor')}"},
    )
    assert (api.status_code, api.json()["code"]) == (422, "request.malformed")
    assert case_id in client.get("/oversight").text


def test_a_guardian_of_many_is_shown_by_entry_with_its_guardianships(town: Town) -> None:
    """A ``guardianships`` finding on the case page: its title in each language, the guardian
    by an entry index, each guardianship by its entry, and no person key anywhere."""
    town.register_staff()
    broker = town.person("中介", home=ERQI)
    dependants = people(town, "储户", 7)
    indices = record_all(town, broker, dependants)
    now = town.clock.now() + days(1)
    [case_id] = town.services.oversight.run(now, detectors=[GuardianReach()]).new_cases
    client = signed_in(town, "auditor-1", "auditor")
    zh = client.get(f"/oversight/cases/{case_id}?lang=zh").text
    en = client.get(f"/oversight/cases/{case_id}?lang=en").text
    assert "一人监护多人" in zh and "one guardian of many" in en
    assert f"guardian:{indices[0]}" in en and f"log entry {indices[0]}" in en
    assert all(
        f'<a href="/public/log/{i}"><code>guardianship:{i}</code></a>' in en for i in indices
    )
    assert not any(key in zh + en for key in [broker, *dependants])
