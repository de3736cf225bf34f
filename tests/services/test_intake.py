"""Evidence intake: signed, all or nothing, idempotent; bad input changes nothing."""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from healthcode.errors import InputRejected
from healthcode.store import log_bundles
from healthcode.store import tables as t
from tests.counting import counts
from tests.town import ERQI, PUDONG, Town

P1 = "11111111111111111111111111111111"
P2 = "22222222222222222222222222222222"


def test_a_batch_is_stored_whole_with_its_merkle_root(town: Town) -> None:
    now = town.clock.now()
    receipt = town.submit("lab-1", [
        town.record("test_result", P1, now - timedelta(hours=2), method="pcr", result="negative"),
        town.record("test_result", P1, now - timedelta(hours=1), method="antigen", result="negative"),
    ])  # fmt: skip
    assert (receipt.accepted, receipt.already_present) == (2, 0)
    assert len(bytes.fromhex(receipt.merkle_root)) == 32
    assert counts(town.services.db)["evidence"] == 2


def test_resubmitting_changes_nothing(town: Town) -> None:
    batch = town.batch(
        "lab-1", [town.record("test_result", P1, town.clock.now(), method="pcr", result="positive")]
    )
    first = town.services.intake.submit(batch, now=town.clock.now())
    before = counts(town.services.db)
    again = town.services.intake.submit(
        copy.deepcopy(batch), now=town.clock.now() + timedelta(minutes=1)
    )
    assert (first.accepted, again.accepted, again.already_present) == (1, 0, 1)
    assert counts(town.services.db) == before
    # The same record inside a new batch is also recognised as already present.
    record = batch["records"][0]
    third = town.services.intake.submit(town.batch("lab-1", [record]), now=town.clock.now())
    assert (third.accepted, third.already_present) == (0, 1)


def test_a_batch_with_a_stored_record_stores_the_others_under_one_entry(town: Town) -> None:
    """Its first write, as if every record were new, is rolled back whole: what stays is the
    new records, their batch's entry and the status change they cause, the log without a gap."""
    now = town.clock.now()
    stored = town.record("test_result", P1, now, method="pcr", result="negative")
    town.submit("lab-1", [stored])
    before = counts(town.services.db)
    receipt = town.submit("lab-1", [stored, town.record("test_result", P2, now, method="pcr",
                                                        result="positive")])  # fmt: skip
    assert (receipt.accepted, receipt.already_present, receipt.status_changes) == (1, 1, 1)
    after = counts(town.services.db)
    assert after["evidence"] - before["evidence"] == 1
    assert after["log entries"] - before["log entries"] == 2  # the batch's, the change's
    with town.services.db.read() as conn:
        assert (
            len(log_bundles.entries(conn, 0, log_bundles.next_index(conn))) == after["log entries"]
        )
        (row,) = conn.execute(
            select(t.evidence_batches).order_by(t.evidence_batches.c.log_index.desc()).limit(1)
        )
    assert row.record_count == 1 and row.merkle_root.hex() == receipt.merkle_root


def _resign(town: Town, body: dict[str, Any]) -> dict[str, Any]:
    return town.batch(body["source"], body["records"], body["batch_id"])


def _bad_cases(town: Town) -> dict[str, tuple[str, Callable[[], object]]]:
    now = town.clock.now()
    good = town.record("test_result", P1, now, method="pcr", result="positive")

    def signed(records: list[dict[str, Any]], source: str = "lab-1") -> Callable[[], object]:
        return lambda: town.batch(source, records)

    def forged() -> object:
        body = town.batch("lab-1", [good])
        body["records"][0]["result"] = "negative"  # changed after signing
        return body

    def other_key() -> object:
        return {**town.batch("scan-1", [good]), "source": "lab-1"}

    def unknown_source() -> object:
        return {**town.batch("lab-1", [good]), "source": "lab-unknown"}

    def reused_batch_id() -> object:
        town.services.intake.submit(
            town.batch(
                "lab-1",
                [town.record("test_result", P1, now, method="pcr", result="negative")],
                "fixed",
            ),
            now=now,
        )
        return town.batch("lab-1", [good], "fixed")

    big = [
        town.record("test_result", P1, now, method="pcr", result="negative") for _ in range(1001)
    ]
    return {
        "unknown source": ("source.unknown", unknown_source),
        "wrong signature": ("batch.signature_invalid", forged),
        "signed by another source's key": ("batch.signature_invalid", other_key),
        "kind not registered": ("evidence.kind_not_allowed", signed([town.record("vaccination", P1, now, vaccine="x", dose=1)])),
        "outside the source's area": ("evidence.area_outside_source", signed([{**good, "area": PUDONG}])),
        "unregistered area": ("evidence.area_unknown", signed([{**good, "area": "410199"}])),
        "future beyond skew": ("evidence.time_in_future", signed([{**good, "occurred_at": (now + timedelta(minutes=6)).isoformat()}])),
        "too many records": ("batch.too_large", signed(big)),
        "not an object": ("batch.malformed", lambda: ["records"]),
        "missing signature": ("batch.malformed", lambda: {"source": "lab-1", "batch_id": "x", "records": [good]}),
        "unknown field": ("batch.malformed", signed([{**good, "colour": "red"}])),
        "server field": ("batch.malformed", signed([{**good, "received_at": now.isoformat()}])),
        "naive time": ("batch.malformed", signed([{**good, "occurred_at": "2026-06-01T00:00:00"}])),
        "bad person key": ("batch.malformed", signed([{**good, "person": "ID 410102199001011234"}])),
        "unknown kind": ("batch.malformed", signed([{**good, "kind": "red_list"}])),
        "empty records": ("batch.malformed", signed([])),
        "second record bad": ("batch.malformed", signed([good, {**good, "record_id": "other", "result": "maybe"}])),
        "repeated record id": ("batch.malformed", signed([good, good])),
        # A signed "false" is text, not a flag: read as one, it would say what was not signed.
        "flag as text": ("batch.malformed", signed([town.record("border_entry", P1, now, port="PEK", quarantine_required="false")], "border-1")),
        "flag as a number": ("batch.malformed", signed([town.record("border_entry", P1, now, port="PEK", quarantine_required=0)], "border-1")),
        "unknown venue": ("evidence.venue_unknown", signed([town.record("venue_visit", P1, now, area=ERQI, venue_id="nowhere", presence="proven")], "scan-1")),
        "batch id reused with other content": ("batch.conflict", reused_batch_id),
    }  # fmt: skip


CASES = [
    "unknown source", "wrong signature", "signed by another source's key", "kind not registered",
    "outside the source's area", "unregistered area", "future beyond skew", "too many records",
    "not an object", "missing signature", "unknown field", "server field", "naive time",
    "bad person key", "unknown kind", "empty records", "second record bad", "repeated record id",
    "flag as text", "flag as a number", "unknown venue", "batch id reused with other content",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_and_changes_nothing(town: Town, case: str) -> None:
    code, make = _bad_cases(town)[case]
    body = make()
    before = counts(town.services.db)
    with pytest.raises(InputRejected) as refused:
        town.services.intake.submit(body, now=town.clock.now())
    assert refused.value.code == code
    assert counts(town.services.db) == before


def test_every_bad_case_is_exercised(town: Town) -> None:
    assert sorted(_bad_cases(town)) == sorted(CASES)


def test_the_refusal_names_the_first_failing_record_and_check(town: Town) -> None:
    """A batch with several faults is refused for the first, record by record: here a record
    outside the source's area comes before a malformed one and a repeated one."""
    now = town.clock.now()
    good = [town.record("test_result", P1, now, method="pcr", result="negative") for _ in range(4)]
    records = [good[0], {**good[1], "area": PUDONG}, {**good[2], "result": "maybe"}, good[0]]
    with pytest.raises(InputRejected) as refused:
        town.services.intake.submit(town.batch("lab-1", records), now=now)
    assert refused.value.code == "evidence.area_outside_source"
    assert "records[1]" in str(refused.value)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_as_it_was_after_a_batch(town: Town, enabled: bool) -> None:
    """Intake pauses the cyclic collector for a batch, and leaves it as it found it, whether
    the batch is taken or refused."""
    now = town.clock.now()
    good = town.record("test_result", P1, now, method="pcr", result="negative")
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        town.submit("lab-1", [good])
        assert gc.isenabled() is enabled
        with pytest.raises(InputRejected):
            town.submit("lab-1", [{**good, "record_id": "r-bad", "area": PUDONG}])
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
