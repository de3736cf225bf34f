"""Every write is a log entry in the same transaction; the sequencer signs; the self-check
finds any tampering with entries or with the rows they record."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from healthcode.domain import batches, evidence
from healthcode.domain.designations import RiskLevel
from healthcode.errors import StoreFault
from healthcode.services.escrow import open_escrow
from healthcode.store import copy as store_copy
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.store.keyfiles import load_or_create
from healthcode.tlog import MerkleTree, leaf_hash
from tests.log_rows import flip_byte, in_bundle, remove_entry, stored, swap_entries
from tests.town import ERQI, Town, days


def entry_kinds(town: Town) -> list[str]:
    with town.services.db.read() as conn:
        return [kind for _, kind, _ in stored(conn)]


def bodies(town: Town) -> list[bytes]:
    with town.services.db.read() as conn:
        return log_bundles.entries(conn, 0, log_bundles.next_index(conn))


def test_every_write_appends_its_entries(town: Town) -> None:
    # The town's set-up: one rulebook edition and one entry per registration.
    assert entry_kinds(town)[0] == "rulebook"
    assert set(entry_kinds(town)[1:]) == {"registry"}
    before = len(entry_kinds(town))
    alice = town.person("alice")
    town.test(alice, town.clock.now(), "positive")
    assert entry_kinds(town)[before:] == ["evidence_batch", "status_change"]
    town.designate(ERQI, RiskLevel.HIGH, town.clock.now() - days(1), None, id="d1")
    assert entry_kinds(town)[-1] == "designation"
    with town.services.db.read() as conn:
        batch_index = conn.scalar(select(t.evidence_batches.c.log_index))
        change_index = conn.scalar(select(t.status_changes.c.log_index))
    assert (batch_index, change_index) == (before, before + 1)


def test_entries_hold_no_person_key_and_tags_are_unlinkable(town: Town) -> None:
    alice = town.person("alice")
    town.test(alice, town.clock.now() - timedelta(hours=1), "positive")
    town.clock.advance(days=10)
    town.submit("lab-1", [town.record("recovery", alice, town.clock.now())])
    changes = [json.loads(b) for b in bodies(town) if b"status_change" in b]
    assert len(changes) == 2
    assert all(alice.encode() not in b for b in bodies(town))
    tags = {change["data"]["person"] for change in changes}
    assert len(tags) == 2  # the same person, two different tags


def test_oversight_opens_the_escrowed_secret(town: Town, tmp_path) -> None:  # type: ignore[no-untyped-def]
    alice = town.person("alice")
    town.test(alice, town.clock.now(), "positive")
    with town.services.db.read() as conn:
        sealed = log_repo.escrow(conn, alice)
    keys = load_or_create(town.services.settings.data_dir / "keys")
    assert sealed is not None and keys.oversight_private is not None
    assert open_escrow(sealed, keys.oversight_private) == (
        alice,
        town.services.secrets.secret(alice),
    )


def test_a_person_escrowed_before_keeps_their_escrow(town: Town) -> None:
    """The derivation seals the secret of everyone it changes without looking first; one who
    was escrowed already keeps the escrow stored then."""
    alice = town.person("alice")
    town.test(alice, town.clock.now(), "positive")
    with town.services.db.read() as conn:
        first = log_repo.escrow(conn, alice)
    town.clock.advance(days=10)
    town.submit("lab-1", [town.record("recovery", alice, town.clock.now())])
    assert len(town.history(alice)) == 2
    with town.services.db.read() as conn:
        assert log_repo.escrow(conn, alice) == first
        assert conn.scalar(select(func.count()).select_from(t.person_secrets)) == 1


def test_sequencer_signs_a_checkpoint_over_every_entry(town: Town) -> None:
    alice = town.person("alice")
    town.test(alice, town.clock.now(), "positive")
    signed = town.services.sequencer.integrate(now=town.clock.now())
    entries = bodies(town)
    assert signed is not None and signed.size == len(entries)
    tree = MerkleTree([leaf_hash(b) for b in entries])
    assert signed.root == tree.root()
    assert town.services.sequencer.integrate(now=town.clock.now()) is None  # nothing new
    for n in range(300):  # cross a full tile
        town.test(alice, town.clock.now(), "negative" if n % 2 else "positive")
    again = town.services.sequencer.integrate(now=town.clock.now())
    assert (
        again is not None and again.root == MerkleTree([leaf_hash(b) for b in bodies(town)]).root()
    )
    assert town.services.self_check.run(now=town.clock.now()).ok


def _tamper_entry_byte(town: Town) -> None:
    with town.services.db.write() as conn:
        flip_byte(conn, 3, 10)


def _delete_entry(town: Town) -> None:
    with town.services.db.write() as conn:
        remove_entry(conn, 3)


def _swap_entries(town: Town) -> None:
    with town.services.db.write() as conn:
        swap_entries(conn, 2, 3)


def _delete_bundle(town: Town) -> None:
    with town.services.db.write() as conn:
        conn.execute(t.log_bundles.delete().where(t.log_bundles.c.idx == 0))


def _break_bundle(town: Town) -> None:
    """A bundle row whose kinds hold one entry fewer than its entries: malformed."""
    with town.services.db.write() as conn:
        kinds = conn.scalar(select(t.log_bundles.c.kinds).where(t.log_bundles.c.idx == 0))
        shorter = "".join(f"{kind}\n" for kind in kinds.split("\n")[1:-1])
        conn.execute(update(t.log_bundles).where(t.log_bundles.c.idx == 0).values(kinds=shorter))


def _fill_a_bundle(town: Town) -> None:
    """300 people's positive results in one batch: entries 2 and 3 in a full bundle's row."""
    now = town.clock.now()
    people = [town.person(f"p{n}") for n in range(300)]
    town.submit(
        "lab-1",
        [town.record("test_result", p, now, method="pcr", result="positive") for p in people],
    )


def _edit_decision(town: Town) -> None:
    with town.services.db.write() as conn:
        conn.execute(update(t.status_changes).values(colour="green", rule_id="no-risk"))


def _edit_evidence(town: Town) -> None:
    with town.services.db.write() as conn:
        conn.execute(update(t.evidence).values(result="negative", canonical=b'{"forged":true}'))


def _edit_evidence_column(town: Town) -> None:
    """Only the column the status engine reads: the signed bytes and the batch's root stay."""
    with town.services.db.write() as conn:
        conn.execute(update(t.evidence).values(result="negative"))


