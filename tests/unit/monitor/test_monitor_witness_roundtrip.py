"""Log -> witness -> cosigned checkpoint served by the log -> the monitor accepts it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from healthcode.services.monitor import MonitorError, verify_log
from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_app import create_witness_app
from healthcode.services.witness_client import append_cosignatures, request_cosignature
from healthcode.services.witness_state import MemoryWitnessStore
from healthcode.tlog import CosignatureSigner, CosignatureVerifier

from .fake_log import BASE_URL, FakeLog, seed

WITNESS_URL = "http://witness.test"


def test_a_cosigned_checkpoint_round_trips(log: FakeLog, http: TestClient, tmp_path: Path) -> None:
    signer = CosignatureSigner("witness.example/w1", seed("witness"))
    witness = Witness(
        signer,
        [WitnessedLog.from_vkeys(log.origin, [log.vkey])],
        MemoryWitnessStore(),
        lambda: 1_781_000_000,
    )
    verifier = CosignatureVerifier.from_vkey(witness.vkey)
    state_path = tmp_path / "monitor.json"

    def prove(old: int, new: int) -> list[bytes]:
        return log.tree.consistency_proof(old, new)

    with TestClient(create_witness_app(witness), base_url=WITNESS_URL) as witness_http:
        for size in [300, 1000]:
            plain = log.grow(size - len(log.entries))
            lines = request_cosignature(
                WITNESS_URL, 0, [], plain, witness_http, prove=prove, verifier=verifier
            )
            log.checkpoint = append_cosignatures(plain, lines)
            report = verify_log(
                BASE_URL, state_path, client=http, witness_keys=[witness.vkey], min_cosignatures=1
            )
            assert report.cosigners == ("witness.example/w1",)
            assert report.size == size and report.checkpoint == log.checkpoint

    # Without the witness keys the cosignature is an unknown signature: ignored.
    log.grow(1)
    assert verify_log(BASE_URL, state_path, client=http).cosigners == ()

    # A forged cosignature by a trusted witness key rejects the checkpoint.
    log.checkpoint = append_cosignatures(log.checkpoint, [lines[0]])
    with pytest.raises(MonitorError) as caught:
        verify_log(BASE_URL, state_path, client=http, witness_keys=[witness.vkey])
    assert caught.value.code == "monitor.signature_invalid"
