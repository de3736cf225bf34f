"""The log collects a witness's cosignatures and serves them; the monitor requires them; a
witness refuses a split view of the same log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from healthcode.services.cosigning import Cosigning, WitnessEndpoint
from healthcode.services.monitor import verify_log
from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_app import create_witness_app
from healthcode.services.witness_client import WitnessRequestError, request_cosignature
from healthcode.services.witness_state import MemoryWitnessStore
from healthcode.tlog import Checkpoint, CosignatureSigner, sign_checkpoint
from healthcode.web.app import create_app
from tests.town import Town


def test_cosigned_checkpoints_and_a_refused_split_view(town: Town, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = town.services
    signer = CosignatureSigner("witness.example/w1", bytes(range(32)))
    witness = Witness(
        signer,
        [WitnessedLog(services.settings.log_origin, (services.log.verifier,))],
        MemoryWitnessStore(),
        clock=lambda: int(town.clock.now().timestamp()),
    )
    witness_client = TestClient(create_witness_app(witness), base_url="http://witness")
    cosigning = Cosigning(
        services.db,
        services.log,
        [WitnessEndpoint("http://witness", signer.verifier())],
        client=lambda: witness_client,
    )
    alice = town.person("alice")
    log_client = TestClient(create_app(services, run_scheduler=False), base_url="http://log")
    state = tmp_path / "monitor.json"
    for result in ("positive", "negative", "positive"):
        town.clock.advance(hours=1)
        town.test(alice, town.clock.now(), result)
        services.sequencer.integrate(now=town.clock.now())
        assert cosigning.collect() == 1
        note = log_client.get("/log/checkpoint").text
        assert "— witness.example/w1 " in note
        report = verify_log(
            "http://log/log/", state, client=log_client,
            witness_keys=[signer.verifier().to_vkey()], min_cosignatures=1,
        )  # fmt: skip
        assert report.cosigners == ("witness.example/w1",)
    # A log that shows another view of the same size is refused and reported.
    latest = services.log.latest()
    forked = sign_checkpoint(
        Checkpoint(services.settings.log_origin, latest.size, b"\x07" * 32),
        [services.sequencer.signer],
    )
    with pytest.raises(WitnessRequestError) as refused:
        request_cosignature("http://witness", latest.size, [], forked, witness_client)
    assert refused.value.status == 409
    assert [view.size for view in witness.split_views] == [latest.size]
