"""The single exception a log monitor raises, with a stable code and the evidence it holds."""

from __future__ import annotations

__all__ = ["MONITOR_ERROR_CODES", "MonitorError"]

MONITOR_ERROR_CODES = frozenset(
    {
        "monitor.http",  # a resource could not be fetched (network error or non-200 status)
        "monitor.key_invalid",  # the log's verifier key is not an Ed25519 vkey
        "monitor.key_changed",  # the served key differs from the one pinned in the state file
        "monitor.checkpoint_invalid",  # the checkpoint is not a well-formed signed note
        "monitor.signature_invalid",  # the checkpoint is not signed by the log's key
        "monitor.origin_mismatch",  # the checkpoint names another log than expected
        "monitor.cosignatures_missing",  # fewer trusted witness cosignatures than required
        "monitor.inconsistent",  # the checkpoint is not consistent with the one seen before
        "monitor.tile_invalid",  # a hash tile has the wrong length
        "monitor.bundle_invalid",  # an entry bundle is malformed or has the wrong entry count
        "monitor.entry_mismatch",  # an entry does not hash to what the tiles and root commit to
        "monitor.tile_mismatch",  # a served hash tile differs from the one rebuilt from entries
        "monitor.root_mismatch",  # the entries do not hash to the checkpoint's root
        "monitor.state_invalid",  # the local state file is unreadable or not self-consistent
        "monitor.state_unwritable",  # the local state file's folder cannot be written
    }
)


class MonitorError(Exception):
    """Verification failed; ``code`` is one of ``MONITOR_ERROR_CODES``.

    ``evidence`` holds signed notes that prove log misbehaviour on their own (e.g. the
    checkpoint seen before and the inconsistent one served now), for reporting.
    """

    def __init__(self, code: str, message: str, *, evidence: tuple[str, ...] = ()) -> None:
        if code not in MONITOR_ERROR_CODES:
            raise ValueError(f"unknown monitor error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.evidence = evidence
