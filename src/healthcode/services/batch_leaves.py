"""The records of the open scan batches this process wrote, kept once committed, for sealing.

Why: sealing a batch needs its records in position order, and reading back the thousand rows
a batch holds (and turning them into bytes again) cost more per scan than anything else the
sealer does, while the process that wrote them still has them. A batch's records are used
from memory only when they are exactly the batch's positions 0..records-1 as committed:
what a transaction wrote counts only once it has committed (`BatchLeaves.keep`), writes
must follow on from what is kept, and the count is compared with the batch row read in the
sealing transaction. Anything else — another process writing into the same batch, a rolled
back transaction, a restart — reads the records from the store, as before, and the
self-check recomputes every sealed batch's root from the stored rows either way.
"""

from __future__ import annotations

BatchKey = tuple[str, str]  # (source id, batch id)

# Batches kept at most; past it the oldest go first (a batch sealed by another process is
# never sealed here, so it would otherwise stay). Batches are one second each.
_LIMIT = 20_000


class LeafWrites:
    """One write transaction's view: the records it added to batches, and the batches it
    sealed, applied to the kept records only if it commits."""

    def __init__(self, kept: dict[BatchKey, list[bytes]]) -> None:
        self._kept = kept
        self.added: dict[BatchKey, tuple[int, list[bytes]]] = {}
        self.sealed: set[BatchKey] = set()

    def add(self, key: BatchKey, start: int, canonicals: list[bytes]) -> None:
        """Records written at positions ``start``.. of a batch, in this transaction."""
        staged = self.added.get(key)
        if staged is None:
            self.added[key] = (start, canonicals)
        elif staged[0] + len(staged[1]) == start:
            staged[1].extend(canonicals)
        else:  # not contiguous: this batch is read from the store when sealed
            self.added[key] = (-1, [])

    def records(self, key: BatchKey, count: int) -> list[bytes] | None:
        """The batch's ``count`` records in position order, if this process has exactly
        those (kept, then written in this transaction); else None."""
        kept = self._kept.get(key, [])
        staged = self.added.get(key)
        if staged is not None:
            start, written = staged
            if start != len(kept):
                return None
            kept = kept + written
        return kept if count > 0 and len(kept) == count else None


class BatchLeaves:
    """The committed records of open scan batches, per (source, batch) (`LeafWrites`)."""

    def __init__(self) -> None:
        self._kept: dict[BatchKey, list[bytes]] = {}

    def writes(self) -> LeafWrites:
        return LeafWrites(self._kept)

    def keep(self, writes: LeafWrites) -> None:
        """Apply a transaction's writes once it has committed (under the writer's lock)."""
        kept = self._kept
        for key, (start, canonicals) in writes.added.items():
            have = kept.get(key)
            if start == 0 and have is None:
                kept[key] = list(canonicals)
            elif have is not None and start == len(have):
                have.extend(canonicals)
            else:  # written after records this process does not have
                kept.pop(key, None)
        for key in writes.sealed:
            kept.pop(key, None)
        while len(kept) > _LIMIT:
            del kept[next(iter(kept))]
