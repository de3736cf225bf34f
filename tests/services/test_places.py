"""Place codes and scans: presence is proven only by a fresh code (A2), scans are committed to
the log in sealed batches, a person can prove their scan, and bad codes change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from healthcode.domain.designations import RiskLevel
from healthcode.domain.evidence import Presence
from healthcode.errors import HealthcodeError
from healthcode.services.places import ScanRequest
from healthcode.services.scan_batches import canonical_visit
from healthcode.store import tables as t
from healthcode.tlog import leaf_hash, verify_inclusion
from tests.conftest import make_services
from tests.counting import counts, refusal_codes
from tests.independent_verifier import verify_receipt
from tests.town import ERQI, PUDONG, ZHONGYUAN, Town


def designate_station_high(town: Town) -> None:
    town.designate(
        ERQI, RiskLevel.HIGH, town.clock.now() - timedelta(hours=1), None,
        id="d-station", venue="station",
    )  # fmt: skip


def test_a2_a_forwarded_code_is_unverified_and_a_fresh_scan_counts(town: Town) -> None:
    """A station's code copied and scanned 10 minutes later from Shanghai leaves the person
    green; scanning the station's live code on site makes them red under the designation."""
    designate_station_high(town)
    places = town.services.places
    person = town.person("shanghai-resident", home=PUDONG)
    copied = places.current_code("station", town.clock.now()).text

    town.clock.advance(minutes=10)
    forwarded = places.scan(person, copied, town.clock.now())
    assert forwarded.presence is Presence.UNVERIFIED
    assert forwarded.colour == "green"
    assert town.status(person) == ("green", "no-risk")
    assert town.history(person) == []

    fresh = places.current_code("station", town.clock.now()).text
    on_site = places.scan(person, fresh, town.clock.now())
    assert on_site.presence is Presence.PROVEN
    assert on_site.colour == "red"
    view = town.services.explanations.explain(person, now=town.clock.now())
    assert view.status.rule_id == "high-risk-visit"
    assert f"evidence:{on_site.source_id}/{on_site.record_id}" in view.status.inputs
    assert f"evidence:{forwarded.source_id}/{forwarded.record_id}" not in view.status.inputs
    # The scan answer is what staff see: the venue's names and the time.
    assert (on_site.venue.name_en, on_site.at) == ("Zhengzhou Station", town.clock.now())


def test_freshness_window(town: Town) -> None:
    places = town.services.places
    policy = places.policy
    person = town.person("window")
    code = places.current_code("market", town.clock.now())
    assert code.valid_until is not None
    # Just after the window, within the freshness tolerance: still proof of presence.
    town.clock.set(code.valid_until + policy.freshness - timedelta(milliseconds=1))
    assert places.scan(person, code.text, town.clock.now()).presence is Presence.PROVEN
    other = town.person("window-late")
    town.clock.set(code.valid_until + policy.freshness)
    assert places.scan(other, code.text, town.clock.now()).presence is Presence.UNVERIFIED


def test_a_printed_static_code_never_proves_presence(town: Town) -> None:
    designate_station_high(town)
    places = town.services.places
    person = town.person("static")
    printed = places.static_code("station", town.clock.now())
    assert printed.window is None
    result = places.scan(person, printed.text, town.clock.now())
    assert (result.presence, result.colour) == (Presence.UNVERIFIED, "green")


def test_refused_codes_change_nothing(town: Town) -> None:
    places = town.services.places
    person = town.person("refused")
    good = places.current_code("station", town.clock.now()).text
    places.scan(person, good, town.clock.now())
    tampered = good[:-3] + ("000" if not good.endswith("000") else "111")
    cases = {
        "place.replayed": good,
        "place.malformed": "HCV1:not base45 at all!",
        "place.unknown_venue": _foreign_code(),
    }
    before = counts(town.services.db)
    for code, text in cases.items():
        with pytest.raises(HealthcodeError) as caught:
            places.scan(person, text, town.clock.now())
        assert caught.value.code == code
    with pytest.raises(HealthcodeError) as caught:
        places.scan(person, tampered, town.clock.now())
    assert caught.value.code in {"place.signature", "place.malformed"}
    assert counts(town.services.db) == before


