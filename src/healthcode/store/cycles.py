"""Pausing Python's cyclic garbage collector while many short-lived objects pass through.

Bulk reads (``store/columns.py``: millions of row tuples) and intake batches (thousands of
records, rows and leaves) make objects that hold no cycles and die by reference counting. The
collector, run meanwhile, finds nothing to free yet walks them all, and moves the live ones into
the older generations, whose full collections over every object of the process they then bring
about (a fifth of the bulk load at a million people; about 60 ms every 15 to 30 intake batches).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """The collector paused for the block. Process-wide: other threads' cyclic garbage waits
    for its end. A collector already disabled (by anyone) is left as it was."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