_TAMPERS = [
    (_tamper_entry_byte, "flip-entry-byte"),
    (_delete_entry, "delete-entry"),
    (_swap_entries, "swap-entries"),
    (_edit_decision, "edit-decision"),
    (_edit_evidence, "edit-evidence"),
    (_edit_evidence_column, "edit-evidence-column"),
]


@pytest.mark.parametrize(
    ("tamper", "in_a_bundle"),
    [pytest.param(tamper, False, id=f"{name}-row") for tamper, name in _TAMPERS]
    + [pytest.param(tamper, True, id=f"{name}-bundle") for tamper, name in _TAMPERS[:3]]
    + [
        pytest.param(_delete_bundle, True, id="delete-bundle-row"),
        pytest.param(_break_bundle, True, id="malformed-bundle"),
    ],
)
def test_self_check_detects_tampering_and_halts_signing(  # type: ignore[no-untyped-def]
    town: Town, tamper, in_a_bundle: bool
) -> None:
    if in_a_bundle:
        _fill_a_bundle(town)
    alice = town.person("alice")
    town.test(alice, town.clock.now(), "positive")
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now()).ok
    with town.services.db.read() as conn:
        assert in_bundle(conn, 3) == in_a_bundle
    tamper(town)
    report = town.services.self_check.run(now=town.clock.now())
    assert not report.ok, tamper.__name__
    town.test(alice, town.clock.now(), "negative")
    assert town.services.sequencer.integrate(now=town.clock.now()) is None  # halted
    with town.services.db.read() as conn:
        assert log_repo.halts(conn)


@pytest.mark.parametrize("taken", ["last-row", "rows", "bundle-and-rows"])
def test_entries_taken_from_the_end_stop_writes_and_signing(town: Town, taken: str) -> None:
    """Without a self-check first (the server runs one at start-up only): once entries at the
    end of the signed tree are deleted, a write would take a signed index, so it is refused,
    and the sequencer halts rather than sign a smaller or different tree."""
    _fill_a_bundle(town)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size > 256
    with town.services.db.write() as conn:
        rows = t.log_entries.c.idx >= (signed.size - 1 if taken == "last-row" else 0)
        conn.execute(t.log_entries.delete().where(rows))
        if taken == "bundle-and-rows":
            conn.execute(t.log_bundles.delete())
    with pytest.raises(StoreFault, match=f"fewer than checkpoint {signed.size} signed") as refused:
        town.test(town.person("alice"), town.clock.now(), "negative")
    assert refused.value.code == "log.entries_missing"
    problems = town.services.self_check.run(now=town.clock.now()).problems
    assert (
        f"the store holds {signed.size - 1 if taken == 'last-row' else 256 if taken == 'rows' else 0} entries, fewer than checkpoint {signed.size} signed"
        in problems
    )
    assert town.services.sequencer.integrate(now=town.clock.now()) is None
    with town.services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == signed
        ((_, reason),) = log_repo.halts(conn)
    assert f"fewer than checkpoint {signed.size} signed" in reason