def _foreign_code() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from healthcode.credentials.passes import place_code

    return place_code("station", 1, Ed25519PrivateKey.generate(), b"elsewhere")


def test_batches_are_sealed_into_the_log_and_a_scan_proof_verifies(town: Town) -> None:
    services = town.services
    places = services.places
    people = [town.person(f"p{n}", home=ZHONGYUAN) for n in range(5)]
    results = [
        places.scan(p, places.current_code("market", town.clock.now()).text, town.clock.now())
        for p in people
    ]
    batch_ids = _batch_of(town, results[0].record_id)
    assert {_batch_of(town, r.record_id) for r in results} == {batch_ids}
    # Open: the evidence counts already, but the batch is not in the log yet.
    assert counts(services.db)["evidence_batches"] == 0
    with pytest.raises(HealthcodeError) as caught:
        places.proof(people[0], results[0].record_id)
    assert caught.value.code == "scan.not_sealed"
    assert places.seal_due(town.clock.now()) == 0  # the second is not over
    town.clock.advance(seconds=1)
    assert places.seal_due(town.clock.now()) == 1
    assert places.seal_due(town.clock.now()) == 0
    services.sequencer.integrate(now=town.clock.now())

    proof = places.proof(people[2], results[2].record_id)
    assert proof.batch_size == 5
    verify_inclusion(
        leaf_hash(proof.record), proof.leaf_index, proof.batch_size, proof.inclusion,
        proof.batch_root,
    )  # fmt: skip
    assert f'"root":"{proof.batch_root.hex()}"'.encode() in proof.entry
    verify_receipt(proof.receipt, proof.entry, services.log.vkey())
    with pytest.raises(HealthcodeError):
        places.proof(people[0], results[2].record_id)  # not theirs
    report = services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


def _batch_of(town: Town, record_id: str) -> str:
    with town.services.db.read() as conn:
        from sqlalchemy import select

        return str(
            conn.scalar(select(t.evidence.c.batch_id).where(t.evidence.c.record_id == record_id))
        )


def test_a_scan_in_a_later_second_seals_the_open_batch(town: Town) -> None:
    places = town.services.places
    first = places.scan(
        town.person("a"), places.current_code("market", town.clock.now()).text, town.clock.now()
    )
    town.clock.advance(seconds=2)
    second = places.scan(
        town.person("b"), places.current_code("market", town.clock.now()).text, town.clock.now()
    )
    assert _batch_of(town, first.record_id) != _batch_of(town, second.record_id)
    assert counts(town.services.db)["evidence_batches"] == 1
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


def test_a_changed_stored_scan_is_detected_by_the_self_check(town: Town) -> None:
    places = town.services.places
    result = places.scan(
        town.person("c"), places.current_code("market", town.clock.now()).text, town.clock.now()
    )
    places.seal_due(town.clock.now(), everything=True)
    town.services.sequencer.integrate(now=town.clock.now())
    with town.services.db.write() as conn:
        conn.execute(
            t.evidence.update()
            .where(t.evidence.c.record_id == result.record_id)
            .values(canonical=b"{}")
        )
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert not report.ok


def test_the_gateway_path_records_many_scans_in_one_transaction(town: Town) -> None:
    places = town.services.places
    now = town.clock.now()
    people = [town.person(f"g{n}") for n in range(4)]
    code = places.current_code("station", now).text
    outcomes = places.scan_many(
        [ScanRequest(p, code) for p in people] + [ScanRequest(people[0], code),
                                                   ScanRequest(people[1], "HCV1:???")],
        now,
    )  # fmt: skip
    assert [o.error.code if o.error else o.result.presence for o in outcomes] == [
        Presence.PROVEN, Presence.PROVEN, Presence.PROVEN, Presence.PROVEN,
        "place.replayed", "place.malformed",
    ]  # fmt: skip
    assert refusal_codes(town.services.db)[-2:] == ["place.replayed", "place.malformed"]
    assert counts(town.services.db)["evidence"] == 4


