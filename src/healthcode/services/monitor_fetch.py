"""Fetches a tiled log's key, checkpoint, hash tiles and entry bundles over HTTP, strictly."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import httpx2

from healthcode.services.monitor_errors import MonitorError
from healthcode.tlog import HASH_SIZE, BundleError, TilePath, decode_entry_bundle

__all__ = ["LogReader", "fetch_in_order"]

# A checkpoint carries at most 100 signature lines of ~100 bytes; anything far larger is
# not a checkpoint, and reading it whole would let a hostile server exhaust memory.
_MAX_CHECKPOINT_BYTES = 64 * 1024
_MAX_KEY_BYTES = 4 * 1024

T = TypeVar("T")
R = TypeVar("R")


class LogReader:
    """Reads C2SP tlog-tiles resources under one base URL, counting what it fetched."""

    def __init__(self, base_url: str, client: httpx2.Client) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._client = client
        # Fetches run on worker threads; the counters are only for the report.
        self._lock = threading.Lock()
        self.tiles_fetched = 0
        self.bundles_fetched = 0

    def _get(self, path: str, *, allow_404: bool = False) -> bytes | None:
        url = self.base_url + path
        try:
            response = self._client.get(url)
        except httpx2.HTTPError as exc:
            raise MonitorError("monitor.http", f"GET {url} failed: {exc}") from None
        if response.status_code == 404 and allow_404:
            return None
        if response.status_code != 200:
            raise MonitorError("monitor.http", f"GET {url} returned HTTP {response.status_code}")
        return response.content

    def _require(self, path: str) -> bytes:
        data = self._get(path)
        assert data is not None  # _get only returns None when a 404 is allowed
        return data

    def key(self) -> str:
        """The log's verifier key: exactly one vkey line (a final newline is allowed)."""
        data = self._require("key")
        if len(data) > _MAX_KEY_BYTES:
            raise MonitorError("monitor.key_invalid", f"{self.base_url}key is {len(data)} bytes")
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise MonitorError("monitor.key_invalid", "the served key is not ASCII") from None
        text = text.removesuffix("\n")
        if not text or any(c.isspace() for c in text):
            raise MonitorError("monitor.key_invalid", f"the served key is not one vkey: {text!r}")
        return text

    def checkpoint(self) -> bytes:
        data = self._require("checkpoint")
        if len(data) > _MAX_CHECKPOINT_BYTES:
            raise MonitorError(
                "monitor.checkpoint_invalid", f"the checkpoint is {len(data)} bytes, too large"
            )
        return data

    def tile(self, tile: TilePath) -> bytes:
        """A hash tile of exactly ``tile.width`` hashes.

        Logs may delete a partial tile once the full one exists (tlog-tiles §Partial
        Tiles), so a missing partial tile is read as the prefix of the full tile.
        """
        data = self._get(tile.path(), allow_404=tile.is_partial)
        if data is None:
            full = self._require(tile.full().path())
            self._check_tile_length(tile.full(), full)
            data = full[: tile.width * HASH_SIZE]
        else:
            self._check_tile_length(tile, data)
        with self._lock:
            self.tiles_fetched += 1
        return data

    @staticmethod
    def _check_tile_length(tile: TilePath, data: bytes) -> None:
        if len(data) != tile.width * HASH_SIZE:
            raise MonitorError(
                "monitor.tile_invalid",
                f"{tile} is {len(data)} bytes, expected {tile.width * HASH_SIZE} "
                f"({tile.width} hashes)",
            )

    def bundle(self, bundle: TilePath) -> list[bytes]:
        """The entries of an entry bundle, exactly ``bundle.width`` of them."""
        data = self._get(bundle.path(), allow_404=bundle.is_partial)
        if data is None:
            entries = self._decode(bundle.full(), self._require(bundle.full().path()))
            entries = entries[: bundle.width]
        else:
            entries = self._decode(bundle, data)
        with self._lock:
            self.bundles_fetched += 1
        return entries

    @staticmethod
    def _decode(bundle: TilePath, data: bytes) -> list[bytes]:
        try:
            return decode_entry_bundle(data, bundle.width)
        except BundleError as exc:
            raise MonitorError("monitor.bundle_invalid", f"{bundle}: {exc.message}") from None


def fetch_in_order(
    items: Iterable[T], fetch: Callable[[T], R], workers: int
) -> Generator[tuple[T, R], None, None]:
    """Yield ``(item, fetch(item))`` in input order, keeping at most ``2 * workers`` in flight.

    Tiles are immutable and independent, so fetching ahead hides network latency while
    the bounded window keeps memory flat however long the log is.
    """
    if workers <= 1:
        for item in items:
            yield item, fetch(item)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tlog-fetch")
    pending: deque[tuple[T, Future[R]]] = deque()
    source = iter(items)
    try:
        for item in source:
            pending.append((item, pool.submit(fetch, item)))
            if len(pending) >= 2 * workers:
                head, future = pending.popleft()
                yield head, future.result()
        while pending:
            head, future = pending.popleft()
            yield head, future.result()
    finally:
        # On an early exit (an error, or the caller stopping) drop what was not started.
        pool.shutdown(wait=True, cancel_futures=True)
