"""The official's console and the hotline view, as pages in both languages."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from healthcode.domain.designations import RiskLevel
from healthcode.services.orders import Actor
from healthcode.web.app import create_app
from tests.counting import counts, refusal_codes
from tests.town import ERQI, PUDONG, Town, days


def staff_client(town: Town, staff_id: str, role: str) -> TestClient:
    client = TestClient(create_app(town.services, run_scheduler=False))
    client.cookies.set("hc_staff", town.token(staff_id, role))
    return client


def test_console_issues_orders_and_supervisors_cosign(town: Town) -> None:
    town.register_staff()
    people = [town.person(f"c{n}", home=ERQI) for n in range(21)]
    lines = []
    for person in people:
        record = town.record(
            "close_contact",
            person,
            town.clock.now() - timedelta(hours=1),
            area=ERQI,
            case_ref="case-9",
        )
        town.submit("cdc-1", [record])
        lines.append(f"{person} cdc-1/{record['record_id']}")
    official = staff_client(town, "zz-sup-1", "supervisor")
    page = official.get("/official")
    assert page.status_code == 200 and "签发命令" in page.text
    form = {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine", "persons": "\n".join(lines),
            "valid_until": (town.clock.now() + days(10)).isoformat()}  # fmt: skip
    assert official.post("/official/orders", data=form, follow_redirects=False).status_code == 303
    assert {town.status(p) for p in people} == {("yellow", "close-contact")}  # 21 people: pending
    other = staff_client(town, "zz-sup-2", "supervisor")
    queue = other.get("/official?lang=en").text
    assert "Co-sign queue" in queue and "Co-sign</button>" in queue
    pending = town.services.orders.of_authority(
        Actor("zz-sup-2", "supervisor", "zz-health", frozenset()), town.clock.now(), "pending"
    )
    request_id = pending[0].request_id
    assert (
        other.post(f"/official/orders/{request_id}/cosign", follow_redirects=False).status_code
        == 303
    )
    assert {town.status(p) for p in people} == {("red", "quarantine-order")}
    bad = official.post("/official/orders", data={**form, "persons": f"{people[0]} lab-1/none"})
    assert bad.status_code == 422 and "引用的证据不存在" in bad.text


def test_hotline_view_records_the_look(town: Town) -> None:
    town.register_staff()
    person = town.person("热线来电", home=ERQI)
    town.test(person, town.clock.now(), "positive")
    hotline = staff_client(town, "hl-erqi", "hotline")
    page = hotline.get(f"/hotline?person={person}&purpose=hotline_request&lang=en")
    assert (
        page.status_code == 200
        and "Red code" in page.text
        and "Zhengzhou Health Commission" in page.text
    )
    assert [a.purpose for a in town.services.access.of_person(person)] == ["hotline_request"]
    elsewhere = staff_client(town, "hl-pudong", "hotline").get(
        f"/hotline?person={person}&purpose=hotline_request"
    )
    assert elsewhere.status_code == 403 and "红码" not in elsewhere.text
    assert (
        TestClient(create_app(town.services, run_scheduler=False)).get("/hotline").status_code
        == 401
    )


def test_console_designates_and_refuses_outside_the_jurisdiction(town: Town) -> None:
    town.register_staff()
    official = staff_client(town, "zz-off-1", "official")
    form = {"area": ERQI, "level": "high", "valid_from": "2026-05-31T08:00",
            "valid_to": "2026-06-07T08:00", "case_count": "4", "basis": "4 cases at the station"}  # fmt: skip
    made = official.post("/official/designations", data=form, follow_redirects=False)
    assert made.status_code == 303
    [designation] = town.services.designations.all()
    assert (designation.area, designation.level, designation.case_count) == (ERQI, "high", 4)
    assert designation.valid_from.isoformat() == "2026-05-31T00:00:00+00:00"  # 08:00 in Shanghai
    assert "high risk" in official.get("/public/designations?lang=en").text
    before = counts(town.services.db)
    outside = official.post("/official/designations?lang=en", data={**form, "area": PUDONG})
    assert outside.status_code == 403
    malformed = official.post("/official/designations?lang=en", data={**form, "level": "extreme"})
    assert malformed.status_code == 422
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db)[-2:] == [
        "designation.outside_jurisdiction", "request.malformed",
    ]  # fmt: skip


def contacts(town: Town, n: int) -> tuple[list[str], str]:
    """``n`` close contacts in Erqi, and the order form's lines naming them with their evidence."""
    people = [town.person(f"contact{i}", home=ERQI) for i in range(n)]
    lines = []
    for person in people:
        record = town.record("close_contact", person, town.clock.now() - timedelta(hours=1),
                             area=ERQI, case_ref="case-9")  # fmt: skip
        town.submit("cdc-1", [record])
        lines.append(f"{person} cdc-1/{record['record_id']}")
    return people, "\n".join(lines)


