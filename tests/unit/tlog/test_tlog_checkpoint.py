"""C2SP tlog-checkpoint bodies: formatting, strict parsing, and signed-checkpoint opening."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcode.tlog import (
    Checkpoint,
    CheckpointError,
    Ed25519Signer,
    NoteError,
    NoteSignatureError,
    TlogError,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
SIGNER = Ed25519Signer("example.com/behind-the-sofa", bytes(range(32)))


def test_spec_example_parses_and_formats() -> None:
    cp = parse_checkpoint(SPEC_BODY)
    assert cp == Checkpoint("example.com/behind-the-sofa", 20852163, ROOT)
    assert cp.body() == SPEC_BODY
    assert Checkpoint.parse(SPEC_BODY) == cp


def test_extension_lines_roundtrip() -> None:
    cp = Checkpoint("o", 0, bytes(32), ("ext one", "ext two"))
    assert cp.body().endswith("ext one\next two\n")
    assert parse_checkpoint(cp.body()) == cp


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (SPEC_BODY[:-1], "end with a newline"),
        ("example.com/log\n1\n", "at least 3 lines"),
        ("\n1\n" + SPEC_BODY.split("\n")[2] + "\n", "origin must not be empty"),
        (SPEC_BODY.replace("20852163", "020852163"), "canonical decimal"),
        (SPEC_BODY.replace("20852163", "-1"), "canonical decimal"),
        (SPEC_BODY.replace("20852163", "+5"), "canonical decimal"),
        (SPEC_BODY.replace("20852163", "18446744073709551616"), "exceeds"),
        (SPEC_BODY.replace("20852163", "٣"), "canonical decimal"),
        (SPEC_BODY.replace("2I=", "2J="), "canonical"),
        (SPEC_BODY.replace("CsUY", "CsU"), "base64"),
        ("o\n1\nAAAA\n", "32 bytes"),
        (SPEC_BODY + "\n", "extension line must not be empty"),
        (SPEC_BODY.replace("sofa", "so\tfa"), "control character"),
    ],
)
def test_malformed_bodies(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message) as info:
        parse_checkpoint(body)
    assert info.value.code == "tlog.checkpoint_invalid"


def test_constructor_validates() -> None:
    with pytest.raises(CheckpointError):
        Checkpoint("o", -1, bytes(32))
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1 << 64, bytes(32))
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, bytes(31))
    with pytest.raises(CheckpointError):
        Checkpoint("", 1, bytes(32))


def test_sign_and_open() -> None:
    cp = parse_checkpoint(SPEC_BODY)
    note = sign_checkpoint(cp, [SIGNER])
    opened = open_checkpoint(note, [SIGNER.verifier()], origin=cp.origin)
    assert opened.checkpoint == cp
    assert opened.note.verified[0].name == SIGNER.name
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(note, [SIGNER.verifier()], origin="example.com/other")


def test_tampered_and_garbage_checkpoints() -> None:
    note = sign_checkpoint(parse_checkpoint(SPEC_BODY), [SIGNER])
    with pytest.raises(NoteSignatureError):
        open_checkpoint(note.replace("20852163", "20852164"), [SIGNER.verifier()])
    with pytest.raises(NoteError, match="does not end with a newline"):
        open_checkpoint(note + "trailing", [SIGNER.verifier()])
    with pytest.raises(NoteError, match="em dash"):
        open_checkpoint(note + "trailing\n", [SIGNER.verifier()])


@given(
    st.text(alphabet=st.characters(min_codepoint=0x21, codec="utf-8"), min_size=1),
    st.integers(min_value=0, max_value=(1 << 64) - 1),
    st.binary(min_size=32, max_size=32),
)
def test_roundtrip_property(origin: str, size: int, root: bytes) -> None:
    cp = Checkpoint(origin, size, root)
    assert parse_checkpoint(cp.body()) == cp


def test_errors_share_the_base_class() -> None:
    with pytest.raises(TlogError):
        parse_checkpoint("nope")
