"""RFC 9162 inclusion / consistency verification against the shared Merkle test vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from healthcode.tlog import ProofError, verify_consistency, verify_inclusion

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")

REPO_ROOT = Path(__file__).resolve().parents[3]
MERKLE = REPO_ROOT.parent / "shared" / "testdata" / "tlog" / "merkle"
# An empty glob would make pytest skip the parametrized tests; a placeholder
# path makes a missing corpus fail loudly instead.
INCLUSION = sorted((MERKLE / "inclusion").rglob("*.json")) or [MERKLE / "inclusion" / "MISSING"]
CONSISTENCY = sorted((MERKLE / "consistency").rglob("*.json")) or [
    MERKLE / "consistency" / "MISSING"
]


def _id(path: Path) -> str:
    return str(path.relative_to(MERKLE))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(case: dict[str, Any]) -> list[bytes]:
    # The corpus spells an empty proof as null in some cases.
    return [_b64(h) for h in case["proof"] or []]


def test_corpus_is_present_and_complete() -> None:
    assert MERKLE.is_dir(), f"test vectors missing at {MERKLE}"
    assert len(INCLUSION) + len(CONSISTENCY) == 196


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    args = (
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError) as info:
            verify_inclusion(*args)
        assert info.value.code == "tlog.proof_invalid"
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    args = (
        case["size1"],
        case["size2"],
        _proof(case),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