def one_order_form(town: Town, valid_until: str) -> tuple[TestClient, dict[str, str]]:
    """An official's console, and its order form for one close contact until ``valid_until``
    (as typed: no zone)."""
    _, lines = contacts(town, 1)
    form = {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
            "persons": lines, "valid_until": valid_until}  # fmt: skip
    return staff_client(town, "zz-off-1", "official"), form


def test_the_order_form_reads_a_time_without_a_zone_in_the_pages_zone(town: Town) -> None:
    town.register_staff()
    official, form = one_order_form(town, "2026-06-05T15:00")
    assert official.post("/official/orders", data=form, follow_redirects=False).status_code == 303
    [order] = town.services.orders.of_authority(
        Actor("zz-off-1", "official", "zz-health", frozenset()), town.clock.now()
    )
    # 15:00 in Shanghai, as the designation form and the appeal's ends_at read it.
    assert order.valid_until.astimezone(UTC).isoformat() == "2026-06-05T07:00:00+00:00"


def test_a_refused_order_gives_its_limit_in_the_pages_language(town: Town) -> None:
    town.register_staff()
    official, form = one_order_form(town, "2026-06-30T08:00")
    zh = official.post("/official/orders?lang=zh", data=form)
    assert zh.status_code == 422 and "命令期限超过" in zh.text and "at most" not in zh.text
    assert "（最多 14 天）" in zh.text
    en = official.post("/official/orders?lang=en", data=form)
    assert en.status_code == 422 and "runs longer than policy allows" in en.text
    assert "(at most 14 days)" in en.text
    # The record an official named that is not there, in either language.
    form["persons"] = form["persons"].split()[0] + " cdc-1/no-such-record"
    form["valid_until"] = "2026-06-05T15:00"
    unknown = official.post("/official/orders?lang=zh", data=form)
    assert unknown.status_code == 422 and "（cdc-1/no-such-record）。" in unknown.text
    english = official.post("/official/orders?lang=en", data=form)
    assert "(cdc-1/no-such-record)" in english.text


def test_staff_of_another_role_are_told_they_may_not_not_to_sign_in(town: Town) -> None:
    town.register_staff()
    before = counts(town.services.db)
    for staff_id, role, path in (("hl-erqi", "hotline", "/official"),
                                 ("auditor-1", "auditor", "/official"),
                                 ("auditor-1", "auditor", "/official/appeals"),
                                 ("zz-off-1", "official", "/oversight")):  # fmt: skip
        client = staff_client(town, staff_id, role)
        zh = client.get(path)
        assert zh.status_code == 403, (role, path)
        assert "无权" in zh.text and "auth.forbidden" in zh.text and "登录链接无效" not in zh.text
        en = client.get(path + "?lang=en")
        assert en.status_code == 403 and "You are signed in" in en.text
    posted = staff_client(town, "hl-erqi", "hotline").post("/official/orders", data={})
    assert posted.status_code == 403 and "auth.forbidden" in posted.text
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db)[-1:] == ["auth.forbidden"]
    # No session, or one that expired: the sign-in page, as before.
    anonymous = TestClient(create_app(town.services, run_scheduler=False))
    assert anonymous.get("/official").status_code == 401
    anonymous.cookies.set("hc_staff", town.token("zz-off-1", "official", hours=-1))
    assert anonymous.get("/official").status_code == 401


def test_the_hotline_offers_its_purposes_and_answers_each_errors_status(town: Town) -> None:
    town.register_staff()
    person = town.person("来电人", home=ERQI)
    hotline = staff_client(town, "hl-erqi", "hotline")
    page = hotline.get("/hotline?lang=en")
    assert 'value="hotline_request"' in page.text and "identity_card_check" not in page.text
    unknown = hotline.get("/hotline?person=nobody&purpose=hotline_request&lang=en")
    assert unknown.status_code == 404 and "No such person." in unknown.text
    venue_only = hotline.get(f"/hotline?person={person}&purpose=identity_card_check&lang=zh")
    assert venue_only.status_code == 422 and "用途" in venue_only.text
    assert "one of" not in venue_only.text  # the English detail is not on the Chinese page
    assert town.services.access.of_person(person) == []


