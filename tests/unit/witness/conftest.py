"""Fixtures for the witness tests: a log that signs checkpoints, and a witness for it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_app import create_witness_app
from healthcode.services.witness_protocol import format_add_checkpoint
from healthcode.services.witness_state import MemoryWitnessStore
from healthcode.tlog import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    MerkleTree,
    sign_checkpoint,
)

ORIGIN = "healthcode.example/log"
WITNESS_NAME = "witness.example/w1"
NOW = 1_781_000_000


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


class SigningLog:
    """Just enough of a log to ask a witness for cosignatures."""

    def __init__(self, tag: str = "entry", signer: Ed25519Signer | None = None) -> None:
        self.signer = signer or Ed25519Signer(ORIGIN, seed("log key"))
        self.tree = MerkleTree()
        self.tag = tag

    def grow_to(self, size: int) -> None:
        self.tree.append(f"{self.tag} {i}".encode() for i in range(self.tree.size, size))

    def checkpoint(self, size: int, origin: str = ORIGIN) -> str:
        self.grow_to(size)
        return sign_checkpoint(Checkpoint(origin, size, self.tree.root(size)), [self.signer])

    def proof(self, old: int, new: int) -> list[bytes]:
        self.grow_to(new)
        return [] if old in (0, new) else self.tree.consistency_proof(old, new)

    def request(self, old: int, new: int) -> bytes:
        return format_add_checkpoint(old, self.proof(old, new), self.checkpoint(new))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def log() -> SigningLog:
    return SigningLog()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signer() -> CosignatureSigner:
    return CosignatureSigner(WITNESS_NAME, seed("witness key"))


@pytest.fixture
def store() -> MemoryWitnessStore:
    return MemoryWitnessStore()


@pytest.fixture
def witness(
    log: SigningLog, clock: Clock, signer: CosignatureSigner, store: MemoryWitnessStore
) -> Witness:
    logs = [WitnessedLog.from_vkeys(ORIGIN, [log.signer.verifier().to_vkey()])]
    return Witness(signer, logs, store, clock)


@pytest.fixture
def http(witness: Witness) -> Iterator[TestClient]:
    with TestClient(create_witness_app(witness), base_url="http://witness.test") as client:
        yield client
