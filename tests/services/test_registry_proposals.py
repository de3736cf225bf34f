"""Once an authority has a supervisor, a registry load neither registers a new source of it nor
widens its jurisdiction: it proposes them, and they count only once a supervisor of that
authority co-signs; every step is logged and rebuilt by the self-check (docs/api.md, "Source
keys"). Before that (a deployment's first load, the town's) the load applies them directly."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, update

from healthcode.domain.batches import sign_batch
from healthcode.services.tokens import STAFF_AUDIENCE
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store import tables as t
from tests.services.test_source_keys import (
    NEW_KEY,
    SH_SUPERVISOR,
    counts,
    kinds_of_log,
    lab_entry,
    public,
    refused,
    zz,
)
from tests.town import PUDONG, ZHENGZHOU, Town, days

SHANGHAI = "310100"


def lab_2(town: Town, **changed: Any) -> dict[str, Any]:
    return lab_entry(town, id="lab-2", name="Lab two", public_key=public(NEW_KEY)) | changed


def lab_2_batch(town: Town, batch_id: str) -> dict[str, Any]:
    record = town.record("test_result", town.person("alice"), town.clock.now() - timedelta(hours=1),
                         method="pcr", result="positive")  # fmt: skip
    return sign_batch({"source": "lab-2", "batch_id": batch_id, "records": [record]}, NEW_KEY.sign)


def zz_health(*jurisdiction: str) -> dict[str, Any]:
    return {"id": "zz-health", "zh": "郑州市卫健委", "en": "Zhengzhou Health Commission",
            "jurisdiction": list(jurisdiction)}  # fmt: skip


def jurisdiction(town: Town) -> frozenset[str]:
    with town.services.db.read() as conn:
        return staff_repo.jurisdiction(conn, "zz-health")


def test_a_new_source_submits_nothing_until_a_supervisor_co_signs_it(town: Town) -> None:
    town.register_staff()
    registry, keys, intake = town.services.registry, town.services.source_keys, town.services.intake
    now = town.clock.now()
    loaded = registry.load({"sources": [lab_2(town)]}, now=now)
    [change] = loaded.proposed
    assert loaded.counts["sources"] == 0  # proposed, not registered: not counted as one
    assert (change.source_id, change.previous_key, change.proposed_by) == ("lab-2", None, None)
    assert keys.of_authority("zz-health", now=now, state="pending") == [change]
    with town.services.db.read() as conn:
        assert registry_repo.source(conn, "lab-2") is None
    refused(lambda: intake.submit(lab_2_batch(town, "b1"), now=now), "source.unknown")
    # The same file again: the same proposal, nothing new written; another key for it: refused.
    before = counts(town)
    again = registry.load({"sources": [lab_2(town)]}, now=now)
    assert (again.proposed, again.counts["sources"]) == ([], 0)
    assert counts(town) == before
    refused(lambda: registry.load({"sources": [lab_2(town, kinds=["test_result"])]}, now=now),
            "source_key.pending_exists")  # fmt: skip
    assert counts(town) == before
    # Only a supervisor of its authority co-signs; the operator proposed it, not a staff
    # member, and no staff member can propose a source that is not registered.
    refused(lambda: keys.cosign(zz("zz-off-1", "official"), change.id, now=now), "auth.forbidden")
    refused(lambda: keys.cosign(SH_SUPERVISOR, change.id, now=now), "auth.forbidden")
    refused(lambda: keys.propose(zz("zz-sup-1", "supervisor"), "lab-3", public(NEW_KEY), None,
                                 now=now), "source.not_found")  # fmt: skip
    later = now + timedelta(hours=1)
    town.clock.set(later)
    cosigned = keys.cosign(zz("zz-sup-1", "supervisor"), change.id, now=later)
    assert (cosigned.status, cosigned.decided_by) == ("cosigned", "zz-sup-1")
    with town.services.db.read() as conn:
        lab = registry_repo.source(conn, "lab-2")
    assert lab is not None and (lab.authority_id, lab.area, lab.active) == (
        "zz-health", ZHENGZHOU, True
    )  # fmt: skip
    assert intake.submit(lab_2_batch(town, "b2"), now=later).accepted == 1
    # Registered now: the file loads as an unchanged source, and its key change is refused.
    reloaded = registry.load({"sources": [lab_2(town)]}, now=later)
    assert (reloaded.proposed, reloaded.counts["sources"]) == ([], 1)
    refused(lambda: registry.load({"sources": [lab_2(town, public_key=public(town.keys["lab-1"]))]},
                                  now=later), "registry.source_key_change")  # fmt: skip
    assert kinds_of_log(town).count("source_key_proposal") == 1
    assert town.services.self_check.run(now=later, halt=False).ok


def test_a_new_source_withdrawn_expired_or_registered_meanwhile(town: Town) -> None:
    town.register_staff()
    registry, keys = town.services.registry, town.services.source_keys
    now = town.clock.now()
    [first] = registry.load({"sources": [lab_2(town)]}, now=now).proposed
    keys.withdraw(zz("zz-sup-2", "supervisor"), first.id, now=now)
    # Withdrawn: the file proposes it again; expired: refused, and proposed again.
    [second] = registry.load({"sources": [lab_2(town)]}, now=now).proposed
    refused(lambda: keys.cosign(zz("zz-sup-1", "supervisor"), second.id, now=now + days(7)),
            "source_key.expired")  # fmt: skip
    [third] = registry.load({"sources": [lab_2(town)]}, now=now + days(7)).proposed
    # Every supervisor made inactive, a load still registers nothing: the proposal stays
    # pending (test_supervisors_deactivated_or_demoted_do_not_lift_the_two_person_rule).
    later = now + days(7)
    inactive = [{"id": s, "role": "supervisor", "authority": "zz-health", "name": s,
                 "active": False} for s in ("zz-sup-1", "zz-sup-2")]  # fmt: skip
    town.services.staff.register(inactive, now=later)
    assert registry.load({"sources": [lab_2(town)]}, now=later).proposed == []
    with town.services.db.read() as conn:
        assert registry_repo.source(conn, "lab-2") is None
    town.services.staff.register([s | {"active": True} for s in inactive], now=later)
    # Registered meanwhile for an authority that never had a supervisor (so directly): the
    # pending proposal no longer applies.
    cdc = {
        "id": "zz-cdc",
        "zh": "郑州市疾控中心",
        "en": "Zhengzhou CDC",
        "jurisdiction": [ZHENGZHOU],
    }
    assert registry.load({"authorities": [cdc], "sources": [lab_2(town, authority="zz-cdc")]},
                         now=later).proposed == []  # fmt: skip
    refused(lambda: keys.cosign(zz("zz-sup-1", "supervisor"), third.id, now=later),
            "source_key.stale")  # fmt: skip
    assert town.services.self_check.run(now=later, halt=False).ok


def test_a_wider_jurisdiction_counts_only_once_co_signed(town: Town) -> None:
    town.register_staff()
    registry, changes = town.services.registry, town.services.jurisdiction_changes
    now = town.clock.now()
    # Narrower (a district of the city) and back to the city: applied, as before.
    assert registry.load({"authorities": [zz_health("410102")]}, now=now).proposed == []
    assert jurisdiction(town) == {"410102"}
    refused(lambda: changes.cosign(zz("zz-sup-1", "supervisor"), "jur-none", now=now),
            "jurisdiction_change.not_found")  # fmt: skip
    [back] = registry.load({"authorities": [zz_health(ZHENGZHOU)]}, now=now).proposed
    assert back.previous == {"410102"} and jurisdiction(town) == {"410102"}
    changes.cosign(zz("zz-sup-2", "supervisor"), back.id, now=now)
    assert jurisdiction(town) == {ZHENGZHOU}
    # Shanghai added: the jurisdiction stays as it is, the rest of the file is loaded.
    loaded = registry.load({"authorities": [zz_health(ZHENGZHOU, SHANGHAI)],
                            "areas": [{"code": "410105", "zh": "金水区", "en": "Jinshui"}]},
                           now=now)  # fmt: skip
    [change] = loaded.proposed
    assert (change.jurisdiction, change.previous) == ({ZHENGZHOU, SHANGHAI}, {ZHENGZHOU})
    assert jurisdiction(town) == {ZHENGZHOU}
    with town.services.db.read() as conn:
        assert "410105" in registry_repo.area_codes(conn)
    # The same file again proposes nothing more; another wider one is refused, whole.
    assert registry.load({"authorities": [zz_health(ZHENGZHOU, SHANGHAI)]}, now=now).proposed == []
    before = counts(town)
    refused(lambda: registry.load({"authorities": [zz_health(ZHENGZHOU, PUDONG)]}, now=now),
            "jurisdiction_change.pending_exists")  # fmt: skip
    assert counts(town) == before
    refused(lambda: changes.cosign(zz("zz-off-1", "official"), change.id, now=now),
            "auth.forbidden")  # fmt: skip
    refused(lambda: changes.cosign(SH_SUPERVISOR, change.id, now=now), "auth.forbidden")
    refused(lambda: changes.withdraw(zz("zz-off-1", "official"), change.id, now=now),
            "auth.forbidden")  # fmt: skip
    assert changes.of_authority("zz-health", now=now, state="pending") == [change]
    cosigned = changes.cosign(zz("zz-sup-1", "supervisor"), change.id, now=now)
    assert (cosigned.status, cosigned.decided_by) == ("cosigned", "zz-sup-1")
    assert jurisdiction(town) == {ZHENGZHOU, SHANGHAI}
    refused(lambda: changes.withdraw(None, change.id, now=now), "jurisdiction_change.not_pending")
    assert town.services.self_check.run(now=now, halt=False).ok


def test_a_wider_jurisdiction_withdrawn_expired_or_stale(town: Town) -> None:
    town.register_staff()
    registry, changes = town.services.registry, town.services.jurisdiction_changes
    now = town.clock.now()
    wider = {"authorities": [zz_health(ZHENGZHOU, SHANGHAI)]}
    [first] = registry.load(wider, now=now).proposed
    assert changes.withdraw(None, first.id, now=now).decided_by is None  # the operator
    [second] = registry.load(wider, now=now).proposed
    changes.withdraw(zz("zz-sup-1", "supervisor"), second.id, now=now)
    [third] = registry.load(wider, now=now).proposed
    refused(lambda: changes.cosign(zz("zz-sup-1", "supervisor"), third.id, now=now + days(7)),
            "jurisdiction_change.expired")  # fmt: skip
    [fourth] = registry.load(wider, now=now + days(7)).proposed
    # Narrowed by a load meanwhile: the co-signature would apply to another jurisdiction.
    registry.load({"authorities": [zz_health("410102")]}, now=now + days(7))
    refused(lambda: changes.cosign(zz("zz-sup-1", "supervisor"), fourth.id, now=now + days(7)),
            "jurisdiction_change.stale")  # fmt: skip
    assert jurisdiction(town) == {"410102"}
    assert kinds_of_log(town).count("jurisdiction_withdrawal") == 2
    assert town.services.self_check.run(now=now + days(7), halt=False).ok


def test_the_self_check_rebuilds_the_proposals_and_finds_a_jurisdiction_widened_by_sql(
    town: Town,
) -> None:
    town.register_staff()
    now = town.clock.now()
    [source] = town.services.registry.load({"sources": [lab_2(town)]}, now=now).proposed
    town.services.source_keys.cosign(zz("zz-sup-1", "supervisor"), source.id, now=now)
    [widening] = town.services.registry.load(
        {"authorities": [zz_health(ZHENGZHOU, SHANGHAI)]}, now=now
    ).proposed
    town.services.jurisdiction_changes.cosign(zz("zz-sup-2", "supervisor"), widening.id, now=now)
    # The authority's registration (its jurisdiction as kept) is logged before the proposal.
    assert kinds_of_log(town)[-5:] == [
        "source_key_proposal", "source_key_cosign", "registry", "jurisdiction_proposal",
        "jurisdiction_cosign",
    ]  # fmt: skip
    self_check = town.services.self_check
    assert self_check.run(now=now, halt=False).ok
    cases = [
        # Another co-signer written on a row: its entry no longer matches.
        update(t.jurisdiction_changes).values(decided_by="zz-sup-1"),
        update(t.source_key_changes)
        .where(t.source_key_changes.c.id == source.id)
        .values(area_code="410102"),
        # A jurisdiction widened by SQL alone, and a source's area: not as the log says.
        insert(t.authority_areas).values(authority_id="zz-health", area_code="410000"),
        update(t.sources).where(t.sources.c.id == "lab-2").values(area_code="410000"),
    ]
    for statement in cases:
        with town.services.db.write() as conn:
            conn.execute(statement)
        assert not self_check.run(now=now, halt=False).ok, statement
        with town.services.db.write() as conn:
            conn.execute(update(t.jurisdiction_changes).values(decided_by="zz-sup-2"))
            conn.execute(update(t.source_key_changes).values(area_code=ZHENGZHOU)
                         .where(t.source_key_changes.c.id == source.id))  # fmt: skip
            conn.execute(delete(t.authority_areas).where(t.authority_areas.c.area_code == "410000"))
            conn.execute(update(t.sources).where(t.sources.c.id == "lab-2")
                         .values(area_code=ZHENGZHOU))  # fmt: skip
        assert self_check.run(now=now, halt=False).ok


def test_a_wider_jurisdiction_co_signed_with_an_operators_token_is_logged_as_such(
    town: Town,
) -> None:
    # A wider jurisdiction is a two-person decision like a key change: met with a supervisor's
    # token the operator issued, it is a staff_token_use naming the co-signature (the
    # operator_tokens detector's input), which the self-check rebuilds.
    town.register_staff()
    now = town.clock.now()
    token = town.services.staff.issue_token("zz-sup-1", now=now, ttl=timedelta(minutes=15))
    claims = town.services.tokens.verify(token, audience=STAFF_AUDIENCE, now=now)
    [widening] = town.services.registry.load(
        {"authorities": [zz_health(ZHENGZHOU, SHANGHAI)]}, now=now
    ).proposed
    operator = replace(zz("zz-sup-1", "supervisor"), operator_token=claims.token_id)
    town.services.jurisdiction_changes.cosign(operator, widening.id, now=now)
    with town.services.db.read() as conn:
        [use] = conn.execute(t.staff_token_uses.select()).all()
    assert use.act == "jurisdiction_cosign"
    assert kinds_of_log(town)[-2:] == ["jurisdiction_cosign", "staff_token_use"]
    assert town.services.self_check.run(now=now, halt=False).ok


def test_supervisors_deactivated_or_demoted_do_not_lift_the_two_person_rule(town: Town) -> None:
    """The operator deactivates zz-health's supervisors, or makes them officials, then loads a
    new source: it is still proposed, not registered, and waits for a supervisor."""
    town.register_staff()
    now = town.clock.now()
    staff = town.services.staff
    off = [{"id": badge, "role": "supervisor", "authority": "zz-health", "name": name,
            "active": False} for badge, name in (("zz-sup-1", "李娜"), ("zz-sup-2", "王芳"))]  # fmt: skip
    staff.register(off, now=now)
    [change] = town.services.registry.load({"sources": [lab_2(town)]}, now=now).proposed
    with town.services.db.read() as conn:
        assert registry_repo.source(conn, "lab-2") is None
    town.services.source_keys.withdraw(None, change.id, now=now)
    demoted = [member | {"role": "official", "active": True} for member in off]
    staff.register(demoted, now=now)
    [again] = town.services.registry.load({"sources": [lab_2(town)]}, now=now).proposed
    assert again.id != change.id
    with town.services.db.read() as conn:
        assert registry_repo.source(conn, "lab-2") is None
    assert town.services.self_check.run(now=now, halt=False).ok


def test_a_supervisor_registered_before_0024_demoted_or_moved_still_holds_the_rule(
    town: Town,
) -> None:
    """A supervisor registered before migration 0024 has no ``staff_registrations`` row that
    made them one. Demoted, or moved to another authority, the registration that does it is
    the authority's only trace of them (its ``before``): a load of a new source still waits
    for a supervisor, as it does after a deactivation."""
    town.register_staff()
    now = town.clock.now()
    with town.services.db.write() as conn:  # as a deployment upgraded to 0024 holds them
        conn.execute(delete(t.staff_registrations))
    staff = town.services.staff
    staff.register([
        {"id": "zz-sup-1", "role": "official", "authority": "zz-health", "name": "李娜"},
        {"id": "zz-sup-2", "role": "supervisor", "authority": "sh-health", "name": "王芳"},
    ], now=now)  # fmt: skip
    [change] = town.services.registry.load({"sources": [lab_2(town)]}, now=now).proposed
    assert change.source_id == "lab-2"
    with town.services.db.read() as conn:
        assert registry_repo.source(conn, "lab-2") is None