def test_the_hotline_shows_each_orders_period_and_state(town: Town) -> None:
    town.register_staff()
    [person], lines = contacts(town, 1)
    official = staff_client(town, "zz-off-1", "official")
    form = {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
            "persons": lines, "valid_until": "2026-06-05T08:00"}  # fmt: skip
    assert official.post("/official/orders", data=form, follow_redirects=False).status_code == 303
    town.designate(ERQI, RiskLevel.HIGH, town.clock.now() - days(1), None, id="des-erqi")
    town.visit(person, town.clock.now() - timedelta(hours=2))
    hotline = staff_client(town, "hl-erqi", "hotline")
    url = f"/hotline?person={person}&purpose=hotline_request"
    page = hotline.get(url + "&lang=en").text
    assert "2026-06-01 08:00 – 2026-06-05 08:00 · in force until 2026-06-05 08:00" in page
    # Its time run out, the order is shown ended, and when; the designation that now decides
    # the colour is shown with its period and the authority that drew it.
    town.clock.advance(days=5)
    hotline = staff_client(town, "hl-erqi", "hotline")
    page = hotline.get(url + "&lang=en").text
    assert "2026-06-01 08:00 – 2026-06-05 08:00 · ended 2026-06-05 08:00" in page
    assert "in force until" not in page
    assert "<code>des-erqi</code> · high risk · 2026-05-31 08:00 – open-ended" in page
    assert "Designated by Zhengzhou Health Commission <small><code>zz-health</code></small>" in page
    zh = hotline.get(url + "&lang=zh").text
    assert (
        "已于 2026-06-05 08:00 结束" in zh
        and "划定机构 郑州市卫健委 <small><code>zz-health</code></small>" in zh
    )


def test_a_refused_order_comes_back_with_the_form_as_typed(town: Town) -> None:
    town.register_staff()
    official, form = one_order_form(town, "2026-06-05T15:00")
    form = {**form, "kind": "home_health_monitoring", "legal_basis": "ephr-art-44-monitoring",
            "persons": form["persons"] + "\n" + "0" * 32 + " cdc-1/none"}  # fmt: skip
    refused = official.post("/official/orders?lang=en", data=form)
    assert refused.status_code == 422 and "cdc-1/none" in refused.text
    # The official corrects the one wrong line, not the whole request typed again.
    assert f">{form['persons']}</textarea>" in refused.text
    assert 'value="2026-06-05T15:00"' in refused.text
    assert '<option value="home_health_monitoring" selected>' in refused.text
    assert '<option value="ephr-art-44-monitoring" selected>' in refused.text


def pending_request(town: Town) -> tuple[TestClient, str]:
    """An official's console, and the request it filed from its form for 21 close contacts:
    one over the bulk threshold, pending a supervisor."""
    _, lines = contacts(town, 21)
    form = {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
            "persons": lines, "valid_until": "2026-06-05T08:00"}  # fmt: skip
    official = staff_client(town, "zz-off-1", "official")
    assert official.post("/official/orders", data=form, follow_redirects=False).status_code == 303
    [request_id] = {
        o.request_id
        for o in town.services.orders.of_authority(
            Actor("zz-sup-1", "supervisor", "zz-health", frozenset()), town.clock.now(), "pending"
        )
    }
    return official, request_id


def test_the_cosign_queue_shows_each_request_once_with_its_people(town: Town) -> None:
    town.register_staff()
    _, request_id = pending_request(town)
    queue = staff_client(town, "zz-sup-1", "supervisor").get("/official?lang=en").text
    # One co-signature puts all 21 in force: one row, one button, and the number it stands for.
    assert queue.count(f'action="/official/orders/{request_id}/cosign"') == 1
    assert '<td class="people">21</td>' in queue
    assert "Art. 41 (quarantine of close contacts" in queue


def test_each_staff_page_links_to_the_others_of_its_role(town: Town) -> None:
    town.register_staff()
    # A supervisor signs in on the appeals queue; the co-sign queue is on the console.
    supervisor = staff_client(town, "zz-sup-1", "supervisor")
    for path in ("/official/appeals", "/official", "/hotline"):
        page = supervisor.get(path + "?lang=en").text
        assert all(
            f'href="{other}"' in page for other in ("/official/appeals", "/official", "/hotline")
        ), path
        assert f'href="{path}" aria-current="page"' in page
    auditor = staff_client(town, "auditor-1", "auditor").get("/oversight?lang=zh").text
    assert 'href="/hotline"' in auditor and "查询人员" in auditor
    hotline = staff_client(town, "hl-erqi", "hotline").get("/hotline").text
    assert 'href="/official' not in hotline and 'href="/oversight' not in hotline


def test_times_typed_in_the_pages_zone_are_logged_as_the_self_check_rebuilds_them(
    town: Town,
) -> None:
    """The console reads a time without a zone in the pages' zone (+08:00); the log entry must
    hold the instant as the self-check rebuilds it from the stored row (UTC), or the next
    self-check (every start of the server) halts the log."""
    town.register_staff()
    official, form = one_order_form(town, "2026-06-05T15:00")
    assert official.post("/official/orders", data=form, follow_redirects=False).status_code == 303
    [order] = town.services.orders.of_authority(
        Actor("zz-off-1", "official", "zz-health", frozenset()), town.clock.now()
    )
    town.services.orders.end(
        Actor("zz-off-1", "official", "zz-health", frozenset({ERQI})), order.id,
        reason="shortened", ends_at=order.valid_until.astimezone(ZoneInfo("Asia/Shanghai"))
        - days(1), now=town.clock.now(),
    )  # fmt: skip
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems
