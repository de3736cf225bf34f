"""A small verifier written apart from the production code (hashlib and cryptography only),
so the log's receipts and proofs are checked by something that does not share its bugs.

RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency); C2SP signed-note, tlog-checkpoint and
tlog-proof.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def open_note(note: str, vkey: str) -> tuple[str, int, bytes]:
    """Check the log's signature on a checkpoint note; return (origin, size, root)."""
    name, key_hash, key_b64 = vkey.strip().split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 1, "not an Ed25519 key"
    text, _, signatures = note.partition("\n\n")
    text += "\n"
    key_id = bytes.fromhex(key_hash)
    good = False
    for line in signatures.splitlines():
        dash, signer, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if dash == "—" and signer == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], text.encode())
            good = True
    assert good, "no signature by the log's key"
    origin, size, root = text.splitlines()[:3]
    return origin, int(size), base64.b64decode(root)


def root_from_inclusion(index: int, size: int, leaf_hash: bytes, proof: list[bytes]) -> bytes:
    assert index < size
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        assert sn != 0
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    assert sn == 0
    return r


def verify_receipt(receipt: str, entry: bytes, vkey: str) -> int:
    """Verify a C2SP tlog-proof receipt for ``entry``; return the entry's index."""
    lines = receipt.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    position = 1
    if lines[position].startswith("extra "):
        position += 1
    assert lines[position].startswith("index ")
    index = int(lines[position].split(" ")[1])
    position += 1
    proof = []
    while lines[position]:
        proof.append(base64.b64decode(lines[position]))
        position += 1
    note = "\n".join(lines[position + 1 :])
    _, size, root = open_note(note, vkey)
    assert root_from_inclusion(index, size, leaf(entry), proof) == root, "receipt does not verify"
    return index


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    if old_size == new_size:
        assert not proof and old_root == new_root
        return
    assert 0 < old_size < new_size
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        proof = [old_root, *proof]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        assert sn != 0
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    assert sn == 0 and fr == old_root and sr == new_root, "consistency proof does not verify"