def test_the_sequencer_halts_on_an_entry_stored_twice(town: Town) -> None:
    """An entry row for an index a full bundle holds, among the entries a run integrates."""
    _fill_a_bundle(town)
    with town.services.db.write() as conn:
        body = {index: body for index, _, body in stored(conn)}[5]
        conn.execute(
            t.log_entries.insert().values(
                idx=5, kind="registry", body=body, recorded_at=town.clock.now()
            )
        )
    assert town.services.sequencer.integrate(now=town.clock.now()) is None
    with town.services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) is None
        ((_, reason),) = log_repo.halts(conn)
    assert reason == "entry 5 is stored twice: in a bundle and as a row"


def test_a_malformed_bundle_is_named_by_the_self_check(town: Town) -> None:
    _fill_a_bundle(town)
    town.services.sequencer.integrate(now=town.clock.now())
    _break_bundle(town)
    problems = town.services.self_check.run(now=town.clock.now()).problems
    assert any(
        p.startswith("the stored bundle 0 (entries from 0) is malformed: it holds")
        for p in problems
    ), problems
    for read in (lambda: town.services.log.entry(0), lambda: town.services.log.recent(400)):
        with pytest.raises(StoreFault, match="malformed") as refused:
            read()
        assert refused.value.code == "log.tile_missing"


@pytest.mark.parametrize("pipelined", [True, False])
def test_a_batch_s_changes_are_written_whole_in_a_pipeline_or_not(
    town: Town, pipelined: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the derivation's writes go in one pipeline up to `PIPELINED_ROWS` rows,
    and as before beyond: the same rows either way."""
    if not pipelined:
        monkeypatch.setattr(store_copy, "PIPELINED_ROWS", 0)
    people = [town.person(name) for name in ("ann", "ben", "cat")]
    now = town.clock.now()
    records = [town.record("test_result", p, now, method="pcr", result="positive") for p in people]
    assert town.submit("lab-1", records).status_changes == 3
    with town.services.db.read() as conn:
        assert {key for key in people if log_repo.escrow(conn, key) is not None} == set(people)
        changes = conn.execute(select(t.status_changes.c.log_index)).scalars().all()
        kinds = {index: kind for index, kind, _ in stored(conn)}
    assert sorted(kinds) == list(range(len(kinds)))
    assert sorted(kinds[index] for index in changes) == ["status_change"] * 3
    assert [town.history(p) for p in people] == [[("red", "confirmed-case", now, "evidence")]] * 3


@pytest.mark.parametrize(
    ("column", "value"),
    [("result", "negative"), ("person_key", "someone-else"), ("area_code", "310101"),
     ("occurred_at", datetime(2026, 1, 1, tzinfo=UTC)), ("kind", "recovery"),
     ("method", "antigen")],
)  # fmt: skip
def test_the_self_check_names_an_evidence_row_whose_columns_left_its_signed_bytes(
    town: Town, column: str, value: object
) -> None:
    alice, bob = town.person("alice"), town.person("bob")
    town.test(alice, town.clock.now(), "positive")
    town.test(bob, town.clock.now(), "positive")
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
    with town.services.db.write() as conn:
        source, record = conn.execute(
            select(t.evidence.c.source_id, t.evidence.c.record_id).where(
                t.evidence.c.person_key == alice
            )
        ).one()
        conn.execute(
            update(t.evidence).where(t.evidence.c.record_id == record).values({column: value})
        )
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [f"evidence {source}/{record}: its columns are not its signed bytes"]


def test_the_self_check_reads_a_record_stored_before_intake_was_strict(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake read ``"true"`` as a flag before it was strict: a store holding such a record
    is not made to fail its self-check (and halt) by the stricter intake."""
    with monkeypatch.context() as lax_intake:
        lax_intake.setattr(
            batches, "parse_evidence_all", functools.partial(evidence.parse_evidence_all, lax=True)
        )
        town.submit("border-1", [
            town.record("border_entry", town.person("ann"), town.clock.now(), port="PEK",
                        quarantine_required="true"),
        ])  # fmt: skip
    with town.services.db.read() as conn:
        assert conn.execute(select(t.evidence.c.quarantine_required)).scalars().all() == [True]
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems
