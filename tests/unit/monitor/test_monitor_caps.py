"""The monitor reads a resource only up to the most it can be (a tile's hashes, a bundle's
entries at the largest entry tlog-tiles can frame, a checkpoint's or a key's cap) and refuses
it as soon as the server sends more: a hostile server cannot make it buffer hundreds of MB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from healthcode.services.monitor import MonitorError, verify_log
from healthcode.services.monitor_fetch import BUNDLE_CAP_PER_ENTRY

from .fake_log import BASE_URL, FakeLog

CHUNK = 64 * 1024


class EndlessServer:
    """Serves the fake log, but one path as an endless stream; counts what it sent there."""

    def __init__(self, http: TestClient, endless: str) -> None:
        self.http = http
        self.endless = endless
        self.sent = 0

    def _endless(self) -> Iterator[bytes]:
        while True:
            self.sent += CHUNK
            yield b"\x00" * CHUNK

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == self.endless:
            return httpx2.Response(200, content=self._endless())
        answer = self.http.get(str(request.url))
        return httpx2.Response(answer.status_code, content=answer.content)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self.handle))


def refused(server: EndlessServer, state_path: Path, code: str) -> MonitorError:
    with pytest.raises(MonitorError) as caught:
        verify_log(BASE_URL, state_path, client=server.client())
    assert caught.value.code == code, caught.value
    return caught.value


def test_an_endless_tile_is_refused_at_its_size(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(600)
    server = EndlessServer(http, "/log/tile/0/000")
    error = refused(server, state_path, "monitor.tile_invalid")
    assert "tile/0/000 is over 8192 bytes" in error.message
    assert server.sent <= 8192 + 2 * CHUNK


def test_an_endless_bundle_is_refused_past_the_largest_bundle(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(600)
    server = EndlessServer(http, "/log/tile/entries/000")
    error = refused(server, state_path, "monitor.bundle_invalid")
    cap = 256 * BUNDLE_CAP_PER_ENTRY
    assert BUNDLE_CAP_PER_ENTRY == 2 + 65535  # tlog-tiles: a 2-byte length before each entry
    assert f"tile/entries/000 is over {cap} bytes" in error.message
    assert server.sent <= cap + 2 * CHUNK


def test_an_endless_checkpoint_and_key_are_refused(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(3)
    server = EndlessServer(http, "/log/checkpoint")
    assert "over 65536 bytes" in refused(server, state_path, "monitor.checkpoint_invalid").message
    assert server.sent <= 65536 + 2 * CHUNK
    server = EndlessServer(http, "/log/key")
    assert "over 4096 bytes" in refused(server, state_path, "monitor.key_invalid").message
    assert server.sent <= 4096 + 2 * CHUNK


def test_a_gzip_bomb_bundle_is_refused_by_its_decoded_size(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    import gzip

    log.grow(600)
    bomb = gzip.compress(b"\x00" * (40 * 1024 * 1024))  # 40 MiB of zeros in ~40 KB

    def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/log/tile/entries/000":
            # In pieces, as a network delivers it: each is decoded, counted and dropped.
            pieces = (bomb[at : at + 4096] for at in range(0, len(bomb), 4096))
            return httpx2.Response(200, content=pieces, headers={"Content-Encoding": "gzip"})
        answer = http.get(str(request.url))
        return httpx2.Response(answer.status_code, content=answer.content)

    client = httpx2.Client(transport=httpx2.MockTransport(handle))
    with pytest.raises(MonitorError) as caught:
        verify_log(BASE_URL, state_path, client=client)
    assert caught.value.code == "monitor.bundle_invalid"
    assert "tile/entries/000 is over" in caught.value.message
