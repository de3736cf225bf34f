"""The auditor's cohort test page: a pasted or uploaded list gives the same figures as the API,
in Chinese and English, and bad input gets its message and changes nothing."""

from fastapi.testclient import TestClient

from tests.counting import counts
from tests.e2e.test_cohort_http import depositors_city
from tests.town import Town


def _auditor(town: Town, client: TestClient) -> None:
    login = client.get(f"/staff/login?token={town.token('auditor-1', 'auditor')}",
                       follow_redirects=False)  # fmt: skip
    assert login.status_code == 303


def test_an_uploaded_list_is_tested_against_matched_controls(
    town: Town,
    client: TestClient,
) -> None:
    people = depositors_city(town, client)
    _auditor(town, client)
    depositors = people["dep_contacts"] + people["dep_none"]
    page = client.get("/oversight/cohort")
    assert page.status_code == 200 and "群组检验" in page.text
    answer = client.post(
        "/oversight/cohort?lang=en",
        data={"persons": "\n".join(depositors[:8]), "window_days": "30"},
        files={"file": ("depositors.txt", ", ".join(depositors[8:]).encode(), "text/plain")},
    )
    assert answer.status_code == 200, answer.text
    assert "Exact p-value: flagged more often" in answer.text
    assert "15" in answer.text  # all fifteen depositors matched
    assert not any(key in answer.text for key in depositors)


def test_a_malformed_list_is_refused_with_its_message(
    town: Town,
    client: TestClient,
) -> None:
    _auditor(town, client)
    before = counts(town.services.db)
    answer = client.post("/oversight/cohort", data={"persons": "not-a-key", "window_days": "30"})
    assert answer.status_code == 422 and "请求格式不正确" in answer.text
    assert {k: v for k, v in counts(town.services.db).items() if k != "refusals"} == {
        k: v for k, v in before.items() if k != "refusals"
    }
    signed_out = TestClient(client.app).get("/oversight/cohort")
    assert signed_out.status_code == 401


def test_a_refused_list_stays_in_the_form_and_an_infinite_odds_ratio_reads_so(
    town: Town,
    client: TestClient,
) -> None:
    people = depositors_city(town, client)
    _auditor(town, client)
    depositors = people["dep_contacts"] + people["dep_none"]
    pasted = "\n".join(depositors[:5])
    small = client.post("/oversight/cohort?lang=en", data={"persons": pasted, "window_days": "30"})
    assert small.status_code == 422 and "Too few of the listed persons" in small.text
    assert f">{pasted}</textarea>" in small.text  # to add to, not to paste again
    answer = client.post(
        "/oversight/cohort?lang=en", data={"persons": "\n".join(depositors), "window_days": "30"}
    )
    report = client.post(
        "/api/v1/oversight/cohort",
        json={"persons": depositors, "window_days": 30},
        headers={"Authorization": f"Bearer {town.token('auditor-1', 'auditor')}"},
    ).json()
    kinds = [report[test]["odds_ratio_kind"] for test in ("red_or_yellow", "red")]
    assert "infinite" in kinds, kinds  # the depositors are flagged, no control is
    assert ">inf<" not in answer.text and ">∞<" in answer.text
