"""A member of staff replaces the password the operator set with one of their own.

The operator registers staff with their first password (``healthcode admin load``) and may
set a new one at any later load; until the member replaces it, the operator can sign in as
them. So a member signed in with their password changes it by giving the current one
(``POST /api/v1/staff/password``, the page ``/staff/account``): the new hash and a
``staff_password`` entry with its row, in one transaction (domain/staff_passwords.py), and
every session opened before it ends (``staff.password_set_at``, web/auth.py). A token the
operator issued cannot change it (its holder proved no password), and the current password is
checked as a sign-in's is (`Staff.authenticate`: a wrong one counts against the throttle). The
entry proves only that whoever made it knew the current password: the member's page shows
when the last change was, so one they did not make is one they see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthcode.domain.staff_passwords import (
    LONGEST,
    SHORTEST,
    operator_knows,
    staff_password_entry,
)
from healthcode.errors import InputRejected, Unauthorized
from healthcode.services import transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.services.staff import Staff
from healthcode.store import staff as staff_repo
from healthcode.store import staff_passwords as repo
from healthcode.store.database import Database
from healthcode.store.staff_passwords import PasswordChange


@dataclass(frozen=True)
class PasswordState:
    """Whose a member's password is, as the log says: still the operator's, and the member's
    last change of their own (None: none)."""

    operator_knows: bool
    last_change: PasswordChange | None


class StaffPasswords:
    def __init__(self, db: Database, secrets: PersonSecrets, staff: Staff) -> None:
        self._db = db
        self._secrets = secrets
        self._staff = staff

    def change(
        self, staff_id: str, current: str, new: str, *, now: datetime,
        operator_token: str | None = None, address: str | None = None,
    ) -> int:  # fmt: skip
        """Replace the member's password with ``new``, given the ``current`` one: the log
        index of its ``staff_password`` entry. Refused with nothing written for a token the
        operator issued, a new password out of bounds or the same as the current one, or a
        wrong current one (a failed sign-in of the badge and ``address``)."""
        if operator_token is not None:
            raise Unauthorized("staff_password.operator_token")
        if not SHORTEST <= len(new) <= LONGEST or new == current:
            raise InputRejected("staff_password.invalid")
        try:
            member = self._staff.authenticate(staff_id, current, now=now, address=address)
        except Unauthorized as refused:
            if refused.code != "auth.invalid_token":
                raise
            raise Unauthorized("staff_password.current_wrong") from None
        new_hash = self._staff.hash_password(new)  # outside the write transaction: slow
        with self._db.write() as conn:
            # The member as they are now: a load may have reset the password since the check.
            now_held = staff_repo.find(conn, staff_id)
            if (
                now_held is None
                or not now_held.active
                or now_held.password_hash != member.password_hash
            ):
                raise Unauthorized("staff_password.current_wrong")
            secret = self._secrets.escrowed(conn, staff_secret_key(member.id), now)
            [index] = transparency.append(conn, [("staff_password", lambda i: staff_password_entry(
                index=i, staff_secret=secret, role=member.role, authority_id=member.authority_id,
                changed_at=now,
            ))], now)  # fmt: skip
            repo.insert(
                conn, PasswordChange(index, member.id, member.role, member.authority_id, now)
            )
            staff_repo.set_password_hash(conn, member.id, new_hash, now)
        return index

    def state(self, staff_id: str) -> PasswordState:
        """Whether the member's password is still the one the operator set, and their last
        change of their own."""
        with self._db.read() as conn:
            member = staff_repo.find(conn, staff_id)
            last_set, last_changed = repo.last_indices(conn, staff_id)
            last_change = repo.find(conn, last_changed) if last_changed is not None else None
        has_password = member is not None and member.password_hash is not None
        return PasswordState(operator_knows(has_password, last_set, last_changed), last_change)
