"""What the self-check expects of staff registrations since migration 0024: each ``registry``
entry of ``what: staff`` rebuilt from its row of ``staff_registrations``; each row's "before"
the member as their previous row left them; each member's last row the member as ``staff``
holds them; and no such entry without its row (one deleted would hide a password reset from
oversight's ``staff_registry``). And each ``staff_password`` entry (a member's own password,
since migration 0028) and ``staff_sign_in`` entry (since 0030) rebuilt from its row of
``staff_password_changes`` and ``staff_sign_ins``."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Connection, select

from healthcode.domain.staff_passwords import staff_password_entry
from healthcode.domain.staff_registry import StaffRegistration, Standing, staff_registry_entry
from healthcode.domain.staff_sign_ins import staff_sign_in_entry
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.store import staff_passwords as passwords_repo
from healthcode.store import staff_registrations as repo
from healthcode.store import staff_sign_ins as sign_ins_repo
from healthcode.store import tables as t

Expected = dict[int, tuple[str, bytes]]


def expected_staff(conn: Connection) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) and the problems."""
    expected: Expected = {}
    problems: list[str] = []
    last: dict[str, StaffRegistration] = {}
    for registration in repo.every(conn):
        index = registration.log_index
        expected[index] = ("registry", staff_registry_entry(registration))
        previous = last.get(registration.staff_id)
        if previous is not None and registration.before != _standing(previous):
            problems.append(
                f"staff registration {index}: the member before it is not as their"
                f" registration {previous.log_index} left them"
            )
        last[registration.staff_id] = registration
    for row in conn.execute(select(t.staff).where(t.staff.c.id.in_(sorted(last)))):
        logged = last[row.id]
        held = (row.role, row.authority_id, row.area_code, row.name, bool(row.active))
        if held != (
            logged.role,
            logged.authority_id,
            logged.area_code,
            logged.name,
            logged.active,
        ) or (row.password_hash is not None) != (logged.password != "none"):
            problems.append(
                f"staff {row.id}: not as their last registration ({logged.log_index}) logged"
            )
    return expected, problems


def expected_passwords(conn: Connection, secrets: PersonSecrets) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) of every member's change of their own password and of every
    sign-in with it, and no problems of their own (a row edited or deleted no longer matches
    the log)."""
    expected: Expected = {}
    for change in passwords_repo.every(conn):
        secret = secrets.secret(staff_secret_key(change.staff_id))
        expected[change.log_index] = ("staff_password", staff_password_entry(
            index=change.log_index, staff_secret=secret, role=change.role,
            authority_id=change.authority_id, changed_at=change.changed_at,
        ))  # fmt: skip
    for sign_in in sign_ins_repo.every(conn):
        secret = secrets.secret(staff_secret_key(sign_in.staff_id))
        expected[sign_in.log_index] = ("staff_sign_in", staff_sign_in_entry(
            index=sign_in.log_index, staff_secret=secret, role=sign_in.role,
            authority_id=sign_in.authority_id, at=sign_in.signed_in_at,
        ))  # fmt: skip
    return expected, []


def unrecorded(entries: Iterable[tuple[int, bytes]]) -> list[str]:
    """Each staff registration entry written since migration 0024 (it has ``before``) that no
    row rebuilds: ``entries`` are the registry entries the expected ones left over."""
    found = []
    for index, body in entries:
        try:
            data = json.loads(body)["data"]
            rowed = data["what"] == "staff" and "before" in data
        except (ValueError, KeyError, TypeError):
            continue  # not a staff registration the self-check can read: as before
        if rowed:
            found.append(f"entry {index} (registry) registers staff, and has no stored record")
    return found


def _standing(registration: StaffRegistration) -> Standing:
    return Standing(
        registration.role, registration.authority_id, registration.active,
        registration.password != "none",
    )  # fmt: skip
