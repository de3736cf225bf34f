"""A member of staff's registration as the log states it: what the load set, the member as they
stood before it, and the supervisors their authority had, so that a password reset or a
supervisor added behind the others' backs reads as such in the public log (docs/oversight.md,
``staff_registry``). No I/O, no clock.

The operator registers staff (``healthcode admin load``). Re-registering a supervisor with a
password the operator knows lets the operator sign in as them and meet every two-person rule
alone; without these fields that registration's entry was the same as a plain re-registration.
The entry never holds the password or its hash: only whether this load set one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from healthcode.domain.log_entries import encode_entry, instant_text

# What a load did to the member's password: a new one given (``set``), the hash they had kept
# (``kept``), or none at all (``none``: no sign-in, only tokens the operator issues).
Password = Literal["set", "kept", "none"]
SUPERVISOR = "supervisor"


def password_state(given: bool, had: bool) -> Password:
    return "set" if given else ("kept" if had else "none")


@dataclass(frozen=True)
class Standing:
    """A member as the store held them before a registration."""

    role: str
    authority_id: str | None
    active: bool
    had_password: bool

    def supervises(self, authority_id: str | None) -> bool:
        return self.role == SUPERVISOR and self.active and self.authority_id == authority_id


@dataclass(frozen=True)
class StaffRegistration:
    """One registration of a member: the record as registered (no password), what it did to
    the password, the member before it (None: new), the active supervisors of the member's
    authority before the load (the member aside; None without an authority), and, when it ends
    the member's being an active supervisor, how many their authority has left once applied."""

    log_index: int
    staff_id: str
    role: str
    name: str
    authority_id: str | None
    area_code: str | None
    active: bool
    password: Password
    before: Standing | None
    supervisors_before: int | None
    supervisors_left: int | None
    recorded_at: datetime

    def record(self) -> dict[str, Any]:
        """The ``record`` of its entry: the registration as given, with ``password``."""
        return {
            "id": self.staff_id, "role": self.role, "name": self.name,
            "authority": self.authority_id, "area": self.area_code, "active": self.active,
            "password": self.password,
        }  # fmt: skip

    @property
    def supervises(self) -> bool:
        return self.role == SUPERVISOR and self.active and self.authority_id is not None


def staff_registry_entry(registration: StaffRegistration) -> bytes:
    """A ``registry`` entry of ``what: staff`` (docs/transparency-log.md). Entries written before
    these fields have only ``record`` (without ``password``) and ``recorded_at``."""
    before = registration.before
    return encode_entry(
        "registry",
        {
            "what": "staff",
            "record": registration.record(),
            "before": None if before is None else {
                "role": before.role, "authority": before.authority_id, "active": before.active,
                "had_password": before.had_password,
            },
            "supervisors_before": registration.supervisors_before,
            "supervisors_left": registration.supervisors_left,
            "recorded_at": instant_text(registration.recorded_at),
        },
    )  # fmt: skip
