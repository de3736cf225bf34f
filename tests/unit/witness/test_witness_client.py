"""request_cosignature gets cosignatures, follows one 409 size hint, and reports refusals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from healthcode.services.witness import Witness
from healthcode.services.witness_client import (
    WitnessRequestError,
    append_cosignatures,
    request_cosignature,
)
from healthcode.tlog import CosignatureSigner, CosignatureVerifier, open_note

from .conftest import WITNESS_NAME, SigningLog, seed

URL = "http://witness.test/"


def test_a_cosignature_is_returned_and_verifies(
    http: TestClient, log: SigningLog, witness: Witness
) -> None:
    verifier = CosignatureVerifier.from_vkey(witness.vkey)
    lines = request_cosignature(URL, 0, [], log.checkpoint(10), http, verifier=verifier)
    assert len(lines) == 1 and lines[0].startswith(f"— {WITNESS_NAME} ")
    cosigned = append_cosignatures(log.checkpoint(10), lines)
    verified = open_note(cosigned, [log.signer.verifier(), verifier])
    assert len(verified.verified) == 2
    assert append_cosignatures(cosigned, lines) == cosigned


def test_a_409_hint_is_followed_once_with_a_fresh_proof(
    http: TestClient, log: SigningLog, witness: Witness
) -> None:
    request_cosignature(URL, 0, [], log.checkpoint(10), http)
    asked: list[tuple[int, int]] = []

    def prove(old: int, new: int) -> list[bytes]:
        asked.append((old, new))
        return log.proof(old, new)

    # The caller believes the witness has never seen the log.
    lines = request_cosignature(URL, 0, [], log.checkpoint(300), http, prove=prove)
    assert asked == [(10, 300)] and len(lines) == 1
    head = witness.latest(log.checkpoint(300).split("\n")[0])
    assert head is not None and head.size == 300


def test_without_a_prove_function_the_409_is_reported(http: TestClient, log: SigningLog) -> None:
    request_cosignature(URL, 0, [], log.checkpoint(10), http)
    with pytest.raises(WitnessRequestError) as caught:
        request_cosignature(URL, 0, [], log.checkpoint(20), http)
    assert (caught.value.status, caught.value.latest_size) == (409, 10)
    assert caught.value.conflict is None  # behind, not in conflict: a prove function would do


def test_a_split_view_is_not_retried(http: TestClient, log: SigningLog) -> None:
    request_cosignature(URL, 0, [], log.checkpoint(10), http)
    other = SigningLog(tag="other", signer=log.signer)
    with pytest.raises(WitnessRequestError) as caught:
        request_cosignature(URL, 10, [], other.checkpoint(10), http, prove=other.proof)
    # A 409 naming the size that was sent means: another root was cosigned at that size.
    assert (caught.value.status, caught.value.latest_size) == (409, 10)
    assert caught.value.conflict == "split_view"
    # So it is after a restart (from 0): the hint is followed once, and the same 409 comes.
    with pytest.raises(WitnessRequestError) as again:
        request_cosignature(URL, 0, [], other.checkpoint(10), http, prove=other.proof)
    assert (again.value.latest_size, again.value.conflict) == (10, "split_view")


def test_a_witness_ahead_of_the_log_is_a_rollback(http: TestClient, log: SigningLog) -> None:
    request_cosignature(URL, 0, [], log.checkpoint(20), http)
    with pytest.raises(WitnessRequestError) as caught:
        request_cosignature(URL, 0, [], log.checkpoint(10), http, prove=log.proof)
    # The witness cosigned 20 entries of this log; the log now signs 10: it went back.
    assert (caught.value.status, caught.value.latest_size) == (409, 20)
    assert caught.value.conflict == "rollback"


def test_an_inconsistent_proof_is_reported(http: TestClient, log: SigningLog) -> None:
    request_cosignature(URL, 0, [], log.checkpoint(10), http)
    with pytest.raises(WitnessRequestError) as caught:
        request_cosignature(URL, 10, log.proof(10, 300)[1:], log.checkpoint(300), http)
    assert caught.value.status == 422 and caught.value.latest_size is None
    assert caught.value.conflict is None


def test_cosignatures_by_other_keys_are_ignored(http: TestClient, log: SigningLog) -> None:
    other = CosignatureSigner(WITNESS_NAME, seed("another witness key")).verifier()
    with pytest.raises(WitnessRequestError, match="no cosignature by"):
        request_cosignature(URL, 0, [], log.checkpoint(10), http, verifier=other)


def test_a_network_failure_is_a_request_error(log: SigningLog) -> None:
    import httpx2

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    with (
        httpx2.Client(transport=httpx2.MockTransport(refuse)) as client,
        pytest.raises(WitnessRequestError) as caught,
    ):
        request_cosignature(URL, 0, [], log.checkpoint(1), client)
    assert caught.value.status is None
