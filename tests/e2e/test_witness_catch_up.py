"""The latest checkpoint is cosigned by every configured witness eventually, not only when a
new one is signed: a quiet log, a witness that was down and one added later all catch up, and a
witness that stays down or refuses is asked again only after a growing delay (the services'
clock). Witnesses are asked by a task of their own, all at once under one deadline: signing
never waits for one. A witness whose 409 shows a split view or a rollback is an alarm."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx2
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app as cli_app
from healthcode.cli import log as cli_log
from healthcode.services.cosigning import DEADLINE, FIRST_RETRY, Cosigning, WitnessEndpoint
from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_app import create_witness_app
from healthcode.services.witness_state import MemoryWitnessStore
from healthcode.tlog import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    parse_note,
    sign_checkpoint,
)
from healthcode.web.app import _cosign, _sequence
from healthcode.web.metrics import Metrics
from tests.town import Town

CONFLICTS = "healthcode_log_witness_conflicts_total"


class FlakyWitness:
    """A witness reached over HTTP that is ``down``, ``up`` or ``hanging`` (no answer until
    ``release``); counts the POSTs sent to it. One that does not trust the log's key refuses
    every checkpoint (403)."""

    def __init__(self, town: Town, name: str, seed: int, *, trusts_log: bool = True) -> None:
        self.signer = CosignatureSigner(name, bytes([seed]) * 32)
        key = town.services.log.verifier
        if not trusts_log:
            key = Ed25519Signer(town.services.settings.log_origin, b"\x09" * 32).verifier()
        self.witness = Witness(
            self.signer,
            [WitnessedLog(town.services.settings.log_origin, (key,))],
            MemoryWitnessStore(),
            clock=lambda: int(town.clock.now().timestamp()),
        )
        self.url = f"http://witness-{seed}"
        self.app = TestClient(create_witness_app(self.witness), base_url=self.url)
        self.mode = "down"
        self.posts = 0
        self.entered = threading.Event()  # a request reached it
        self.release = threading.Event()
        self.answered: Callable[[], None] = lambda: None

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.posts += 1
        self.entered.set()
        if self.mode == "down":
            raise httpx2.ConnectError("connection refused", request=request)
        if self.mode == "hanging":
            self.release.wait(timeout=30)
            raise httpx2.ReadTimeout("no answer", request=request)
        answer = self.app.post(
            request.url.path,
            content=request.content,
            headers={"Content-Type": request.headers["content-type"]},
        )
        self.answered()
        return httpx2.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(self.url, self.signer.verifier())

    def cosign_directly(self, size: int, root: bytes, town: Town) -> None:
        """Have the witness cosign a checkpoint of this log as if the log had sent it."""
        origin = town.services.settings.log_origin
        note = sign_checkpoint(Checkpoint(origin, size, root), [town.services.sequencer.signer])
        self.witness.add_checkpoint(0, [], note)


MakeCosigning = Callable[..., Cosigning]


@pytest.fixture
def cosigning_for(town: Town) -> MakeCosigning:
    """A ``Cosigning`` (one more each call, as after a restart) asking these witnesses over
    one HTTP client factory, on the town's clock."""

    def make(*witnesses: FlakyWitness, timer: Callable[[], float] | None = None) -> Cosigning:
        by_host = {httpx2.URL(w.url).host: w for w in witnesses}

        def client() -> httpx2.Client:
            route = httpx2.MockTransport(lambda request: by_host[request.url.host].handle(request))
            return httpx2.Client(transport=route)

        return Cosigning(
            town.services.db, town.services.log, [w.endpoint() for w in witnesses],
            client=client, clock=town.clock, timer=timer or time.monotonic,
        )  # fmt: skip

    return make


def _cosigners(town: Town) -> set[str]:
    note = parse_note(town.services.log.latest().note)
    return {sig.name for sig in note.signatures} - {town.services.settings.log_origin}


def _signed(town: Town, result: str = "positive") -> int:
    town.test(town.person("alice"), town.clock.now(), result)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    return signed.size


