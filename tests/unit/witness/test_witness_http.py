"""POST /add-checkpoint behaves exactly as C2SP tlog-witness says, status code by status code."""

from __future__ import annotations

import base64
import logging

import pytest
from fastapi.testclient import TestClient

from healthcode.services.witness import Witness
from healthcode.services.witness_protocol import format_add_checkpoint
from healthcode.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    cosignature_timestamp,
    open_note,
    parse_note,
    sign_checkpoint,
)

from .conftest import NOW, ORIGIN, WITNESS_NAME, SigningLog, seed


def post(http: TestClient, body: bytes) -> tuple[int, str, str]:
    response = http.post("/add-checkpoint", content=body)
    return response.status_code, response.headers.get("content-type", ""), response.text


def test_consistent_growth_is_cosigned(
    http: TestClient, log: SigningLog, signer: CosignatureSigner, witness: Witness
) -> None:
    status, media, body = post(http, log.request(0, 10))
    assert (status, media) == (200, "text/plain; charset=utf-8")
    assert body.startswith(f"— {WITNESS_NAME} ") and body.count("\n") == 1
    cosigned = log.checkpoint(10) + body
    verified = open_note(cosigned, [CosignatureVerifier.from_vkey(witness.vkey)])
    assert [sig.name for sig in verified.verified] == [WITNESS_NAME]
    assert cosignature_timestamp(verified.verified[0]) == NOW
    assert witness.vkey == signer.verifier().to_vkey()
    for old, new in [(10, 300), (300, 70000), (70000, 70000)]:
        status, _, body = post(http, log.request(old, new))
        assert status == 200, body
    head = witness.latest(ORIGIN)
    assert head is not None and (head.size, head.root_hash) == (70000, log.tree.root())


def test_a_stale_old_size_gets_409_with_the_latest_size(http: TestClient, log: SigningLog) -> None:
    assert post(http, log.request(0, 10))[0] == 200
    for old in [0, 5, 11]:
        status, media, body = post(http, log.request(old, 20))
        assert (status, media, body) == (409, "text/x.tlog.size", "10\n")


def test_a_bad_consistency_proof_gets_422(
    http: TestClient, log: SigningLog, witness: Witness, caplog: pytest.LogCaptureFixture
) -> None:
    post(http, log.request(0, 10))
    proof = log.proof(10, 300)
    broken = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for bad in [broken, proof[:-1], [*proof, proof[0]], []]:
        status, media, _ = post(http, format_add_checkpoint(10, bad, log.checkpoint(300)))
        assert (status, media) == (422, "text/plain; charset=utf-8")
    assert "refused inconsistent checkpoint" in caplog.text
    head = witness.latest(ORIGIN)
    assert head is not None and head.size == 10


def test_a_proof_from_size_zero_must_be_empty(
    http: TestClient, log: SigningLog, witness: Witness
) -> None:
    assert post(http, format_add_checkpoint(0, [EMPTY_ROOT], log.checkpoint(5)))[0] == 422
    assert witness.latest(ORIGIN) is None


def test_the_empty_tree_has_one_root(http: TestClient, log: SigningLog) -> None:
    wrong = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), [log.signer])
    assert post(http, format_add_checkpoint(0, [], wrong))[0] == 422
    assert post(http, format_add_checkpoint(0, [], log.checkpoint(0)))[0] == 200


def test_a_split_view_is_refused_and_reported(
    http: TestClient, log: SigningLog, witness: Witness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="healthcode.witness")
    assert post(http, log.request(0, 10))[0] == 200
    other = SigningLog(tag="other", signer=log.signer)
    for _ in range(2):
        status, media, body = post(http, format_add_checkpoint(10, [], other.checkpoint(10)))
        assert (status, media, body) == (409, "text/x.tlog.size", "10\n")
    (view,) = witness.split_views
    assert (view.origin, view.size, view.detected_at) == (ORIGIN, 10, NOW)
    assert (view.cosigned_root, view.presented_root) == (log.tree.root(10), other.tree.root(10))
    assert view.cosigned_checkpoint == log.checkpoint(10)
    assert view.presented_checkpoint == other.checkpoint(10)
    assert "SPLIT VIEW" in caplog.text
    assert base64.b64encode(other.tree.root(10)).decode() in caplog.text
    # The honest branch still extends what was cosigned.
    assert post(http, log.request(10, 12))[0] == 200
    status = http.get("/").json()
    assert (
        status["split_views"][0]["presented_root"] == base64.b64encode(other.tree.root(10)).decode()
    )


def test_an_unknown_origin_gets_404(http: TestClient, log: SigningLog) -> None:
    body = format_add_checkpoint(0, [], log.checkpoint(3, origin="other.example/log"))
    status, media, _ = post(http, body)
    assert (status, media) == (404, "text/plain; charset=utf-8")


def test_a_bad_log_signature_gets_403(http: TestClient, log: SigningLog) -> None:
    note = parse_note(log.checkpoint(3))
    sig = note.signatures[0]
    forged = type(sig)(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    tampered = type(note)(note.text, (forged,)).encode()
    assert post(http, format_add_checkpoint(0, [], tampered))[0] == 403
    stranger = SigningLog(signer=Ed25519Signer(ORIGIN, seed("stranger")))
    assert post(http, stranger.request(0, 3))[0] == 403


def malformed_bodies(log: SigningLog) -> list[bytes]:
    note = log.checkpoint(5)
    node = base64.b64encode(bytes(32)).decode()
    return [
        b"",
        b"old 0\n",
        f"old 0\n{note}".encode(),
        f"old 00\n\n{note}".encode(),
        f"old -1\n\n{note}".encode(),
        f"old  1\n\n{note}".encode(),
        f"olds 1\n\n{note}".encode(),
        f"old 1\nnot base64!\n\n{note}".encode(),
        f"old 1\n{base64.b64encode(bytes(31)).decode()}\n\n{note}".encode(),
        ("old 1\n" + (node + "\n") * 64 + "\n" + note).encode(),
        f"old 6\n\n{note}".encode(),
        f"old 0\n\n{note}junk".encode(),
        f"old 0\n\n{note[:-1]}".encode(),
        b"old 0\n\n\xff\xfe",
        f"old 99999999999999999999999\n\n{note}".encode(),
        b"old 0\n\n" + b"x" * 70000,
    ]


def test_malformed_requests_get_400(http: TestClient, log: SigningLog) -> None:
    for body in malformed_bodies(log):
        status, _, text = post(http, body)
        assert status == 400, (body[:60], text)


def test_only_post_is_allowed(http: TestClient) -> None:
    assert http.get("/add-checkpoint").status_code == 405


def test_the_status_page_lists_logs_and_sizes(http: TestClient, log: SigningLog) -> None:
    post(http, log.request(0, 42))
    status = http.get("/").json()
    assert status["name"] == WITNESS_NAME
    assert status["logs"] == [
        {
            "origin": ORIGIN,
            "size": 42,
            "root_hash": base64.b64encode(log.tree.root(42)).decode(),
            "cosigned_at": NOW,
        }
    ]
    assert status["split_views"] == []
