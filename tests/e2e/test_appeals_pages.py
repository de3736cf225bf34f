"""Appeals through the HTTP API and the pages (invariant 8, A5, A7): bad input refused with a
stable code and nothing written; no condition anywhere; the person's and the official's pages;
the public statistics."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.tokens import SIGN_IN_AUDIENCE
from healthcode.store.tables import metadata
from tests.e2e.appeal_steps import (
    answer,
    bearer,
    contact,
    file,
    lab_result,
    mine,
    quarantine,
    refused_without_trace,
    self_check_ok,
)
from tests.town import ERQI, Town

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "healthcode" / "web" / "templates"
DEMANDS = re.compile(r"condition|pledge|promise|undertak", re.I)


# --- bad input -------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_stable_code_and_nothing_written(
    town: Town, client: TestClient
) -> None:
    person, other = town.person("a", home=ERQI), town.person("b", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    evidence = lab_result(town, person, "positive")
    others = lab_result(town, other, "positive")
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there").json()
    cases: list[tuple[Callable[[], Any], str, int]] = [
        # someone other than the person or their guardian
        (lambda: file(client, town, other, target="evidence", ref=evidence, ground="not_mine",
                      on_behalf_of=person), "appeal.not_guardian", 403),
        (lambda: client.post("/api/v1/me/appeals", json={"target": "colour", "ground": "not_mine"},
                             headers=bearer(town, "hl-erqi", "hotline")), "auth.invalid_token", 401),
        # an order or evidence that is not theirs (or does not exist: the same answer)
        (lambda: file(client, town, other, target="order", ref=order_id, ground="not_there"),
         "appeal.not_theirs", 404),
        (lambda: file(client, town, other, target="evidence", ref=evidence, ground="not_mine"),
         "appeal.not_theirs", 404),
        (lambda: file(client, town, other, target="order", ref="ord-nope", ground="not_there"),
         "appeal.not_theirs", 404),
        # an official of another authority, or no official at all
        (lambda: answer(client, town, appeal["id"], "sh-off-1", outcome="overturned"),
         "appeal.wrong_authority", 403),
        (lambda: client.post(f"/api/v1/appeals/{appeal['id']}/answer", json={"outcome": "overturned"},
                             headers=bearer(town, "hl-erqi", "hotline")), "auth.forbidden", 403),
        # upheld without evidence, or with someone else's
        (lambda: answer(client, town, appeal["id"], outcome="upheld"), "appeal.evidence_missing", 422),
        (lambda: answer(client, town, appeal["id"], outcome="upheld", evidence=[others]),
         "appeal.citation_invalid", 422),
        (lambda: answer(client, town, appeal["id"], outcome="overturned", evidence=[evidence]),
         "appeal.answer_invalid", 422),
        # grounds from the closed list; only `other` carries a text
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="other"),
         "appeal.ground_invalid", 422),
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="not_mine",
                      text="hello"), "appeal.ground_invalid", 422),
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="bribe"),
         "request.malformed", 422),
        (lambda: file(client, town, person, target="order", ref=order_id, ground="not_mine"),
         "appeal.duplicate", 409),
        (lambda: client.post(f"/api/v1/me/appeals/{appeal['id']}/escalate",
                             headers=bearer(town, person)), "appeal.not_upheld", 409),
        (lambda: client.get(f"/api/v1/me/appeals/{appeal['id']}", headers=bearer(town, other)),
         "appeal.not_found", 404),
        (lambda: answer(client, town, "apl-none", outcome="overturned"), "appeal.not_found", 404),
        # extra fields: a condition, a pledge
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="not_mine",
                      condition="sign a pledge"), "request.malformed", 422),
        (lambda: answer(client, town, appeal["id"], outcome="overturned",
                        pledge="will not petition"), "request.malformed", 422),
    ]  # fmt: skip
    for call, code, http_status in cases:
        refused_without_trace(town, call, code, http_status)
    assert mine(client, town, person, appeal["id"])["status"] == "open"
    self_check_ok(town)


# --- A7: no condition anywhere ---------------------------------------------------------------


def test_a7_no_api_page_or_model_carries_a_condition(town: Town, client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    properties = {
        (name, prop) for name, schema in schemas.items() for prop in schema.get("properties", {})
    }
    assert {"AppealIn", "AnswerIn", "AppealOut"} <= set(schemas)
    assert [p for p in properties if DEMANDS.search(p[1])] == []
    assert set(schemas["AnswerIn"]["properties"]) == {"outcome", "evidence", "ends_at"}
    assert schemas["AnswerIn"]["additionalProperties"] is False
    assert schemas["AppealIn"]["additionalProperties"] is False
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            names = [p["name"] for p in operation.get("parameters", [])]
            assert not [n for n in names if DEMANDS.search(n)], path
    outcomes = schemas["Outcome"]["enum"]
    assert outcomes == ["upheld", "overturned", "corrected"]
    for template in TEMPLATES.glob("*.html"):
        assert not DEMANDS.search(template.read_text()), template.name
    columns = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
    ]
    assert not [c for c in columns if DEMANDS.search(c)]
    for model in (AppealRequest, Answer):
        assert not [f for f in model.__dataclass_fields__ if DEMANDS.search(f)]
    # An attempt to attach one is refused whole, on filing and on answering.
    person = town.person("p", home=ERQI)
    evidence = lab_result(town, person, "positive")
    for extra in ("condition", "pledge", "promise", "undertaking", "conditions"):
        refused_without_trace(
            town, lambda extra=extra: file(client, town, person, target="evidence", ref=evidence,
                                           ground="not_mine", **{extra: "no petitions"}),
            "request.malformed", 422,
        )  # fmt: skip
    appeal = file(client, town, person, target="evidence", ref=evidence, ground="not_mine").json()
    for extra in ("condition", "pledge", "promise", "undertaking"):
        refused_without_trace(
            town, lambda extra=extra: answer(client, town, appeal["id"], outcome="overturned",
                                             **{extra: "will not go to relevant departments"}),
            "request.malformed", 422,
        )  # fmt: skip
    for outcome in ("conditional", "pledge_signed", "upheld_if_pledge"):
        refused_without_trace(
            town, lambda outcome=outcome: answer(client, town, appeal["id"], outcome=outcome),
            "request.malformed", 422,
        )  # fmt: skip


# --- pages -----------------------------------------------------------------------------------


def login(client: TestClient, town: Town, person: str) -> None:
    token = town.services.tokens.mint(
        person, role="person", audience=SIGN_IN_AUDIENCE, now=town.clock.now(),
        ttl=timedelta(hours=1),
    )  # fmt: skip
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303


def test_the_person_page_shows_the_appeal_its_holder_time_left_outcome_and_receipts(
    town: Town, client: TestClient
) -> None:
    person = town.person("王小明", home=ERQI)
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    login(client, town, person)
    form = client.get("/me/appeals").text
    assert f'value="order:{order_id}"' in form and 'value="colour"' in form
    bad = client.post("/me/appeals", data={"item": "colour", "ground": "other"})
    assert bad.status_code == 422 and "只有“其他”理由附带简短说明" in bad.text
    assert (
        "（“其他”理由须填写 1 至 280 个字符的说明）。" in bad.text and "needs" not in bad.text
    )  # why, in zh
    filed = client.post(
        "/me/appeals", data={"item": f"order:{order_id}", "ground": "not_there"},
        follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 303
    [appeal] = client.get("/api/v1/me/appeals", headers=bearer(town, person)).json()
    town.clock.advance(hours=1, minutes=30)
    zh = client.get("/me").text
    assert appeal["id"] in zh and "我没有去过那里" in zh
    assert "郑州市卫健委" in zh and "22 小时 30 分钟" in zh and "正由负责机构处理" in zh
    en = client.get("/me?lang=en").text
    assert "Zhengzhou Health Commission" in en and "22 h 30 min" in en
    assert f"/api/v1/me/appeals/{appeal['id']}/receipts/{appeal['receipts'][0]['log_index']}" in en
    answer(client, town, appeal["id"], outcome="upheld", evidence=[evidence])
    en = client.get("/me?lang=en").text
    assert "Upheld" in en and evidence in en and "answered by official" in en and "zz-off-1" in en
    assert en.count(f"/api/v1/me/appeals/{appeal['id']}/receipts/") == 2
    assert "Escalate to independent oversight" in en
    escalated = client.post(f"/me/appeals/{appeal['id']}/escalate", follow_redirects=False)
    assert escalated.status_code == 303
    zh = client.get("/me/appeals?lang=zh").text
    assert "独立监督机构" in zh and zh.count(f"/api/v1/me/appeals/{appeal['id']}/receipts/") == 3
    # Another person's session sees none of it.
    client.cookies.clear()
    assert client.get("/me/appeals").status_code == 401
    self_check_ok(town)


def test_the_officials_queue_page_sorted_by_deadline(town: Town, client: TestClient) -> None:
    person = town.person("queue", home=ERQI)
    evidence = lab_result(town, person, "positive")
    by_evidence = file(client, town, person, target="evidence", ref=evidence, ground="not_mine")
    town.clock.advance(hours=1)
    order_id = quarantine(town, client, person, contact(town, person))
    by_order = file(client, town, person, target="order", ref=order_id, ground="not_there")
    first, second = by_order.json()["id"], by_evidence.json()["id"]  # 24 h left, then 47 h
    api = client.get("/api/v1/appeals", headers=bearer(town, "zz-off-1", "official")).json()
    assert [a["id"] for a in api] == [first, second]
    assert client.get("/official/appeals").status_code == 401
    staff_token = town.token("zz-off-1", "official")
    assert client.get("/staff/login?token=nonsense").status_code == 401
    signed_in = client.get(f"/staff/login?token={staff_token}", follow_redirects=False)
    assert signed_in.status_code == 303 and "httponly" in signed_in.headers["set-cookie"].lower()
    page = client.get("/official/appeals?lang=en").text
    assert page.index(first) < page.index(second)
    assert "24 h 0 min" in page and "47 h 0 min" in page and "Appeals to answer" in page
    done = client.post(
        f"/official/appeals/{first}/answer", data={"outcome": "overturned"}, follow_redirects=False
    )
    assert done.status_code == 303
    refused = client.post(f"/official/appeals/{second}/answer", data={"outcome": "upheld"})
    assert refused.status_code == 422 and "must cite the evidence" in refused.text
    page = client.get("/official/appeals?lang=zh").text
    assert first not in page and second in page and "待答复的申诉" in page
    self_check_ok(town)


def test_public_statistics_suppress_small_counts_and_give_times_to_answer(
    town: Town, client: TestClient
) -> None:
    people = [town.person(f"s{n}", home=ERQI) for n in range(11)]
    appeal_ids = []
    for person in people:
        ref = lab_result(town, person, "positive")
        appeal_ids.append(
            file(client, town, person, target="evidence", ref=ref, ground="not_mine").json()["id"]
        )
    start = town.clock.now()
    for hours, appeal_id in enumerate(appeal_ids[:10], start=1):
        town.clock.set(start + timedelta(hours=hours))
        assert answer(client, town, appeal_id, outcome="overturned").status_code == 200
    stats = client.get("/api/v1/stats/appeals").json()  # public: no token
    zz = next(a for a in stats["authorities"] if a["authority_id"] == "zz-health")
    assert (zz["filed"], zz["overturned"], zz["answered"], zz["open"], zz["lapsed"]) == (
        11, 10, 10, "<10", "<10",
    )  # fmt: skip
    assert zz["median_seconds_to_answer"] == 5.5 * 3600  # answers after 1, 2, ... 10 hours
    assert zz["p90_seconds_to_answer"] == 9 * 3600  # nearest rank
    sh = next(a for a in stats["authorities"] if a["authority_id"] == "sh-health")
    assert sh["filed"] == "<10" and sh["median_seconds_to_answer"] is None
    zh = client.get("/stats/appeals").text
    assert "申诉统计" in zh and "郑州市卫健委" in zh and "&lt;10" in zh and "5.5 小时" in zh
    en = client.get("/stats/appeals?lang=en").text
    assert "Appeal statistics" in en and "9.0 h" in en and "No answer in time" in en
    assert not any(person in en for person in people)


def test_a_guardian_sees_each_dependants_code_and_appeals_for_them_on_the_pages(
    town: Town, client: TestClient
) -> None:
    """A4: a parent whose child is red sees the child's own code, reason and pass on /me,
    and appeals for the child from the pages, not only through the API."""
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    stranger = town.person("路人", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    order_id = quarantine(town, client, child, contact(town, child))
    login(client, town, parent)
    zh = client.get("/me").text
    assert "您监护的人" in zh and "段小红" in zh and "红码" in zh
    assert f"/api/v1/me/dependants/{child}/pass?format=svg" in zh
    assert client.get(f"/api/v1/me/dependants/{child}/pass?format=svg").status_code == 200
    assert f'href="/me/appeals?for={child}#file-appeal"' in zh
    form = client.get(f"/me/appeals?for={child}&lang=en").text
    assert "Appeal for 段小红" in form and f'value="order:{order_id}"' in form
    assert f'name="on_behalf_of" value="{child}"' in form
    assert client.get(f"/me/appeals?for={stranger}").status_code == 403
    filed = client.post(
        "/me/appeals", data={"item": f"order:{order_id}", "ground": "not_there",
                             "on_behalf_of": child}, follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 303
    [appeal] = client.get("/api/v1/me/appeals", headers=bearer(town, child)).json()
    assert appeal["order_id"] == order_id and appeal["filed_by"] == parent
    assert "为 段小红" in client.get("/me?lang=zh").text


def test_an_appeals_receipts_download_as_tlog_proof_files_as_a_status_changes_do(
    town: Town, client: TestClient
) -> None:
    """tlog-proof says a proof SHOULD be stored as `.tlog-proof`; a person's status receipts
    are, and so must their appeal's be (they were `.txt`)."""
    person = town.person("王小明", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there").json()
    login(client, town, person)
    page = client.get("/me").text
    index = appeal["receipts"][0]["log_index"]
    assert f'download="receipt-{index}.tlog-proof"' in page
    assert ".txt" not in page


def test_the_ground_order_expired_against_evidence_is_refused_in_words_that_say_so(
    town: Town, client: TestClient
) -> None:
    """The form offers every ground for every item; “The order has expired” against evidence
    was refused as if the person had typed a text (“only ‘Other’ carries a text”)."""
    person = town.person("王小明", home=ERQI)
    evidence = contact(town, person)
    login(client, town, person)
    data = {"item": f"evidence:{evidence}", "ground": "order_expired"}
    zh = client.post("/me/appeals?lang=zh", data=data)
    assert zh.status_code == 422 and "“该命令已到期”只能针对命令提出" in zh.text
    en = client.post("/me/appeals?lang=en", data=data)
    assert "“The order has expired” is a ground against an order" in en.text


def test_a_refused_appeal_form_comes_back_as_it_was_sent(town: Town, client: TestClient) -> None:
    person = town.person("王小明", home=ERQI)
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    login(client, town, person)
    sent = {"item": f"order:{order_id}", "ground": "not_there", "text": "<b>我那天在上海</b>"}
    refused = client.post("/me/appeals?lang=zh", data=sent)
    assert refused.status_code == 422  # a text with a ground other than “Other”
    assert f'<option value="order:{order_id}" selected>' in refused.text
    assert '<option value="not_there" selected>' in refused.text
    assert refused.text.count(" selected>") == 2
    assert 'value="&lt;b&gt;我那天在上海&lt;/b&gt;"' in refused.text  # kept, and escaped
    fresh = client.get("/me/appeals").text
    assert " selected>" not in fresh and 'name="text" maxlength="280" value=""' in fresh


def test_a_code_nothing_holds_offers_nothing_to_appeal(town: Town, client: TestClient) -> None:
    person = town.person("李四", home=ERQI)
    login(client, town, person)
    for lang, words in (("zh", "没有可申诉的内容"), ("en", "There is nothing to appeal")):
        page = client.get(f"/me/appeals?lang={lang}").text
        assert words in page and 'action="/me/appeals"' not in page
    # Once a record counts against the code, the form offers the code and the record.
    evidence = contact(town, person)
    quarantine(town, client, person, evidence)
    page = client.get("/me/appeals").text
    assert 'id="nothing-to-appeal"' not in page and '<option value="colour">' in page
    assert f'value="evidence:{evidence}"' in page


def test_a_refused_answer_is_shown_on_its_appeal_with_what_was_typed(
    town: Town, client: TestClient
) -> None:
    person = town.person("typed", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    other = town.person("other", home=ERQI)
    lab_evidence = lab_result(town, other, "positive")
    queued = file(client, town, other, target="evidence", ref=lab_evidence, ground="not_mine")
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there")
    appeal_id, elsewhere = appeal.json()["id"], queued.json()["id"]
    signed_in = client.get(f"/staff/login?token={town.token('zz-off-1', 'official')}")
    assert signed_in.status_code == 200
    typed = {"outcome": "corrected", "evidence": "cdc-1/none", "ends_at": "2026-06-03T08:00"}
    refused = client.post(f"/official/appeals/{appeal_id}/answer?lang=en", data=typed)
    assert refused.status_code == 422
    # The reason sits in the refused appeal's own row, with the answer as typed; the other
    # appeal's form is as it was.
    form = refused.text[refused.text.index(f'action="/official/appeals/{appeal_id}/answer"') :]
    form = form[: form.index("</form>")]
    assert '<option value="corrected" selected>' in form
    assert 'value="cdc-1/none"' in form and 'value="2026-06-03T08:00"' in form
    row = refused.text[refused.text.index(f'<tr id="{appeal_id}">') :]
    assert row.index('role="alert"') < row.index("</form>")
    assert refused.text.count('role="alert"') == 1
    other_form = refused.text[
        refused.text.index(f'action="/official/appeals/{elsewhere}/answer"') :
    ]
    assert "selected" not in other_form[: other_form.index("</form>")]


def test_a_guardians_form_for_a_dependant_tags_the_dependants_appeals_not_their_own(
    town: Town, client: TestClient
) -> None:
    """On /me/appeals?for=<child> the list is still the guardian's: their own appeal carries
    no tag and the child's is named, as on /me (the tag compared with the form's person)."""
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    own = quarantine(town, client, parent, contact(town, parent))
    theirs = quarantine(town, client, child, contact(town, child))
    assert file(client, town, parent, target="order", ref=own, ground="not_there").is_success
    assert file(client, town, parent, target="order", ref=theirs, ground="not_there",
                on_behalf_of=child).is_success  # fmt: skip
    login(client, town, parent)

    def tags(page: str) -> dict[str, str]:
        """Each appeal's contested order -> the tag beside its title ("" for none)."""
        found = {}
        for article in page.split('<article class="appeal"')[1:]:
            title, facts = article.split("</h3>", 1)
            tag = re.search(r'<span class="tag">([^<]*)</span>', title)
            found[re.findall(r"<code>(ord-[^<]*)</code>", facts)[0]] = tag[1] if tag else ""
        return found

    expected = {own: "", theirs: "for 段小红"}
    assert tags(client.get("/me?lang=en").text) == expected
    assert tags(client.get(f"/me/appeals?for={child}&lang=en").text) == expected
