"""The latest checkpoint is cosigned by every configured witness eventually, not only when a
new one is signed: a quiet log, a witness that was down and one added later all catch up, and a
witness that stays down is asked again only after a growing delay (the services' clock)."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app as cli_app
from healthcode.cli import log as cli_log
from healthcode.services.cosigning import FIRST_RETRY, Cosigning, WitnessEndpoint
from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_app import create_witness_app
from healthcode.services.witness_state import MemoryWitnessStore
from healthcode.tlog import CosignatureSigner, parse_note
from healthcode.web.app import _sequence
from healthcode.web.metrics import Metrics
from tests.town import Town


class FlakyWitness:
    """A witness reached over HTTP that can be taken down; counts the requests it got."""

    def __init__(self, town: Town, name: str, seed: int) -> None:
        self.signer = CosignatureSigner(name, bytes([seed]) * 32)
        witness = Witness(
            self.signer,
            [WitnessedLog(town.services.settings.log_origin, (town.services.log.verifier,))],
            MemoryWitnessStore(),
            clock=lambda: int(town.clock.now().timestamp()),
        )
        self.up = TestClient(create_witness_app(witness), base_url=f"http://{seed}")
        self.down = True
        self.asked = 0

    def _refuse(self, request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    def client(self) -> Callable[[], object]:
        def make() -> object:
            self.asked += 1
            if self.down:
                return httpx2.Client(transport=httpx2.MockTransport(self._refuse))
            return self.up

        return make

    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(str(self.up.base_url), self.signer.verifier())


def _cosigners(town: Town) -> set[str]:
    note = parse_note(town.services.log.latest().note)
    return {sig.name for sig in note.signatures} - {town.services.settings.log_origin}


def test_a_witness_that_was_down_cosigns_a_quiet_log_after_its_backoff(town: Town) -> None:
    services = town.services
    witness = FlakyWitness(town, "witness.example/w1", 1)
    cosigning = Cosigning(
        services.db, services.log, [witness.endpoint()], client=witness.client(),  # type: ignore[arg-type]
        clock=town.clock,
    )  # fmt: skip
    town.test(town.person("alice"), town.clock.now(), "positive")
    assert services.sequencer.integrate(now=town.clock.now()) is not None
    assert cosigning.collect() == 0  # down
    assert [w.url for w in cosigning.missing()] == [witness.endpoint().url]
    # Within the backoff it is not asked again, however often the loop comes round.
    witness.down = False
    town.clock.advance(seconds=FIRST_RETRY.total_seconds() - 1)
    assert cosigning.collect() == 0
    assert witness.asked == 1
    # No new entry, yet once the backoff has run out the same checkpoint is cosigned.
    town.clock.advance(seconds=1)
    assert services.sequencer.integrate(now=town.clock.now()) is None
    assert cosigning.collect() == 1
    assert _cosigners(town) == {"witness.example/w1"}
    # Cosigned: nothing more to ask for until a new checkpoint.
    assert cosigning.collect() == 0
    assert witness.asked == 2


def test_the_backoff_doubles_while_a_witness_stays_down(town: Town) -> None:
    services = town.services
    witness = FlakyWitness(town, "witness.example/w1", 1)
    cosigning = Cosigning(
        services.db, services.log, [witness.endpoint()], client=witness.client(),  # type: ignore[arg-type]
        clock=town.clock,
    )  # fmt: skip
    town.test(town.person("alice"), town.clock.now(), "positive")
    services.sequencer.integrate(now=town.clock.now())
    asked_at = []
    for _second in range(0, 8 * int(FIRST_RETRY.total_seconds())):
        before = witness.asked
        cosigning.collect()
        if witness.asked > before:
            asked_at.append(_second)
        town.clock.advance(seconds=1)
    first = int(FIRST_RETRY.total_seconds())
    assert asked_at == [0, first, 3 * first, 7 * first]


def test_a_witness_added_later_cosigns_the_checkpoint_the_sequencer_loop_finds(
    town: Town,
) -> None:
    services = town.services
    town.test(town.person("alice"), town.clock.now(), "positive")
    services.sequencer.integrate(now=town.clock.now())
    # The server starts again with a witness configured; nothing new is ever written.
    witness = FlakyWitness(town, "witness.example/new", 2)
    witness.down = False
    services.cosigning = Cosigning(
        services.db, services.log, [witness.endpoint()], client=witness.client(),  # type: ignore[arg-type]
        clock=town.clock,
    )  # fmt: skip
    _sequence(services, Metrics(services.db, services.clock))
    assert _cosigners(town) == {"witness.example/new"}


def test_log_sequence_asks_for_the_cosignatures_the_latest_checkpoint_lacks(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = town.services
    witness = FlakyWitness(town, "witness.example/w1", 1)
    services.cosigning = Cosigning(
        services.db, services.log, [witness.endpoint()], client=witness.client(),  # type: ignore[arg-type]
        clock=town.clock,
    )  # fmt: skip
    monkeypatch.setattr(cli_log, "services", lambda: services)
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    town.test(town.person("alice"), town.clock.now(), "positive")
    down = CliRunner().invoke(cli_app, ["log", "sequence"])
    assert down.exit_code == 0, down.output
    assert "1 of 1 witnesses have not cosigned" in down.output
    assert f"not cosigned by {witness.endpoint().url}" in down.output
    witness.down = False
    town.clock.advance(seconds=FIRST_RETRY.total_seconds())
    up = CliRunner().invoke(cli_app, ["log", "sequence"])
    assert "nothing new to sign" in up.output
    assert "1 cosignatures added; 0 of 1 witnesses" in up.output
    assert _cosigners(town) == {"witness.example/w1"}
