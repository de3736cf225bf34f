"""Oversight's findings: what a detector saw, about whom (an official, a venue, a source...),
and the stored records that support it, named by reference so anyone holding the store can
check them (docs/oversight.md).

A record reference is ``<kind>:<id>``: ``order:<order id>``, ``evidence:<source>/<record>``,
``designation:<id>``, ``appeal:<id>``, ``refusal:<row id>`` (a refused staff act),
``staff_token:<token id>`` (a staff token the operator issued),
``staff_registration:<entry index>`` (a registration of a member of staff),
``guardianship:<entry index>`` (a guardianship, by its ``guardianship`` entry). The judging
functions beside this module are pure: the detectors in ``healthcode.oversight`` gather compact
facts from the store and hand them here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

RECORD_KINDS = (
    "order", "evidence", "designation", "appeal", "refusal", "staff_token", "staff_registration",
    "guardianship",
)  # fmt: skip


def order_ref(order_id: str) -> str:
    return f"order:{order_id}"


def evidence_ref(source_id: str, record_id: str) -> str:
    return f"evidence:{source_id}/{record_id}"


def designation_ref(designation_id: str) -> str:
    return f"designation:{designation_id}"


def appeal_ref(appeal_id: str) -> str:
    return f"appeal:{appeal_id}"


def refusal_ref(refusal_id: int) -> str:
    return f"refusal:{refusal_id}"


def staff_token_ref(token_id: str) -> str:
    return f"staff_token:{token_id}"


def staff_registration_ref(log_index: int) -> str:
    return f"staff_registration:{log_index}"


def guardianship_ref(log_index: int) -> str:
    """A guardianship by the index of its ``guardianship`` entry: the entry oversight opens to
    learn whom it names (its row, in force or ended, holds the same index)."""
    return f"guardianship:{log_index}"


@dataclass(frozen=True)
class Finding:
    detector: str
    # "<what>:<id>": official:<badge>, authority:<id>, venue:<id>, source:<id>,
    # guardian:<entry index>, ...
    subject: str
    summary_zh: str
    summary_en: str
    score: float  # how far from the baseline, in the detector's own unit (docs/oversight.md)
    window_from: datetime
    window_to: datetime
    records: tuple[str, ...]  # the supporting records, sorted, each "<kind>:<id>"

    def __post_init__(self) -> None:
        if not self.records:
            raise ValueError("a finding names the records that support it")
        for ref in self.records:
            kind, _, rest = ref.partition(":")
            if kind not in RECORD_KINDS or not rest:
                raise ValueError(f"not a record reference: {ref!r}")

    @property
    def fingerprint(self) -> str:
        """The same detector seeing the same thing over the same records again (a later run)
        gives the same fingerprint, so it is stored once."""
        key = json.dumps([self.detector, self.subject, sorted(self.records)])
        return hashlib.sha256(key.encode()).hexdigest()
