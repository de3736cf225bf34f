"""The console's form to propose a source key change: an official of the source's authority
proposes in either language, a refusal brings the form back as typed, and the change is shown
pending with where a supervisor co-signs it (docs/api.md, "Source keys")."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from healthcode.web.app import create_app
from tests.counting import counts, refusal_codes
from tests.e2e.test_source_keys_http import NEW_PUBLIC
from tests.town import Town


def staff_client(town: Town, staff_id: str, role: str) -> TestClient:
    client = TestClient(create_app(town.services, run_scheduler=False))
    client.cookies.set("hc_staff", town.token(staff_id, role))
    return client


def without_refusals(found: dict[str, int]) -> dict[str, int]:
    return {table: n for table, n in found.items() if table != "refusals"}


def test_an_official_proposes_a_key_change_from_the_console(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    town.services.places.scan(  # registers the server's own scan source, which has no form
        town.person("bob"), town.services.places.current_code("station", now).text, now
    )
    official = staff_client(town, "zz-off-1", "official")
    zh = official.get("/official").text
    assert 'action="/official/key-changes"' in zh and "为来源提出新密钥" in zh
    assert 'value="lab-1"' in zh and 'value="scans.zz-health"' not in zh
    assert 'name="kinds" value="vaccination"' in zh and "疫苗接种" in zh
    assert "Propose a new key for a source" in official.get("/official?lang=en").text
    official.get("/official?lang=zh")  # (the choice is kept: back to Chinese)

    before = counts(town.services.db)
    typed = {
        "source_id": "cdc-1",
        "public_key": "not-a-key",
        "kinds": ["close_contact", "recovery"],
    }
    bad = official.post("/official/key-changes", data=typed)
    assert bad.status_code == 422 and "公钥须为 32 字节 Ed25519 原始公钥" in bad.text
    # The form comes back as typed: the source chosen, the key, the kinds ticked.
    assert '<option value="cdc-1" selected>' in bad.text and 'value="not-a-key"' in bad.text
    assert 'value="close_contact" checked' in bad.text and 'value="recovery" checked' in bad.text
    assert 'value="vaccination" checked' not in bad.text
    # Another authority's official: refused, the reason in the page's language (a Detail).
    other = staff_client(town, "sh-off-1", "official")
    foreign = other.post("/official/key-changes", data={**typed, "public_key": NEW_PUBLIC})
    assert foreign.status_code == 403 and "该来源属于其他机构" in foreign.text
    english = other.post(
        "/official/key-changes?lang=en", data={**typed, "public_key": NEW_PUBLIC}
    ).text
    assert "the source belongs to another authority" in english
    assert without_refusals(counts(town.services.db)) == without_refusals(before)
    assert refusal_codes(town.services.db)[-3:] == [
        "source_key.invalid_key", "auth.forbidden", "auth.forbidden",
    ]  # fmt: skip

    kinds = ["test_result", "recovery", "vaccination"]
    proposed = official.post(
        "/official/key-changes",
        data={"source_id": "lab-1", "public_key": f" {NEW_PUBLIC}\n", "kinds": kinds},
        follow_redirects=False,
    )
    assert proposed.status_code == 303
    [change] = town.services.source_keys.of_authority("zz-health", now=now, state="pending")
    assert (change.source_id, change.proposed_by, sorted(change.kinds)) == (
        "lab-1", "zz-off-1", sorted(kinds))  # fmt: skip
    assert proposed.headers["location"] == f"/official?proposed={change.id}#proposed"
    shown = official.get(proposed.headers["location"]).text
    assert f"已提出密钥变更：来源 lab-1 的变更 {change.id}。" in html.unescape(shown)
    assert "须由本机构中您以外的一名主管" in shown and f'<tr id="{change.id}">' in shown
    en = official.get(f"/official?proposed={change.id}&lang=en").text
    assert f"Key change proposed: {change.id} for source lab-1." in en
    assert "A supervisor of your authority other than you co-signs it" in en
    # A second proposal for the source while this one waits: refused, the form kept.
    again = official.post("/official/key-changes", data={"source_id": "lab-1",
                                                         "public_key": NEW_PUBLIC})  # fmt: skip
    # (the English chosen above is kept)
    assert again.status_code == 409 and "A key change of this source already awaits" in again.text
    assert f'value="{NEW_PUBLIC}"' in again.text

    # Where the notice says: a supervisor's console lists it with the co-sign form.
    supervisor = staff_client(town, "zz-sup-1", "supervisor")
    queue = supervisor.get("/official").text
    assert f'action="/official/key-changes/{change.id}/cosign"' in queue
    done = supervisor.post(f"/official/key-changes/{change.id}/cosign", follow_redirects=False)
    assert done.status_code == 303
    # Once co-signed the link shows no pending change any more.
    assert "Key change proposed" not in official.get(proposed.headers["location"]).text
