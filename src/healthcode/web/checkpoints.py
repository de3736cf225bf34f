"""Every answer that reports state carries the log checkpoint it was computed at (A6)."""

from __future__ import annotations

from fastapi import Response

from healthcode.services.log_reader import CheckpointRef

HEADER = "Healthcode-Checkpoint"


def carry_checkpoint(response: Response, checkpoint: CheckpointRef | None) -> None:
    """``Healthcode-Checkpoint: <origin> <size> <base64 root>``; absent before the first one."""
    if checkpoint is not None:
        response.headers[HEADER] = checkpoint.header()
