"""One step of a person's status, as the derivation records it: the stored status after a
decision, the change it records, the change's log entry, and the status row; and `Decided`, the
decisions of a recompute waiting to be written (`services.derivation`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from healthcode.domain.log_entries import status_change_entry
from healthcode.domain.rulebook import Colour
from healthcode.domain.status import Status
from healthcode.store.status import StatusChange, StoredStatus


@dataclass
class Decided:
    """A recompute's decisions, for `Derivation.commit`: the changes (not yet logged), the
    status rows to insert and to update, and the colours if asked for."""

    now: datetime
    changes: list[StatusChange] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    colours: dict[str, Colour] = field(default_factory=dict)


def step(
    key: str, current: StoredStatus, status: Status, at: datetime, now: datetime, cause: str
) -> tuple[StoredStatus, StatusChange | None]:
    changed = (current.colour, current.rule_id) != status.key
    after = StoredStatus(
        person_key=key,
        colour=status.colour,
        rule_id=status.rule_id,
        inputs=status.inputs,
        since=at if changed else current.since,
        valid_until=status.valid_until,
        rulebook_version=status.rulebook_version,
    )
    if not changed:
        return after, None
    change = StatusChange(
        person_key=key,
        effective_at=at,
        recorded_at=now,
        colour=status.colour,
        rule_id=status.rule_id,
        previous_colour=current.colour,
        previous_rule_id=current.rule_id,
        inputs=status.inputs,
        valid_until=status.valid_until,
        rulebook_version=status.rulebook_version,
        cause=cause,
    )
    return after, change


def status_change_entry_for(change: StatusChange, index: int, secret: bytes) -> bytes:
    """The log entry of a recorded change (also recomputed by the self-check)."""
    return status_change_entry(
        index=index,
        secret=secret,
        colour=str(change.colour),
        rule_id=change.rule_id,
        previous_colour=str(change.previous_colour),
        previous_rule_id=change.previous_rule_id,
        effective_at=change.effective_at,
        recorded_at=change.recorded_at,
        valid_until=change.valid_until,
        rulebook_version=change.rulebook_version,
        cause=change.cause,
        inputs=change.inputs,
    )


def status_row(status: StoredStatus, now: datetime) -> dict[str, Any]:
    return {
        "person_key": status.person_key,
        "colour": str(status.colour),
        "rule_id": status.rule_id,
        "inputs": json.dumps(list(status.inputs)),
        "since": status.since,
        "valid_until": status.valid_until,
        "rulebook_version": status.rulebook_version,
        "computed_at": now,
    }
