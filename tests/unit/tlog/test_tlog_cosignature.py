"""C2SP tlog-cosignature v1: signed message bytes, key IDs, timestamps and note integration."""

from __future__ import annotations

import pytest

from healthcode.tlog import (
    Checkpoint,
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    KeyFormatError,
    Note,
    NoteSignature,
    NoteSignatureError,
    NoteUnverifiedError,
    cosign_note,
    cosignature_timestamp,
    cosigned_message,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
)
from healthcode.tlog.cosignature import MAX_TIMESTAMP

BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
LOG = Ed25519Signer("example.com/behind-the-sofa", bytes([1]) * 32)
WITNESS = CosignatureSigner("witness.example.com/w1", bytes([2]) * 32)


def test_signed_message_matches_spec_example() -> None:
    assert cosigned_message(BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_spec_example_line_carries_its_timestamp() -> None:
    line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
        "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    sig = NoteSignature.parse_line(line)
    assert cosignature_timestamp(sig) == 1679315147
    assert len(sig.signature) == 72


def test_key_id_uses_type_0x04() -> None:
    assert WITNESS.key_id == key_id(WITNESS.name, 0x04, WITNESS.public_key)
    assert WITNESS.key_id != key_id(WITNESS.name, 0x01, WITNESS.public_key)
    vkey = WITNESS.verifier().to_vkey()
    assert CosignatureVerifier.from_vkey(vkey).key_id == WITNESS.key_id
    with pytest.raises(KeyFormatError, match="type 0x04, expected 0x01"):
        Ed25519Verifier.from_vkey(vkey)
    with pytest.raises(KeyFormatError, match="expected 0x04"):
        CosignatureVerifier.from_vkey(LOG.verifier().to_vkey())


def test_signer_keys() -> None:
    assert CosignatureSigner.from_skey(WITNESS.to_skey()).key_id == WITNESS.key_id
    # Witnesses commonly keep a plain Ed25519 (0x01) signer key for the same seed.
    plain = Ed25519Signer(WITNESS.name, bytes([2]) * 32).to_skey()
    assert CosignatureSigner.from_skey(plain).key_id == WITNESS.key_id
    # ... but a log's signer is never a witness key.
    with pytest.raises(KeyFormatError, match="type byte"):
        Ed25519Signer.from_skey(WITNESS.to_skey())


def test_keys_print_their_type_and_never_the_seed() -> None:
    for signer in (LOG, WITNESS):
        shown = repr(signer)
        assert shown.startswith(f"{type(signer).__name__}(") and signer.key_id.hex() in shown
        assert "PRIVATE" not in shown and signer.to_skey().split("+")[-1] not in shown
    assert repr(WITNESS.verifier()) == f"CosignatureVerifier({WITNESS.verifier().to_vkey()!r})"
    assert repr(LOG.verifier()) == f"Ed25519Verifier({LOG.verifier().to_vkey()!r})"


def test_cosign_and_verify_note() -> None:
    note = sign_checkpoint(Checkpoint.parse(BODY), [LOG])
    cosigned = cosign_note(note, WITNESS, 1679315147)
    assert cosigned.startswith(note)
    opened = open_note(cosigned, [LOG.verifier(), WITNESS.verifier()])
    assert [s.name for s in opened.verified] == [LOG.name, WITNESS.name]
    assert cosignature_timestamp(opened.verified[1]) == 1679315147
    # A client trusting only the log ignores the cosignature, and vice versa.
    assert open_checkpoint(cosigned, [LOG.verifier()]).note.unverified[0].name == WITNESS.name
    assert open_note(cosigned, [WITNESS.verifier()]).verified[0].name == WITNESS.name


def test_timestamp_is_signed() -> None:
    note = cosign_note(sign_checkpoint(Checkpoint.parse(BODY), [LOG]), WITNESS, 100)
    parsed = parse_note(note)
    sig = parsed.signatures[1]
    moved = NoteSignature(sig.name, sig.key_id, (101).to_bytes(8, "big") + sig.signature[8:])
    forged = Note(parsed.text, (parsed.signatures[0], moved))
    with pytest.raises(NoteSignatureError):
        open_note(forged, [WITNESS.verifier()])


def test_plain_signature_does_not_pass_as_cosignature() -> None:
    impostor = Ed25519Signer(WITNESS.name, bytes([2]) * 32)
    note = sign_note(BODY, [impostor])
    # Different key ID (0x01 vs 0x04), so the witness verifier does not even consider it.
    with pytest.raises(NoteUnverifiedError):
        open_note(note, [WITNESS.verifier()])
    verifier = WITNESS.verifier()
    assert not verifier.verify(BODY.encode(), impostor.sign(BODY.encode()))
    assert not verifier.verify(BODY.encode(), b"\xff" * 72)
    assert not verifier.verify(b"\xff\n", WITNESS.sign_at(BODY, 5))


def test_timestamped_signer_view() -> None:
    note = sign_note(BODY, [LOG, WITNESS.at(42)])
    opened = open_note(note, [WITNESS.verifier()])
    assert cosignature_timestamp(opened.verified[0].signature) == 42


def test_timestamp_bounds() -> None:
    WITNESS.sign_at(BODY, 0)
    WITNESS.sign_at(BODY, MAX_TIMESTAMP)
    for bad in (-1, MAX_TIMESTAMP + 1):
        with pytest.raises(CosignatureError) as info:
            WITNESS.sign_at(BODY, bad)
        assert info.value.code == "tlog.cosignature_invalid"
    with pytest.raises(CosignatureError):
        WITNESS.at(-5)
    with pytest.raises(CosignatureError):
        cosignature_timestamp(b"\x00" * 71)
    with pytest.raises(CosignatureError):
        cosignature_timestamp(b"\xff" * 72)
