"""The two implementations of ``healthcode.tlog.batch`` (C and Python), for tests that run
with each (tests/unit/tlog/conftest.py, test_tlog_batch.py)."""

from __future__ import annotations

import os

import pytest

from healthcode.tlog import batch

FUNCTIONS = ("leaf_hashes", "bundle_leaf_hashes", "node_layer", "perfect_layers", "frame_bundle")


def implementation(name: str) -> batch.Implementation:
    """The implementation called ``name`` ("c" or "python"); the C one skips the test where it
    is not built, and fails it under CI=true, where `make install` must have built it."""
    if name == "python":
        return batch.PYTHON
    if batch.C is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the C extension healthcode.tlog._sha256batch is not built")
        pytest.skip("the C extension healthcode.tlog._sha256batch is not built")
    return batch.C
