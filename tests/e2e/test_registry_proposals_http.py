"""A new source and a wider jurisdiction a registry load proposed, co-signed over HTTP and in
the console by a supervisor of the authority (docs/api.md, "Source keys")."""

from __future__ import annotations

from fastapi.testclient import TestClient

from healthcode.store import staff as staff_repo
from tests.e2e.test_source_keys_http import NEW_PUBLIC, bearer, refusal, staff_client
from tests.town import ZHENGZHOU, Town

LAB_2 = {"id": "lab-2", "authority": "zz-health", "name": "Lab two", "public_key": NEW_PUBLIC,
         "kinds": ["test_result"], "area": ZHENGZHOU}  # fmt: skip
WIDER = {"id": "zz-health", "zh": "郑州市卫健委", "en": "Zhengzhou Health Commission",
         "jurisdiction": [ZHENGZHOU, "310100"]}  # fmt: skip


def test_a_new_source_and_a_wider_jurisdiction_co_signed_over_http(
    client: TestClient, town: Town
) -> None:
    now = town.clock.now()
    loaded = town.services.registry.load({"sources": [LAB_2], "authorities": [WIDER]}, now=now)
    widening, source = loaded.proposed  # in the order of the file's sections
    official, sup = bearer(town, "zz-off-1", "official"), bearer(town, "zz-sup-1", "supervisor")
    [listed] = client.get("/api/v1/key-changes?state=pending", headers=official).json()
    assert (listed["source_id"], listed["previous_key"], listed["name"], listed["area"]) == (
        "lab-2", None, "Lab two", ZHENGZHOU
    )  # fmt: skip
    [pending] = client.get("/api/v1/jurisdiction-changes?state=pending", headers=official).json()
    assert (pending["id"], pending["jurisdiction"], pending["previous"]) == (
        widening.id, ["310100", ZHENGZHOU], [ZHENGZHOU]
    )  # fmt: skip
    cosign = f"/api/v1/jurisdiction-changes/{widening.id}/cosign"
    refusal(client.post(cosign, headers=official), 403, "auth.forbidden")
    refusal(client.post(cosign, headers=bearer(town, "sh-sup-1", "supervisor")), 403,
            "auth.forbidden")  # fmt: skip
    refusal(client.post("/api/v1/jurisdiction-changes/jur-none/cosign", headers=sup), 404,
            "jurisdiction_change.not_found")  # fmt: skip
    assert client.post(cosign, headers=sup).json()["state"] == "cosigned"
    refusal(client.post(f"/api/v1/jurisdiction-changes/{widening.id}/withdraw", headers=sup),
            409, "jurisdiction_change.not_pending")  # fmt: skip
    with town.services.db.read() as conn:
        assert staff_repo.jurisdiction(conn, "zz-health") == {ZHENGZHOU, "310100"}
    done = client.post(f"/api/v1/key-changes/{source.id}/cosign", headers=sup).json()
    assert (done["state"], done["decided_by"]) == ("cosigned", "zz-sup-1")


def test_the_console_shows_them_to_co_sign_in_both_languages(town: Town) -> None:
    town.register_staff()
    town.services.registry.load({"sources": [LAB_2], "authorities": [WIDER]}, now=town.clock.now())
    [widening] = town.services.jurisdiction_changes.of_authority(
        "zz-health", now=town.clock.now(), state="pending"
    )
    official = staff_client(town, "zz-off-1", "official")
    zh = official.get("/official").text
    assert "（新来源）" in zh and "辖区扩大" in zh and widening.id in zh
    assert f"/official/jurisdiction-changes/{widening.id}/cosign" not in zh
    refused = official.post(f"/official/jurisdiction-changes/{widening.id}/cosign")
    assert refused.status_code == 403
    supervisor = staff_client(town, "zz-sup-1", "supervisor")
    en = supervisor.get("/official?lang=en").text
    assert "(new source)" in en and "Wider jurisdictions" in en
    withdraw = f"/official/jurisdiction-changes/{widening.id}/withdraw"
    assert f'action="{withdraw}"' in en
    assert supervisor.post(withdraw, follow_redirects=False).status_code == 303
    assert "Wider jurisdictions" not in supervisor.get("/official").text
