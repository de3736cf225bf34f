"""The witness persists before it answers, serialises racing requests, and restarts safely."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_protocol import WitnessError
from healthcode.services.witness_state import (
    JsonFileWitnessStore,
    MemoryWitnessStore,
    WitnessState,
    WitnessStateError,
)
from healthcode.tlog import CosignatureSigner, cosignature_timestamp, parse_note

from .conftest import ORIGIN, Clock, SigningLog


def make_witness(
    log: SigningLog, signer: CosignatureSigner, store: object, clock: Clock
) -> Witness:
    logs = [WitnessedLog.from_vkeys(ORIGIN, [log.signer.verifier().to_vkey()])]
    return Witness(signer, logs, store, clock)  # type: ignore[arg-type]


def test_state_survives_a_restart_through_the_json_file(
    tmp_path: Path, log: SigningLog, signer: CosignatureSigner, clock: Clock
) -> None:
    path = tmp_path / "witness-state.json"
    first = make_witness(log, signer, JsonFileWitnessStore(path), clock)
    first.handle(log.request(0, 10))
    other = SigningLog(tag="other", signer=log.signer)
    with pytest.raises(WitnessError):
        first.add_checkpoint(10, [], other.checkpoint(10))
    raw = json.loads(path.read_text())
    assert raw["version"] == 1
    assert raw["logs"][ORIGIN]["size"] == 10
    assert raw["logs"][ORIGIN]["checkpoint"] == log.checkpoint(10)
    assert raw["split_views"][0]["size"] == 10

    again = make_witness(log, signer, JsonFileWitnessStore(path), clock)
    with pytest.raises(WitnessError) as caught:
        again.handle(log.request(0, 20))
    assert (caught.value.status, caught.value.latest_size) == (409, 10)
    assert len(again.split_views) == 1
    assert again.handle(log.request(10, 20))


def test_a_corrupt_state_file_stops_the_witness(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "logs": {"x": {"size": -1}}, "split_views": []}')
    with pytest.raises(WitnessStateError):
        JsonFileWitnessStore(path).load()
    path.write_text("[]")
    with pytest.raises(WitnessStateError):
        JsonFileWitnessStore(path).load()


def test_the_state_round_trips_through_json(
    log: SigningLog, signer: CosignatureSigner, clock: Clock
) -> None:
    store = MemoryWitnessStore()
    witness = make_witness(log, signer, store, clock)
    witness.handle(log.request(0, 3))
    state = store.load()
    assert WitnessState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_the_injected_clock_dates_each_cosignature(
    log: SigningLog, signer: CosignatureSigner, clock: Clock
) -> None:
    witness = make_witness(log, signer, MemoryWitnessStore(), clock)
    for old, new, now in [(0, 1, 1000), (1, 2, 2000)]:
        clock.now = now
        (line,) = witness.handle(log.request(old, new))
        (sig,) = parse_note(log.checkpoint(new) + line + "\n").signatures[1:]
        assert cosignature_timestamp(sig) == now


class SlowStore(MemoryWitnessStore):
    """Saves slowly, so racing requests overlap inside the witness."""

    def save(self, state: WitnessState) -> None:
        time.sleep(0.05)
        super().save(state)


def test_racing_requests_from_the_same_size_cannot_roll_back(
    log: SigningLog, signer: CosignatureSigner, clock: Clock
) -> None:
    store = SlowStore()
    witness = make_witness(log, signer, store, clock)
    witness.handle(log.request(0, 10))
    bodies = [log.request(10, 20), log.request(10, 30)]
    outcomes: list[object] = []

    def send(body: bytes) -> None:
        try:
            outcomes.append(witness.handle(body))
        except WitnessError as exc:
            outcomes.append(exc.latest_size)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cosigned = [o for o in outcomes if isinstance(o, list)]
    refused = [o for o in outcomes if isinstance(o, int)]
    assert len(cosigned) == 1 and len(refused) == 1
    head = witness.latest(ORIGIN)
    assert head is not None and refused == [head.size] and head.size in (20, 30)
    assert store.saves == 2


def test_a_failed_save_cosigns_nothing(
    log: SigningLog, signer: CosignatureSigner, clock: Clock
) -> None:
    class BrokenStore(MemoryWitnessStore):
        def save(self, state: WitnessState) -> None:
            raise OSError("disk full")

    witness = make_witness(log, signer, BrokenStore(), clock)
    with pytest.raises(OSError):
        witness.handle(log.request(0, 10))
    assert witness.latest(ORIGIN) is None
