"""``hash_implementation``: runs a test module once with the C batch hashing and once with the
Python fallback (``tlog/batch.py``), so that the vectors and properties hold for both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.batch_hashing import FUNCTIONS, implementation

from healthcode.tlog import batch


# Module-scoped, so that Hypothesis tests may use it (it holds for every example of a test).
@pytest.fixture(scope="module", params=["c", "python"])
def hash_implementation(request: pytest.FixtureRequest) -> Iterator[batch.Implementation]:
    chosen = implementation(request.param)
    with pytest.MonkeyPatch.context() as patch:
        for name in FUNCTIONS:
            patch.setattr(batch, name, getattr(chosen, name))
        yield chosen
