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
from healthcode.tlog.tiles import MAX_ENTRY_SIZE

__all__ = ["BUNDLE_CAP_PER_ENTRY", "LogReader", "fetch_in_order"]

# Every resource is read only up to the most it can be, and refused as soon as the server
# sends more: a hostile server could otherwise make the monitor buffer any size (a 300 MB
# "tile" took 712 MB). The caps count decoded bytes, so a gzip bomb is stopped too.
# A checkpoint carries at most 100 signature lines of ~100 bytes.
_MAX_CHECKPOINT_BYTES = 64 * 1024
_MAX_KEY_BYTES = 4 * 1024
# tlog-tiles frames each entry of a bundle after a 2-byte big-endian length, so an entry is
# at most 65,535 bytes and a bundle of W entries at most W times this.
BUNDLE_CAP_PER_ENTRY = 2 + MAX_ENTRY_SIZE


class _Oversize(Exception):
    """A body passed its cap. ``read`` is how much was read; ``complete`` says the body
    ended there (so ``read`` is its length) rather than reading being stopped."""

    def __init__(self, read: int, complete: bool) -> None:
        super().__init__(read)
        self.read = read
        self.complete = complete

    def size(self, cap: int) -> str:
        return f"{self.read} bytes" if self.complete else f"over {cap} bytes (reading stopped)"


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

    def _get(self, path: str, cap: int, *, allow_404: bool = False) -> bytes | None:
        """The body at ``path``, streamed; raises ``_Oversize`` once it passes ``cap``."""
        url = self.base_url + path
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code == 404 and allow_404:
                    return None
                if response.status_code != 200:
                    raise MonitorError(
                        "monitor.http", f"GET {url} returned HTTP {response.status_code}"
                    )
                return _read_capped(response, cap)
        except httpx2.HTTPError as exc:
            raise MonitorError("monitor.http", f"GET {url} failed: {exc}") from None

    def _require(self, path: str, cap: int) -> bytes:
        data = self._get(path, cap)
        assert data is not None  # _get only returns None when a 404 is allowed
        return data

    def key(self) -> str:
        """The log's verifier key: exactly one vkey line (a final newline is allowed)."""
        try:
            data = self._require("key", _MAX_KEY_BYTES)
        except _Oversize as big:
            raise MonitorError(
                "monitor.key_invalid", f"{self.base_url}key is {big.size(_MAX_KEY_BYTES)}"
            ) from None
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise MonitorError("monitor.key_invalid", "the served key is not ASCII") from None
        text = text.removesuffix("\n")
        if not text or any(c.isspace() for c in text):
            raise MonitorError("monitor.key_invalid", f"the served key is not one vkey: {text!r}")
        return text

    def checkpoint(self) -> bytes:
        try:
            return self._require("checkpoint", _MAX_CHECKPOINT_BYTES)
        except _Oversize as big:
            raise MonitorError(
                "monitor.checkpoint_invalid",
                f"the checkpoint is {big.size(_MAX_CHECKPOINT_BYTES)}, too large",
            ) from None

    def tile(self, tile: TilePath) -> bytes:
        """A hash tile of exactly ``tile.width`` hashes.

        Logs may delete a partial tile once the full one exists (tlog-tiles §Partial
        Tiles), so a missing partial tile is read as the prefix of the full tile.
        """
        data = self._tile(tile, allow_404=tile.is_partial)
        if data is None:
            data = self._tile(tile.full())
            assert data is not None
            data = data[: tile.width * HASH_SIZE]
        with self._lock:
            self.tiles_fetched += 1
        return data

    def _tile(self, tile: TilePath, *, allow_404: bool = False) -> bytes | None:
        expected = tile.width * HASH_SIZE
        try:
            data = self._get(tile.path(), expected, allow_404=allow_404)
        except _Oversize as big:
            size = big.size(expected)
        else:
            if data is None or len(data) == expected:
                return data
            size = f"{len(data)} bytes"
        raise MonitorError(
            "monitor.tile_invalid", f"{tile} is {size}, expected {expected} ({tile.width} hashes)"
        )

    def bundle(self, bundle: TilePath) -> list[bytes]:
        """The entries of an entry bundle, exactly ``bundle.width`` of them."""
        data = self._bundle(bundle, allow_404=bundle.is_partial)
        if data is None:
            full = self._bundle(bundle.full())
            assert full is not None
            entries = self._decode(bundle.full(), full)[: bundle.width]
        else:
            entries = self._decode(bundle, data)
        with self._lock:
            self.bundles_fetched += 1
        return entries

    def _bundle(self, bundle: TilePath, *, allow_404: bool = False) -> bytes | None:
        cap = bundle.width * BUNDLE_CAP_PER_ENTRY
        try:
            return self._get(bundle.path(), cap, allow_404=allow_404)
        except _Oversize as big:
            raise MonitorError(
                "monitor.bundle_invalid",
                f"{bundle} is {big.size(cap)}, more than {bundle.width} entries of at most "
                f"{MAX_ENTRY_SIZE} bytes can be",
            ) from None

    @staticmethod
    def _decode(bundle: TilePath, data: bytes) -> list[bytes]:
        try:
            return decode_entry_bundle(data, bundle.width)
        except BundleError as exc:
            raise MonitorError("monitor.bundle_invalid", f"{bundle}: {exc.message}") from None


def _read_capped(response: httpx2.Response, cap: int) -> bytes:
    """The decoded body, or ``_Oversize`` as soon as it passes ``cap`` bytes: at most one
    chunk more is read, to tell a body that ended just past the cap from a longer one."""
    body = bytearray()
    chunks = response.iter_bytes()
    for chunk in chunks:
        body += chunk
        if len(body) > cap:
            complete = next(chunks, None) is None
            raise _Oversize(len(body), complete)
    return bytes(body)


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
