"""Every answer that reports state carries the log checkpoint it was computed at (A6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Response

from healthcode.services.log_reader import CheckpointRef

if TYPE_CHECKING:
    from healthcode.bootstrap import Services

HEADER = "Healthcode-Checkpoint"


def carry_checkpoint(response: Response, checkpoint: CheckpointRef | None) -> None:
    """``Healthcode-Checkpoint: <origin> <size> <base64 root>``; absent before the first one."""
    if checkpoint is not None:
        response.headers[HEADER] = checkpoint.header()


def latest_checkpoint(services: Services) -> CheckpointRef | None:
    """The latest checkpoint, for a route whose service reads none in its own transaction (or
    returns nothing to carry one, as an empty list). Read *before* the answer's own reads: the
    log only grows, so every entry it commits to is visible to them, and the answer is computed
    at that checkpoint or later, which is all the header says of any answer (rows not yet in a
    checkpoint are visible to every read)."""
    with services.db.read() as conn:
        return services.log.checkpoint_at(conn)
