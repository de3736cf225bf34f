"""Named points in the write path where the crash harness (`make crash`) kills the server.

`HEALTHCODE_CRASH_POINT=<name>:<n>` makes the process SIGKILL itself the n-th time it reaches
that point, so a test can crash it exactly there rather than only at random moments (what
failpoints do in etcd or TiKV). Unset, as in every deployment, `reach` is a dictionary lookup.

Points: `intake.before_commit` (inside the write transaction, all rows and the log entry
written), `intake.after_commit` (committed, the answer not yet sent), the same two of issuing
orders (`orders.*`) and of filing appeals (`appeals.*`), with their idempotency keys written,
and `sequencer.signing` (a checkpoint signed, not yet stored).
"""

from __future__ import annotations

import os
import signal
from functools import cache

POINTS = frozenset(
    {
        "intake.before_commit", "intake.after_commit",
        "orders.before_commit", "orders.after_commit",
        "appeals.before_commit", "appeals.after_commit",
        "sequencer.signing",
    }
)  # fmt: skip
_passes: dict[str, int] = {}


@cache
def _armed() -> tuple[str, int] | None:
    spec = os.environ.get("HEALTHCODE_CRASH_POINT", "")
    if not spec:
        return None
    name, _, count = spec.partition(":")
    if name not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"HEALTHCODE_CRASH_POINT must be <point>:<n>, a point of {sorted(POINTS)}")
    return name, int(count)


def reach(name: str) -> None:
    armed = _armed()
    if armed is None or armed[0] != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] == armed[1]:
        os.kill(os.getpid(), signal.SIGKILL)
