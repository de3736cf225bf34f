"""A source's key and kinds change only with a supervisor's co-signature: loading the registry
refuses it whole, a proposal changes nothing until co-signed, and after the co-signature the
old key is refused; every step is logged and rebuilt by the self-check."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select, update

from healthcode.domain.batches import sign_batch
from healthcode.errors import HealthcodeError
from healthcode.services.orders import Actor
from healthcode.store import registry as registry_repo
from healthcode.store import tables as t
from tests.log_rows import stored
from tests.town import ZHENGZHOU, Town, days

NEW_KEY = Ed25519PrivateKey.from_private_bytes(b"\x42" * 32)


def public(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def zz(staff_id: str, role: str) -> Actor:
    return Actor(staff_id, role, "zz-health", frozenset({ZHENGZHOU}))


SH_SUPERVISOR = Actor("sh-sup-1", "supervisor", "sh-health", frozenset({"310100"}))


def lab_entry(town: Town, **changed: Any) -> dict[str, Any]:
    entry = {"id": "lab-1", "authority": "zz-health", "name": "lab-1",
             "public_key": public(town.keys["lab-1"]), "kinds": ["test_result", "recovery"],
             "area": ZHENGZHOU}  # fmt: skip
    return entry | changed


def counts(town: Town) -> tuple[int, ...]:
    with town.services.db.read() as conn:
        return tuple(
            int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (t.areas, t.sources, t.log_entries, t.log_bundles, t.source_key_changes)
        )


def refused(call: Any, code: str) -> None:
    with pytest.raises(HealthcodeError) as error:
        call()
    assert error.value.code == code, error.value


def kinds_of_log(town: Town) -> list[str]:
    with town.services.db.read() as conn:
        return [kind for _, kind, _ in stored(conn)]


def lab_batch(town: Town, person: str, key: Ed25519PrivateKey, batch_id: str) -> dict[str, Any]:
    record = town.record("test_result", person, town.clock.now() - timedelta(hours=1),
                         method="pcr", result="negative")  # fmt: skip
    return sign_batch({"source": "lab-1", "batch_id": batch_id, "records": [record]}, key.sign)


def test_loading_the_registry_refuses_a_new_key_or_kinds_and_loads_nothing(town: Town) -> None:
    registry = town.services.registry
    now = town.clock.now()
    new_area = {"code": "410105", "zh": "金水区", "en": "Jinshui"}
    before = counts(town)
    for entry, code in [
        (lab_entry(town, public_key=public(NEW_KEY)), "registry.source_key_change"),
        (lab_entry(town, kinds=["test_result", "recovery", "close_contact"]),
         "registry.source_key_change"),
        (lab_entry(town, authority="sh-health"), "registry.source_moved"),
        (lab_entry(town, area="410000"), "registry.source_moved"),
    ]:  # fmt: skip
        # The new area comes first in the file: it is not registered either.
        refused(lambda e=entry: registry.load({"areas": [new_area], "sources": [e]}, now=now), code)
        assert counts(town) == before
    # The same entry twice in one file, the second with another key: refused too.
    twice = [lab_entry(town, name="Lab one"), lab_entry(town, public_key=public(NEW_KEY))]
    refused(lambda: registry.load({"sources": twice}, now=now), "registry.source_key_change")
    assert counts(town) == before
    # Unchanged, renamed, narrowed (fewer kinds, a smaller area): loaded.
    registry.load({"sources": [lab_entry(town)]}, now=now)
    registry.load({"sources": [lab_entry(town, name="Lab one", kinds=["test_result"],
                                         area="410102")]}, now=now)  # fmt: skip
    with town.services.db.read() as conn:
        lab = registry_repo.source(conn, "lab-1")
    assert lab is not None and (sorted(lab.kinds), lab.area) == (["test_result"], "410102")
    # A new source of an authority with no supervisor yet (no staff are registered here) is
    # registered by the operator alone: a deployment's first setup (test_registry_proposals).
    fresh = lab_entry(town, id="lab-2", public_key=public(NEW_KEY))
    loaded = registry.load({"sources": [fresh]}, now=now)
    assert (loaded.counts["sources"], loaded.proposed) == (1, [])


def test_loading_the_registry_again_keeps_a_revoked_source_revoked(town: Town) -> None:
    town.register_staff()
    town.services.sources.revoke(
        zz("zz-sup-1", "supervisor"), "lab-1", reason="key_compromised", now=town.clock.now()
    )
    town.services.registry.load({"sources": [lab_entry(town)]}, now=town.clock.now())
    with town.services.db.read() as conn:
        assert registry_repo.source_active(conn, "lab-1") is False


def test_a_new_key_counts_only_once_a_supervisor_co_signs_it(town: Town) -> None:
    town.register_staff()
    keys = town.services.source_keys
    alice = town.person("alice")
    now = town.clock.now()
    # A batch the old key signed before the change, still unsent when the change happens.
    late = lab_batch(town, alice, town.keys["lab-1"], "late")
    change = keys.propose(
        zz("zz-off-1", "official"), "lab-1", public(NEW_KEY),
        ["test_result", "recovery", "vaccination"], now=now,
    )  # fmt: skip
    assert (change.state(now), change.expires_at) == ("pending", now + days(7))
    # Pending: the new key is refused, the old one still counts.
    refused(lambda: town.services.intake.submit(lab_batch(town, alice, NEW_KEY, "n1"), now=now),
            "batch.signature_invalid")  # fmt: skip
    before = lab_batch(town, alice, town.keys["lab-1"], "o1")
    assert town.services.intake.submit(before, now=now).accepted == 1
    cosigned = keys.cosign(zz("zz-sup-1", "supervisor"), change.id, now=now + timedelta(hours=1))
    assert (cosigned.status, cosigned.decided_by) == ("cosigned", "zz-sup-1")
    later = now + timedelta(hours=2)
    town.clock.set(later)
    refused(lambda: town.services.intake.submit(lab_batch(town, alice, town.keys["lab-1"], "o2"),
                                                now=later), "batch.signature_invalid")  # fmt: skip
    assert town.services.intake.submit(lab_batch(town, alice, NEW_KEY, "n2"), now=later).accepted
    # The late batch: refused as the old key signed it; the source signs it again with its
    # new key, and its record keeps the time it was taken.
    refused(lambda: town.services.intake.submit(late, now=later), "batch.signature_invalid")
    assert town.services.intake.submit(resigned(late), now=later).accepted == 1
    with town.services.db.read() as conn:
        lab = registry_repo.source(conn, "lab-1")
        occurred = conn.scalar(
            select(t.evidence.c.occurred_at).where(t.evidence.c.batch_id == "late")
        )
    assert lab is not None and "vaccination" in lab.kinds
    assert occurred == now - timedelta(hours=1)
    # A batch stored before the change, sent again signed with the new key: the same batch.
    again = town.services.intake.submit(resigned(before), now=later)
    assert (again.accepted, again.already_present) == (0, 1)


def resigned(batch: dict[str, Any]) -> dict[str, Any]:
    return sign_batch({k: v for k, v in batch.items() if k != "signature"}, NEW_KEY.sign)


def test_who_may_co_sign_or_withdraw(town: Town) -> None:
    town.register_staff()
    keys = town.services.source_keys
    now = town.clock.now()
    change = keys.propose(zz("zz-sup-1", "supervisor"), "lab-1", public(NEW_KEY), None, now=now)
    refused(lambda: keys.cosign(zz("zz-sup-1", "supervisor"), change.id, now=now),
            "source_key.cosign_self")  # fmt: skip
    refused(lambda: keys.cosign(zz("zz-off-1", "official"), change.id, now=now), "auth.forbidden")
    refused(lambda: keys.cosign(SH_SUPERVISOR, change.id, now=now), "auth.forbidden")
    refused(lambda: keys.cosign(zz("zz-sup-2", "supervisor"), "key-none", now=now),
            "source_key.not_found")  # fmt: skip
    # An official who did not propose it may not withdraw it; another authority neither.
    refused(lambda: keys.withdraw(zz("zz-off-1", "official"), change.id, now=now),
            "auth.forbidden")  # fmt: skip
    refused(lambda: keys.withdraw(SH_SUPERVISOR, change.id, now=now), "auth.forbidden")
    refused(lambda: keys.propose(zz("zz-off-1", "official"), "lab-1", public(NEW_KEY), None,
                                 now=now), "source_key.pending_exists")  # fmt: skip
    withdrawn = keys.withdraw(zz("zz-sup-1", "supervisor"), change.id, now=now)
    assert withdrawn.state(now) == "withdrawn"
    refused(lambda: keys.cosign(zz("zz-sup-2", "supervisor"), change.id, now=now),
            "source_key.not_pending")  # fmt: skip
    with town.services.db.read() as conn:
        lab = registry_repo.source(conn, "lab-1")
    assert lab is not None and lab.public_key != base64.b64decode(public(NEW_KEY))
    # The operator's proposal (no staff member): any supervisor of the authority co-signs it.
    by_operator = keys.propose(None, "lab-1", public(NEW_KEY), None, now=now)
    assert keys.cosign(zz("zz-sup-1", "supervisor"), by_operator.id, now=now).status == "cosigned"
    refused(lambda: keys.cosign(zz("zz-sup-2", "supervisor"), by_operator.id, now=now),
            "source_key.not_pending")  # fmt: skip


def test_proposals_that_change_nothing_or_come_too_late_are_refused(town: Town) -> None:
    town.register_staff()
    keys = town.services.source_keys
    now = town.clock.now()
    official = zz("zz-off-1", "official")
    refused(lambda: keys.propose(official, "lab-1", public(town.keys["lab-1"]),
                                 ["recovery", "test_result"], now=now), "source_key.unchanged")  # fmt: skip
    refused(lambda: keys.propose(official, "lab-9", public(NEW_KEY), None, now=now),
            "source.not_found")  # fmt: skip
    refused(lambda: keys.propose(official, "lab-1", "not a key", None, now=now),
            "source_key.invalid_key")  # fmt: skip
    refused(lambda: keys.propose(SH_SUPERVISOR, "lab-1", public(NEW_KEY), None, now=now),
            "auth.forbidden")  # fmt: skip
    # Expired: not co-signed within the policy's days; a new proposal may then be made.
    change = keys.propose(official, "lab-1", public(NEW_KEY), None, now=now)
    refused(lambda: keys.cosign(zz("zz-sup-1", "supervisor"), change.id, now=now + days(7)),
            "source_key.expired")  # fmt: skip
    assert keys.of_authority("zz-health", now=now + days(7), state="expired") == [change]
    again = keys.propose(official, "lab-1", public(NEW_KEY), ["test_result"], now=now + days(7))
    # The source narrowed by a load meanwhile: the co-signature would apply to another source.
    town.services.registry.load({"sources": [lab_entry(town, kinds=["recovery"])]}, now=now)
    refused(lambda: keys.cosign(zz("zz-sup-1", "supervisor"), again.id, now=now + days(7)),
            "source_key.stale")  # fmt: skip
    # A revoked source gets no new key.
    town.services.sources.revoke(zz("zz-sup-1", "supervisor"), "lab-1", reason="decommissioned",
                                 now=now + days(7))  # fmt: skip
    refused(lambda: keys.cosign(zz("zz-sup-2", "supervisor"), again.id, now=now + days(7)),
            "source.inactive")  # fmt: skip


def test_server_owned_sources_keep_their_keys(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    town.services.places.current_code("station", now)  # registers the scan source
    town.services.places.scan(
        town.person("bob"), town.services.places.current_code("station", now).text, now
    )
    refused(lambda: town.services.source_keys.propose(
        zz("zz-off-1", "official"), "scans.zz-health", public(NEW_KEY), None, now=now),
        "source_key.server_owned")  # fmt: skip


def test_each_step_is_logged_and_rebuilt_by_the_self_check(town: Town) -> None:
    town.register_staff()
    keys = town.services.source_keys
    now = town.clock.now()
    first = keys.propose(zz("zz-off-1", "official"), "lab-1", public(NEW_KEY), None, now=now)
    keys.withdraw(zz("zz-off-1", "official"), first.id, now=now)
    by_operator = keys.propose(None, "lab-1", public(NEW_KEY), ["test_result"], now=now)
    keys.withdraw(None, by_operator.id, now=now)
    second = keys.propose(zz("zz-off-1", "official"), "lab-1", public(NEW_KEY), None, now=now)
    keys.cosign(zz("zz-sup-2", "supervisor"), second.id, now=now)
    assert kinds_of_log(town)[-6:] == [
        "source_key_proposal", "source_key_withdrawal", "source_key_proposal",
        "source_key_withdrawal", "source_key_proposal", "source_key_cosign",
    ]  # fmt: skip
    with town.services.db.read() as conn:
        entries = {index: json.loads(body) for index, _, body in stored(conn)}
    proposal = entries[second.log_index]["data"]
    assert proposal["public_key"] == public(NEW_KEY) and proposal["source"] == "lab-1"
    assert proposal["previous_key"] == public(town.keys["lab-1"])
    assert proposal["proposer"] != "zz-off-1" and len(proposal["proposer"]) == 64  # actor tag
    assert entries[by_operator.log_index]["data"]["proposer"] == "operator"
    cosign = entries[int(str(max(entries)))]["data"]
    assert cosign["change"] == second.id and len(cosign["supervisor"]) == 64
    assert town.services.self_check.run(now=now, halt=False).ok
    # Another co-signer written on the row: its entry no longer matches.
    _tampered(town, update(t.source_key_changes).where(t.source_key_changes.c.id == second.id),
              decided_by="zz-sup-1", undo="zz-sup-2")  # fmt: skip
    # The old key put back by SQL, with no co-signature: the source is not as the log says.
    old_key, new_key = (base64.b64decode(public(k)) for k in (town.keys["lab-1"], NEW_KEY))
    _tampered(town, update(t.sources).where(t.sources.c.id == "lab-1"),
              public_key=old_key, undo=new_key)  # fmt: skip


def _tampered(town: Town, statement: Any, undo: Any, **values: Any) -> None:
    [(column, value)] = values.items()
    now = town.clock.now()
    with town.services.db.write() as conn:
        conn.execute(statement.values({column: value}))
    report = town.services.self_check.run(now=now, halt=False)
    assert not report.ok, column
    with town.services.db.write() as conn:
        conn.execute(statement.values({column: undo}))
    assert town.services.self_check.run(now=now, halt=False).ok


def test_the_self_check_finds_a_source_changed_or_added_without_an_entry(
    town: Town,
) -> None:
    """Most sources never have a co-signed change: their key and kinds are those their last
    registration logged, and a key put in by SQL alone is found all the same; so is a source
    that no entry registers."""
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
    old_key = base64.b64decode(public(town.keys["lab-1"]))
    _tampered(town, update(t.sources).where(t.sources.c.id == "lab-1"),
              public_key=base64.b64decode(public(NEW_KEY)), undo=old_key)  # fmt: skip
    _tampered(town, update(t.sources).where(t.sources.c.id == "lab-1"),
              kinds="close_contact recovery test_result", undo="recovery test_result")  # fmt: skip
    # A source inserted by SQL, which no entry registers.
    lab = {"id": "lab-sql", "authority_id": "zz-health", "name": "lab-sql", "active": True,
           "public_key": base64.b64decode(public(NEW_KEY)), "kinds": "test_result",
           "area_code": ZHENGZHOU, "registered_at": town.clock.now()}  # fmt: skip
    with town.services.db.write() as conn:
        conn.execute(t.sources.insert().values(lab))
    assert not town.services.self_check.run(now=town.clock.now(), halt=False).ok


# The identity point: with it as a "public key", the signature (identity, 0) verifies for every
# message, so anyone could sign any batch as the source. The other small-order points match a
# made-up signature for one message in two, four or eight.
IDENTITY = base64.b64encode(bytes([1]) + bytes(31)).decode()
SMALL_ORDER = [IDENTITY, base64.b64encode(bytes(32)).decode(),
               base64.b64encode(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")).decode(),
               base64.b64encode(bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")).decode(),
               base64.b64encode(bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")).decode()]  # fmt: skip


def test_a_key_of_small_order_which_anyone_could_sign_with_is_refused(town: Town) -> None:
    town.register_staff()
    keys = town.services.source_keys
    now = town.clock.now()
    alice = town.person("alice")
    forged = {"source": "lab-1", "batch_id": "forged",
              "records": [town.record("test_result", alice, now - timedelta(hours=1),
                                      method="pcr", result="positive")]}  # fmt: skip
    forged = sign_batch(forged, lambda _: base64.b64decode(IDENTITY) + bytes(32))
    before = counts(town)
    for weak in SMALL_ORDER:
        refused(lambda w=weak: keys.propose(zz("zz-off-1", "official"), "lab-1", w, None,
                                            now=now), "source_key.invalid_key")  # fmt: skip
        refused(lambda w=weak: town.services.registry.load(
            {"sources": [lab_entry(town, id="lab-weak", public_key=w)]}, now=now),
            "registry.invalid")  # fmt: skip
    assert counts(town) == before
    refused(lambda: town.services.intake.submit(forged, now=now), "batch.signature_invalid")


def test_a_load_of_the_old_file_takes_kinds_a_co_signed_change_added_away_again(
    town: Town,
) -> None:
    """docs/api.md, "Loading the registry": a file that still lists the old, fewer kinds is a
    narrowing, loaded without a co-signature (the old key would be refused)."""
    town.register_staff()
    keys = town.services.source_keys
    now = town.clock.now()
    more = ["test_result", "recovery", "vaccination"]
    change = keys.propose(None, "lab-1", public(town.keys["lab-1"]), more, now=now)
    keys.cosign(zz("zz-sup-1", "supervisor"), change.id, now=now)
    town.services.registry.load({"sources": [lab_entry(town)]}, now=now)
    with town.services.db.read() as conn:
        lab = registry_repo.source(conn, "lab-1")
    assert lab is not None and sorted(lab.kinds) == ["recovery", "test_result"]
    assert town.services.self_check.run(now=now, halt=False).ok
