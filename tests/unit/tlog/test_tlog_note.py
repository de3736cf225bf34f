"""C2SP signed-note: the spec and Go reference vectors, key strings, strict parsing, trust rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcode.tlog import (
    Ed25519Signer,
    Ed25519Verifier,
    KeyFormatError,
    Note,
    NoteError,
    NoteSignature,
    NoteSignatureError,
    NoteUnverifiedError,
    VerifierKey,
    key_id,
    open_note,
    parse_note,
    sign_note,
)
from healthcode.tlog.note import MAX_SIGNATURES

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsY"
    "jOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
    "Zb6KE6RyyBwJnAM=\n"
)


def _signer(name: str, fill: int) -> Ed25519Signer:
    return Ed25519Signer(name, bytes([fill]) * 32)


def test_spec_example_verifies() -> None:
    verifier = Ed25519Verifier.from_vkey(SPEC_VKEY)
    assert verifier.key_id.hex() == "530d903a"
    opened = open_note(SPEC_NOTE, [verifier])
    assert opened.text == "This is an example message.\n"
    assert [s.name for s in opened.verified] == ["example.com/foo"]
    assert opened.unverified == ()
    assert open_note(SPEC_NOTE.encode(), [verifier]).text == opened.text


def test_go_reference_signature_is_reproduced() -> None:
    signer = Ed25519Signer.from_skey(PETER_SKEY)
    assert signer.to_skey() == PETER_SKEY
    assert signer.verifier().to_vkey() == PETER_VKEY
    note = sign_note(PETER_TEXT, [signer])
    assert note == PETER_TEXT + "\n" + PETER_LINE
    assert open_note(note, [Ed25519Verifier.from_vkey(PETER_VKEY)]).text == PETER_TEXT


def test_key_id_formula() -> None:
    verifier = Ed25519Verifier.from_vkey(PETER_VKEY)
    assert key_id("PeterNeumann", 0x01, verifier.public_key).hex() == "c74f20a3"
    assert key_id("PeterNeumann", 0x04, verifier.public_key) != verifier.key_id


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "example.com/foo",
        "example.com/foo+530d903a",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong ID
        "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # short ID
        "example.com/fo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # name mismatch
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # empty name
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  # bad base64
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # type 0x02
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv",  # short key
    ],
)
def test_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        Ed25519Verifier.from_vkey(vkey)
    assert info.value.code == "tlog.key_invalid"


@pytest.mark.parametrize(
    "skey",
    [
        PETER_SKEY.removeprefix("PRIVATE+KEY+"),
        PETER_SKEY.replace("c74f20a3", "c74f20a4"),
        PETER_SKEY.replace("PeterNeumann", "Peter Neumann"),
        PETER_SKEY[:-4],
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
    ],
)
def test_bad_signer_keys(skey: str) -> None:
    with pytest.raises(KeyFormatError):
        Ed25519Signer.from_skey(skey)


def test_key_objects_roundtrip_and_hide_seed() -> None:
    signer = _signer("example.com/log", 7)
    assert Ed25519Signer.from_skey(signer.to_skey()).public_key == signer.public_key
    vkey = signer.verifier().to_vkey()
    assert VerifierKey.parse(vkey).encode() == vkey
    assert "PRIVATE" not in repr(signer) and signer.to_skey().split("+")[-1] not in repr(signer)
    for bad in ["", "a b", "a+b", "a\u00a0b", "tab\tname"]:
        with pytest.raises(KeyFormatError):
            Ed25519Signer(bad, bytes(32))
    with pytest.raises(KeyFormatError):
        Ed25519Signer("ok", bytes(31))


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (SPEC_NOTE + "garbage", "does not end with a newline"),
        (SPEC_NOTE + "garbage\n", "em dash"),
        (SPEC_NOTE[:-1], "does not end with a newline"),
        (SPEC_NOTE.replace("\n\n", "\n"), "no blank line"),
        ("This is an example message.\n\n", "no signature lines"),
        (SPEC_NOTE + "\n", "empty line after its signature lines"),
        ("a\n\nb\n\n", "no signature lines"),
        (SPEC_NOTE.replace("—", "-"), "em dash"),
        (SPEC_NOTE.replace("— example.com/foo ", "— example.com/foo  "), "base64"),
        (SPEC_NOTE.replace("— example.com/foo ", "—example.com/foo "), "em dash"),
        (SPEC_NOTE.replace("— example.com/foo ", "— "), "malformed signature line"),
        (SPEC_NOTE.replace("IneyaQM=", "IneyaQM"), "base64"),
        (SPEC_NOTE.replace("IneyaQM=", "IneyaQN="), "canonical"),
        (SPEC_NOTE.replace("example.", "example\t"), "control character"),
        (SPEC_NOTE.replace("\n", "\r\n"), "control character"),
        ("x\n\n— a AAAA\n", "too short"),
        ("x\n\n— a AAAAAAA\n", "base64"),
    ],
)
def test_malformed_notes_are_rejected(note: str, message: str) -> None:
    with pytest.raises(NoteError, match=message) as info:
        parse_note(note)
    assert info.value.code == "tlog.note_malformed"


def test_invalid_utf8_is_rejected() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        parse_note(SPEC_NOTE.encode().replace(b"This", b"\xffhis"))


def test_text_may_contain_blank_lines() -> None:
    signer = _signer("poet", 1)
    text = "Ognuno sta solo\n\ned è subito sera.\n\n"
    opened = open_note(sign_note(text, [signer]), [signer.verifier()])
    assert opened.text == text


def test_signature_count_limit() -> None:
    signers = [_signer(f"s{i}", i) for i in range(MAX_SIGNATURES + 1)]
    text = "many\n"
    note = sign_note(text, signers[:MAX_SIGNATURES])
    opened = open_note(note, [signers[0].verifier()])
    assert len(opened.unverified) == MAX_SIGNATURES - 1
    line = NoteSignature(signers[-1].name, signers[-1].key_id, signers[-1].sign(text.encode()))
    with pytest.raises(NoteError, match="more than 100 signatures"):
        parse_note(note + line.line())


def test_trust_rules() -> None:
    log, other, stranger = _signer("log", 1), _signer("other", 2), _signer("log", 3)
    text = "hello\n"
    note = sign_note(text, [log, other, stranger])
    # Same name, different key: ignored (the spec says match on name AND key ID).
    opened = open_note(note, [log.verifier()])
    assert [s.key_id for s in opened.verified] == [log.key_id]
    assert {s.key_id for s in opened.unverified} == {other.key_id, stranger.key_id}
    with pytest.raises(NoteUnverifiedError) as info:
        open_note(note, [_signer("nobody", 9).verifier()])
    assert info.value.code == "tlog.note_unverified"
    forged = Note(text, (NoteSignature("log", log.key_id, other.sign(text.encode())),))
    with pytest.raises(NoteSignatureError) as bad:
        open_note(forged.encode(), [log.verifier(), other.verifier()])
    assert bad.value.code == "tlog.note_signature_invalid"
    # A bad signature by a known key poisons the note even next to a good one.
    mixed = Note(text, (*parse_note(note).signatures, *forged.signatures))
    with pytest.raises(NoteSignatureError):
        open_note(mixed, [log.verifier()])
    with pytest.raises(NoteSignatureError):
        open_note(note.replace("hello", "hellO"), [log.verifier()])


def test_duplicate_verifiers_are_a_configuration_error() -> None:
    a = _signer("log", 1).verifier()
    b = Ed25519Verifier(a.name, a.public_key)
    with pytest.raises(KeyFormatError, match="share name"):
        open_note(sign_note("x\n", [_signer("log", 1)]), [a, b])


def test_sign_note_preconditions() -> None:
    signer = _signer("log", 1)
    for text in ["", "no newline", "bell\a\n"]:
        with pytest.raises(NoteError):
            sign_note(text, [signer])
    with pytest.raises(NoteError, match="at least one signature"):
        sign_note("x\n", [])


note_text = st.lists(
    st.text(alphabet=st.characters(min_codepoint=0x20, codec="utf-8"), max_size=30),
    min_size=1,
    max_size=5,
).map(lambda lines: "\n".join(lines) + "\n")


@given(note_text)
def test_sign_open_roundtrip(text: str) -> None:
    signer = _signer("example.com/prop", 5)
    note = sign_note(text, [signer])
    parsed = parse_note(note)
    assert parsed.text == text
    assert parsed.encode() == note
    assert open_note(note, [signer.verifier()]).text == text
