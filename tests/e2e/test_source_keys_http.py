"""Source key changes over HTTP and in the console: an official proposes, a different
supervisor of the source's authority co-signs, and only then does the new key sign."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient

from healthcode.domain.batches import sign_batch
from healthcode.web.app import create_app
from tests.counting import counts
from tests.town import ERQI, Town

NEW_KEY = Ed25519PrivateKey.from_private_bytes(b"\x43" * 32)
NEW_PUBLIC = base64.b64encode(
    NEW_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()


def bearer(town: Town, staff_id: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.token(staff_id, role)}"}


def refusal(answer: Any, status: int, code: str) -> None:
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert set(answer.json()["message"]) == {"zh", "en"}


def batch(town: Town, key: Ed25519PrivateKey, person: str) -> dict[str, Any]:
    record = town.record("test_result", person, town.clock.now(), method="pcr", result="negative")
    body = {"source": "lab-1", "batch_id": f"b{next(town.counter)}", "records": [record]}
    return sign_batch(body, key.sign)


def test_propose_cosign_and_the_new_key_signs(client: TestClient, town: Town) -> None:
    official, sup1, sup2 = (bearer(town, "zz-off-1", "official"), bearer(town, "zz-sup-1", "supervisor"),
                            bearer(town, "zz-sup-2", "supervisor"))  # fmt: skip
    person = town.person("kim", home=ERQI)
    before = counts(town.services.db)
    refusal(client.post("/api/v1/sources/lab-1/key-changes", json={"public_key": "short"},
                        headers=official), 422, "request.malformed")  # fmt: skip
    refusal(client.post("/api/v1/sources/lab-9/key-changes", json={"public_key": NEW_PUBLIC},
                        headers=official), 404, "source.not_found")  # fmt: skip
    refusal(client.post("/api/v1/sources/lab-1/key-changes", json={"public_key": NEW_PUBLIC},
                        headers=bearer(town, "sh-off-1", "official")), 403, "auth.forbidden")  # fmt: skip
    hotline = client.post("/api/v1/sources/lab-1/key-changes", json={"public_key": NEW_PUBLIC},
                          headers=bearer(town, "hl-erqi", "hotline"))  # fmt: skip
    assert hotline.status_code == 403
    assert counts(town.services.db) == before  # refused: nothing written but refusal rows
    proposed = client.post(
        "/api/v1/sources/lab-1/key-changes",
        json={"public_key": NEW_PUBLIC, "kinds": ["test_result", "recovery", "vaccination"]},
        headers=official,
    )
    assert proposed.status_code == 200, proposed.text
    change = proposed.json()
    assert (change["state"], change["proposed_by"], change["kinds"]) == (
        "pending", "zz-off-1", ["recovery", "test_result", "vaccination"])  # fmt: skip
    town.services.sequencer.integrate(now=town.clock.now())
    queue = client.get("/api/v1/key-changes?state=pending", headers=sup1)
    assert [c["id"] for c in queue.json()] == [change["id"]]
    assert "Healthcode-Checkpoint" in queue.headers
    early = client.post("/api/v1/evidence/batches", json=batch(town, NEW_KEY, person))
    refusal(early, 401, "batch.signature_invalid")
    cosign = f"/api/v1/key-changes/{change['id']}/cosign"
    refusal(client.post(cosign, headers=official), 403, "auth.forbidden")
    refusal(
        client.post(cosign, headers=bearer(town, "sh-sup-1", "supervisor")), 403, "auth.forbidden"
    )
    refusal(
        client.post("/api/v1/key-changes/key-none/cosign", headers=sup1),
        404,
        "source_key.not_found",
    )
    done = client.post(cosign, headers=sup1)
    assert (done.status_code, done.json()["state"], done.json()["decided_by"]) == (
        200,
        "cosigned",
        "zz-sup-1",
    )
    refusal(client.post(cosign, headers=sup2), 409, "source_key.not_pending")
    old = client.post("/api/v1/evidence/batches", json=batch(town, town.keys["lab-1"], person))
    refusal(old, 401, "batch.signature_invalid")
    assert (
        client.post("/api/v1/evidence/batches", json=batch(town, NEW_KEY, person)).status_code
        == 200
    )


def test_a_supervisor_does_not_co_sign_their_own_proposal_and_may_withdraw(
    client: TestClient, town: Town
) -> None:
    sup1 = bearer(town, "zz-sup-1", "supervisor")
    proposed = client.post(
        "/api/v1/sources/lab-1/key-changes", json={"public_key": NEW_PUBLIC}, headers=sup1
    ).json()
    refusal(client.post(f"/api/v1/key-changes/{proposed['id']}/cosign", headers=sup1),
            403, "source_key.cosign_self")  # fmt: skip
    refusal(client.post("/api/v1/sources/lab-1/key-changes", json={"public_key": NEW_PUBLIC},
                        headers=bearer(town, "zz-off-1", "official")), 409, "source_key.pending_exists")  # fmt: skip
    refusal(client.post(f"/api/v1/key-changes/{proposed['id']}/withdraw",
                        headers=bearer(town, "zz-off-1", "official")), 403, "auth.forbidden")  # fmt: skip
    withdrawn = client.post(f"/api/v1/key-changes/{proposed['id']}/withdraw", headers=sup1)
    assert withdrawn.json()["state"] == "withdrawn"
    refusal(client.post(f"/api/v1/key-changes/{proposed['id']}/cosign",
                        headers=bearer(town, "zz-sup-2", "supervisor")), 409, "source_key.not_pending")  # fmt: skip
    listed = client.get("/api/v1/key-changes", headers=sup1).json()
    assert [c["state"] for c in listed] == ["withdrawn"]


def staff_client(town: Town, staff_id: str, role: str) -> TestClient:
    client = TestClient(create_app(town.services, run_scheduler=False))
    client.cookies.set("hc_staff", town.token(staff_id, role))
    return client


def test_the_console_lists_pending_key_changes_to_co_sign_in_both_languages(town: Town) -> None:
    town.register_staff()
    official = staff_client(town, "zz-off-1", "official")
    assert "没有待联签的来源密钥变更" in official.get("/official").text
    change = town.services.source_keys.propose(
        None, "lab-1", NEW_PUBLIC, ["test_result", "recovery", "vaccination"], now=town.clock.now()
    )
    zh = official.get("/official").text
    assert "来源密钥变更" in zh and change.id in zh and "运维人员" in zh and "（新增）" in zh
    assert f"/official/key-changes/{change.id}/cosign" not in zh  # an official does not co-sign
    supervisor = staff_client(town, "zz-sup-1", "supervisor")
    en = supervisor.get("/official?lang=en").text
    assert "Source key changes" in en and "the operator" in en and "(new)" in en
    assert f'action="/official/key-changes/{change.id}/cosign"' in en
    # An official's page form refused: the console again, with the refusal in its language.
    refused = official.post(f"/official/key-changes/{change.id}/cosign", follow_redirects=False)
    assert refused.status_code == 403 and "无权" in refused.text
    own = staff_client(town, "zz-off-1", "official")  # withdrawing is not the official's here
    assert own.post(f"/official/key-changes/{change.id}/withdraw").status_code == 403
    done = supervisor.post(f"/official/key-changes/{change.id}/cosign", follow_redirects=False)
    assert done.status_code == 303
    again = supervisor.post(f"/official/key-changes/{change.id}/cosign")
    # (the supervisor chose English above: the page stays in it)
    assert again.status_code == 409
    assert "This key change has already been co-signed or withdrawn." in again.text
    assert "No source key change awaits a co-signature." in again.text
    with town.services.db.read() as conn:
        from healthcode.store import registry as registry_repo

        lab = registry_repo.source(conn, "lab-1")
    assert lab is not None and base64.b64encode(lab.public_key).decode() == NEW_PUBLIC
