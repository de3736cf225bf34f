"""An in-memory tlog-tiles log served by a tiny FastAPI app, with knobs to make it misbehave."""

from __future__ import annotations

import gzip
import hashlib

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from healthcode.tlog import (
    Checkpoint,
    Ed25519Signer,
    MerkleTree,
    export_resources,
    sign_checkpoint,
)

ORIGIN = "healthcode.example/log"
BASE_URL = "http://log.test/log/"


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def make_entries(count: int, start: int = 0, tag: str = "entry") -> list[bytes]:
    return [f"{tag} {i}".encode() for i in range(start, start + count)]


class FakeLog:
    """A log whose published resources are a plain dict a test may edit freely."""

    def __init__(self, origin: str = ORIGIN, signer: Ed25519Signer | None = None) -> None:
        self.origin = origin
        self.signer = signer or Ed25519Signer(origin, seed("log key"))
        self.tree = MerkleTree()
        self.entries: list[bytes] = []
        self.resources: dict[str, bytes] = {}
        self.checkpoint = ""
        self.key_text = self.signer.verifier().to_vkey() + "\n"
        self.published = 0
        self.requests: list[str] = []
        self.gzip_bundles = False

    @property
    def vkey(self) -> str:
        return self.signer.verifier().to_vkey()

    def append(self, entries: list[bytes]) -> None:
        self.entries.extend(entries)
        self.tree.append(entries)

    def publish(self) -> str:
        """Export the tiles new since the last publication and sign a checkpoint."""
        self.resources.update(export_resources(self.tree, self.entries, since=self.published))
        self.published = self.tree.size
        self.checkpoint = sign_checkpoint(
            Checkpoint(self.origin, self.tree.size, self.tree.root()), [self.signer]
        )
        return self.checkpoint

    def grow(self, count: int, tag: str = "entry") -> str:
        self.append(make_entries(count, len(self.entries), tag))
        return self.publish()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/log/checkpoint")
        def checkpoint() -> Response:
            self.requests.append("checkpoint")
            if not self.checkpoint:
                return Response("no checkpoint yet\n", status_code=404, media_type="text/plain")
            return Response(self.checkpoint, media_type="text/plain; charset=utf-8")

        @app.get("/log/key")
        def key() -> Response:
            return Response(self.key_text, media_type="text/plain; charset=utf-8")

        @app.get("/log/{path:path}")
        def resource(path: str) -> Response:
            self.requests.append(path)
            data = self.resources.get(path)
            if data is None:
                return Response("not found\n", status_code=404, media_type="text/plain")
            if self.gzip_bundles and path.startswith("tile/entries/"):
                # tlog-tiles lets logs gzip bundles with no negotiation.
                return Response(
                    gzip.compress(data),
                    media_type="application/octet-stream",
                    headers={"Content-Encoding": "gzip"},
                )
            return Response(data, media_type="application/octet-stream")

        return app

    def client(self) -> TestClient:
        return TestClient(self.app(), base_url="http://log.test")