def test_a_witness_that_was_down_cosigns_a_quiet_log_after_its_backoff(
    town: Town, cosigning_for: MakeCosigning
) -> None:
    witness = FlakyWitness(town, "witness.example/w1", 1)
    cosigning = cosigning_for(witness)
    _signed(town)
    assert cosigning.collect() == 0  # down
    assert [w.url for w in cosigning.missing()] == [witness.url]
    # Within the backoff it is not asked again, however often the loop comes round.
    witness.mode = "up"
    town.clock.advance(seconds=FIRST_RETRY.total_seconds() - 1)
    assert cosigning.collect() == 0
    assert witness.posts == 1
    # No new entry, yet once the backoff has run out the same checkpoint is cosigned.
    town.clock.advance(seconds=1)
    assert town.services.sequencer.integrate(now=town.clock.now()) is None
    assert cosigning.collect() == 1
    assert _cosigners(town) == {"witness.example/w1"}
    # Cosigned: nothing more to ask for until a new checkpoint.
    assert cosigning.collect() == 0
    assert witness.posts == 2


@pytest.mark.parametrize("mode", ["down", "refusing"])
def test_the_backoff_doubles_while_a_witness_stays_down_or_refuses(
    town: Town, cosigning_for: MakeCosigning, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    witness = FlakyWitness(town, "witness.example/w1", 1, trusts_log=mode == "down")
    witness.mode = "down" if mode == "down" else "up"  # up, but refusing: another log key
    cosigning = cosigning_for(witness)
    _signed(town)
    posted_at = []
    for second in range(0, 8 * int(FIRST_RETRY.total_seconds())):
        before = witness.posts
        cosigning.collect()
        posted_at += [second] * (witness.posts - before)
        town.clock.advance(seconds=1)
    first = int(FIRST_RETRY.total_seconds())
    assert posted_at == [0, first, 3 * first, 7 * first]  # one POST each time: no 409 to follow
    assert _cosigners(town) == set()
    warned = [r for r in caplog.records if r.name == "healthcode.cosigning"]
    assert len(warned) == 4 and {r.levelno for r in warned} == {logging.WARNING}
    if mode == "refusing":
        assert "HTTP 403" in warned[0].getMessage()


def test_after_a_restart_the_witness_409_is_followed_to_the_size_it_cosigned(
    town: Town, cosigning_for: MakeCosigning
) -> None:
    witness = FlakyWitness(town, "witness.example/w1", 1)
    witness.mode = "up"
    assert cosigning_for(witness).collect() == 0  # nothing signed yet: nothing asked
    first = _signed(town)
    assert cosigning_for(witness).collect() == 1 and witness.posts == 1
    later = _signed(town, "negative")
    assert later > first
    # A new process knows nothing of what the witness cosigned: its first POST (from 0) gets a
    # 409 naming the size, and the second, from there with a proof, is cosigned.
    restarted = cosigning_for(witness)
    assert restarted.collect() == 1
    assert witness.posts == 3
    head = witness.witness.latest(town.services.settings.log_origin)
    assert head is not None and head.size == later
    # From then on the process knows: one POST for the next checkpoint.
    _signed(town)
    assert restarted.collect() == 1 and witness.posts == 4


@pytest.mark.parametrize("conflict", ["split_view", "rollback"])
def test_a_witness_that_saw_another_history_is_an_alarm(
    town: Town, cosigning_for: MakeCosigning, conflict: str, caplog: pytest.LogCaptureFixture
) -> None:
    size = _signed(town)
    witness = FlakyWitness(town, "witness.example/w1", 1)
    witness.mode = "up"
    # What the witness cosigned before: another root at our size, or more entries than we have.
    witness.cosign_directly(size if conflict == "split_view" else size + 5, b"\x07" * 32, town)
    services, metrics = town.services, Metrics(town.services.db, town.clock)
    services.cosigning = cosigning_for(witness)
    _cosign(services, metrics)
    assert _cosigners(town) == set()
    # A split view is proven by the second POST (from our size); a rollback by the first.
    assert witness.posts == (2 if conflict == "split_view" else 1)
    other = "rollback" if conflict == "split_view" else "split_view"
    assert metrics.registry.get_sample_value(CONFLICTS, {"conflict": conflict}) == 1
    assert metrics.registry.get_sample_value(CONFLICTS, {"conflict": other}) == 0
    ours = [r for r in caplog.records if r.name == "healthcode.cosigning"]
    assert [r.levelno for r in ours] == [logging.ERROR]
    assert witness.url in ours[0].getMessage() and conflict.split("_")[0] in ours[0].getMessage()


def test_witnesses_are_asked_at_once_and_one_that_hangs_holds_up_nothing(
    town: Town, cosigning_for: MakeCosigning
) -> None:
    hanging = FlakyWitness(town, "witness.example/slow", 1)
    hanging.mode = "hanging"
    quick = FlakyWitness(town, "witness.example/quick", 2)
    quick.mode = "up"
    # The quick one answers only once the hanging one has its request: asked one after the
    # other, it would wait for ever. Its answer takes (on the collect's timer) past the deadline.
    elapsed = [0.0]

    def answered() -> None:
        assert hanging.entered.wait(timeout=30), "the witnesses were not asked at once"
        elapsed[0] = DEADLINE + 1

    quick.answered = answered
    cosigning = cosigning_for(hanging, quick, timer=lambda: elapsed[0])
    size = _signed(town)
    try:
        assert cosigning.collect() == 1
    finally:
        hanging.release.set()
    assert _cosigners(town) == {"witness.example/quick"}
    assert [w.url for w in cosigning.missing()] == [hanging.url]
    # The one that gave no answer in time failed: asked again after the backoff, not before.
    hanging.mode = "up"
    assert cosigning.collect() == 0 and hanging.posts == 1
    town.clock.advance(seconds=FIRST_RETRY.total_seconds())
    elapsed[0] = 0.0
    assert cosigning.collect() == 1
    assert _cosigners(town) == {"witness.example/quick", "witness.example/slow"}
    assert town.services.log.latest().size == size


def test_signing_waits_for_no_witness_and_the_cosigning_task_asks_them(
    town: Town, cosigning_for: MakeCosigning
) -> None:
    services, metrics = town.services, Metrics(town.services.db, town.clock)
    town.test(town.person("alice"), town.clock.now(), "positive")
    witness = FlakyWitness(town, "witness.example/new", 2)
    witness.mode = "hanging"  # were it asked by the sequencer's job, the job would hang
    services.cosigning = cosigning_for(witness)
    try:
        _sequence(services, metrics)
    finally:
        witness.release.set()
    assert witness.posts == 0
    assert services.log.latest().size > 0
    # A witness added later (the server starts again with it configured) cosigns the
    # checkpoint the cosigning task finds, though nothing new is ever written.
    witness.mode = "up"
    services.cosigning = cosigning_for(witness)
    _cosign(services, metrics)
    assert _cosigners(town) == {"witness.example/new"}


def test_log_sequence_asks_for_the_cosignatures_the_latest_checkpoint_lacks(
    town: Town, cosigning_for: MakeCosigning, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = town.services
    witness = FlakyWitness(town, "witness.example/w1", 1)
    services.cosigning = cosigning_for(witness)
    monkeypatch.setattr(cli_log, "services", lambda: services)
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    town.test(town.person("alice"), town.clock.now(), "positive")
    down = CliRunner().invoke(cli_app, ["log", "sequence"])
    assert down.exit_code == 0, down.output
    assert "1 of 1 witnesses have not cosigned" in down.output
    assert f"not cosigned by {witness.url}" in down.output
    witness.mode = "up"
    town.clock.advance(seconds=FIRST_RETRY.total_seconds())
    up = CliRunner().invoke(cli_app, ["log", "sequence"])
    assert "nothing new to sign" in up.output
    assert "1 cosignatures added; 0 of 1 witnesses" in up.output
    assert _cosigners(town) == {"witness.example/w1"}
    assert witness.posts == 2