def test_a_gateway_batch_with_an_earlier_scan_replayed_records_the_rest(town: Town) -> None:
    """The batch is written optimistically; a stored replay rolls it back to its savepoint and
    the others are written again, with no gap in the open batch."""
    places = town.services.places
    now = town.clock.now()
    first, second, third = (town.person(f"r{n}") for n in range(3))
    code = places.current_code("station", now).text
    places.scan_many([ScanRequest(first, code)], now)
    before = counts(town.services.db)
    outcomes = places.scan_many(
        [ScanRequest(second, code), ScanRequest(first, code), ScanRequest(third, code)], now
    )
    assert [o.error.code if o.error else o.result.presence for o in outcomes] == [
        Presence.PROVEN, "place.replayed", Presence.PROVEN,
    ]  # fmt: skip
    assert counts(town.services.db)["evidence"] == before["evidence"] + 2
    assert refusal_codes(town.services.db)[-1] == "place.replayed"
    town.clock.advance(seconds=1)
    assert places.seal_due(town.clock.now()) >= 1
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_scans_are_evidence_of_a_registered_server_source(town: Town) -> None:
    places = town.services.places
    result = places.scan(
        town.person("d"), places.current_code("mall", town.clock.now()).text, town.clock.now()
    )
    with town.services.db.read() as conn:
        from healthcode.store import registry as registry_repo

        source = registry_repo.source(conn, result.source_id)
        record = conn.execute(
            t.evidence.select().where(t.evidence.c.record_id == result.record_id)
        ).one()
    assert source is not None
    assert (source.authority_id, source.area) == ("sh-health", "310100")
    assert record.area_code == PUDONG
    # The stored leaf is the visit in its canonical (RFC 8785) form.
    import rfc8785

    from healthcode.store.evidence import to_evidence

    visit = to_evidence(record)
    assert canonical_visit(visit) == bytes(record.canonical)  # type: ignore[arg-type]
    assert rfc8785.dumps(__import__("json").loads(bytes(record.canonical))) == bytes(
        record.canonical
    )


def test_a_revoked_scan_source_takes_no_more_scans(town: Town) -> None:
    from healthcode.services.orders import Actor

    places = town.services.places
    first = places.scan(
        town.person("e"), places.current_code("market", town.clock.now()).text, town.clock.now()
    )
    supervisor = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({"410100"}))
    town.services.sources.revoke(
        supervisor, first.source_id, reason="key_compromised", now=town.clock.now()
    )
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as caught:
        places.scan(
            town.person("f"), places.current_code("market", town.clock.now()).text,
            town.clock.now(),
        )  # fmt: skip
    assert caught.value.code == "source.inactive"
    assert counts(town.services.db) == {**before, "persons": before["persons"] + 1}


def test_sealing_uses_the_records_written_here_and_reads_what_another_process_wrote(
    town: Town, tmp_path: Path
) -> None:
    """A batch only this process wrote is sealed from the records it kept once committed,
    without reading them back; a batch another process also wrote into is read from the
    store. Either way the root is the stored records' (the self-check recomputes it)."""
    places = town.services.places
    other = make_services(town.services.db, town.clock, tmp_path / "data").places
    now = town.clock.now()
    code = places.current_code("market", now).text
    places.scan_many([ScanRequest(town.person("own-1"), code)], now)
    places.scan_many([ScanRequest(town.person("own-2"), code)], now)
    town.clock.advance(seconds=1)
    with reads_of_batch_records(town) as reads:
        assert places.seal_due(town.clock.now()) == 1
    assert reads == []
    now = town.clock.now()
    code = places.current_code("market", now).text
    places.scan_many([ScanRequest(town.person("own-3"), code)], now)
    other.scan_many([ScanRequest(town.person("theirs"), code)], now)
    places.scan_many([ScanRequest(town.person("own-4"), code)], now)
    town.clock.advance(seconds=1)
    with reads_of_batch_records(town) as reads:
        assert places.seal_due(town.clock.now()) == 1
    assert len(reads) == 1
    town.services.sequencer.integrate(now=town.clock.now())
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


@contextmanager
def reads_of_batch_records(town: Town) -> Iterator[list[str]]:
    """The statements that read a batch's records back (`store.places.batch_leaves`)."""
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if "evidence.canonical" in sql and "ORDER BY evidence.position" in sql:
            seen.append(sql)

    engine = town.services.db.engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
