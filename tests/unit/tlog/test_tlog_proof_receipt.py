"""C2SP tlog-proof: formatting, strict parsing and offline verification."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from healthcode.tlog import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    MerkleTree,
    NoteError,
    NoteSignatureError,
    NoteUnverifiedError,
    ProofError,
    ProofReceiptError,
    TlogProof,
    cosign_note,
    make_tlog_proof,
    parse_tlog_proof,
    sign_checkpoint,
    verify_tlog_proof,
)

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")

LOG = Ed25519Signer("example.com/fancylog", bytes([3]) * 32)
WITNESS = CosignatureSigner("witness1.example", bytes([4]) * 32)
ENTRIES = [b"entry %d" % i for i in range(21)]


def _tree() -> MerkleTree:
    tree = MerkleTree()
    tree.append(ENTRIES)
    return tree


def _signed(size: int = 21) -> str:
    tree = _tree()
    note = sign_checkpoint(Checkpoint("example.com/fancylog", size, tree.root(size)), [LOG])
    return cosign_note(note, WITNESS, 1_700_000_000)


def test_format_matches_spec_layout() -> None:
    note = _signed()
    text = make_tlog_proof(5, note, _tree().node, extra=b"context")
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra Y29udGV4dA=="
    assert lines[2] == "index 5"
    proof_lines = lines[3 : lines.index("")]
    assert len(proof_lines) == len(_tree().inclusion_proof(5, 21)) == 5
    assert text.endswith("\n\n" + note)
    parsed = parse_tlog_proof(text)
    assert parsed.extra == b"context" and parsed.index == 5 and parsed.checkpoint == note
    assert parsed.encode() == text
    assert parse_tlog_proof(text.encode()) == parsed


def test_verify_with_log_and_witness_keys() -> None:
    text = make_tlog_proof(20, _signed(), _tree().node)
    result = verify_tlog_proof(
        text, ENTRIES[20], [LOG.verifier(), WITNESS.verifier()], origin="example.com/fancylog"
    )
    assert result.index == 20
    assert [s.name for s in result.note.verified] == [LOG.name, WITNESS.name]
    assert result.extra is None


def test_single_entry_log_has_empty_proof() -> None:
    text = make_tlog_proof(0, _signed(1), _tree().node)
    assert "index 0\n\nexample.com/fancylog\n1\n" in text
    verify_tlog_proof(text, ENTRIES[0], [LOG.verifier()])


def test_verification_failures() -> None:
    text = make_tlog_proof(7, _signed(), _tree().node)
    keys = [LOG.verifier()]
    with pytest.raises(ProofError):
        verify_tlog_proof(text, b"not the entry", keys)
    with pytest.raises(ProofError):
        verify_tlog_proof(text.replace("index 7", "index 8"), ENTRIES[7], keys)
    with pytest.raises(ProofError, match="outside the checkpoint size"):
        verify_tlog_proof(text.replace("index 7", "index 21"), ENTRIES[7], keys)
    with pytest.raises(NoteUnverifiedError):
        verify_tlog_proof(text, ENTRIES[7], [Ed25519Signer("other", bytes(32)).verifier()])
    with pytest.raises(NoteSignatureError):
        verify_tlog_proof(text.replace("\n21\n", "\n22\n"), ENTRIES[7], keys)
    first_hash = text.split("\n")[2]
    flipped = ("B" if first_hash[0] != "B" else "C") + first_hash[1:]
    with pytest.raises(ProofError):
        verify_tlog_proof(text.replace(first_hash, flipped), ENTRIES[7], keys)


def test_make_refuses_a_checkpoint_of_another_tree() -> None:
    other = MerkleTree()
    other.append([b"x"] * 21)
    with pytest.raises(ProofError):
        make_tlog_proof(3, _signed(), other.node)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), "first line"),
        (lambda t: t.replace("index 7", "index 07"), "canonical decimal"),
        (lambda t: t.replace("index 7", "index -7"), "canonical decimal"),
        (lambda t: t.replace("index 7", "idx 7"), "missing 'index'"),
        (lambda t: t.replace("index 7\n", "index 7\nextra AAAA\n"), "base64"),
        (lambda t: t.replace("index 7\n", "index 7\nAAAA\n"), "not 32 bytes"),
        (lambda t: t.replace("index 7\n", "extra \nindex 7\n"), "must not be empty"),
        (lambda t: t.split("\n\n")[0], "truncated"),
        (lambda t: t.replace("\n\nexample.com", "\nexample.com"), "base64"),
        (lambda t: "\n" + t, "first line"),
    ],
)
def test_malformed_receipts(mutate: Callable[[str], str], message: str) -> None:
    text = make_tlog_proof(7, _signed(), _tree().node)
    with pytest.raises(ProofReceiptError, match=message) as info:
        parse_tlog_proof(mutate(text))
    assert info.value.code == "tlog.receipt_malformed"


def test_checkpoint_part_is_parsed_strictly() -> None:
    text = make_tlog_proof(7, _signed(), _tree().node)
    with pytest.raises(NoteError):
        parse_tlog_proof(text + "trailing garbage")
    with pytest.raises(NoteError):
        parse_tlog_proof(text.replace("— ", "-- "))


def test_too_long_proof_is_rejected() -> None:
    head = "c2sp.org/tlog-proof@v1\nindex 0\n" + ("A" * 43 + "=\n") * 65
    with pytest.raises(ProofReceiptError, match="longer than 64"):
        parse_tlog_proof(head + "\n" + _signed())
    with pytest.raises(ProofReceiptError):
        TlogProof(0, (b"\x00" * 31,), _signed())
