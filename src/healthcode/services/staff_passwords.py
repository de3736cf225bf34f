"""A member of staff replaces the password the operator set with one of their own.

The operator registers staff with their first password (``healthcode admin load``) and may
set a new one at any later load; until the member replaces it, the operator can sign in as
them. So a member signed in with their password changes it by giving the current one
(``POST /api/v1/staff/password``, the console's "Change your password"): the new hash and a
``staff_password`` entry with its row, in one transaction (domain/staff_passwords.py). A token
the operator issued cannot change it (its holder proved no password), and a wrong current
password counts as a failed sign-in, so the change is no way around the sign-in throttle.
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
from healthcode.services.sign_in_throttle import SignInThrottle
from healthcode.store import staff as staff_repo
from healthcode.store import staff_passwords as repo
from healthcode.store.database import Database
from healthcode.store.staff_passwords import PasswordChange


class StaffPasswords:
    def __init__(self, db: Database, secrets: PersonSecrets, throttle: SignInThrottle) -> None:
        self._db = db
        self._secrets = secrets
        self._throttle = throttle
        self._hasher = PasswordHasher()  # argon2's defaults, as for the operator's (staff.py)

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
        self._throttle.check(staff_id, address, now=now)
        with self._db.read() as conn:
            member = staff_repo.find(conn, staff_id)
        if member is None or not member.active:
            raise Unauthorized("auth.invalid_token", "no such active staff member")
        if not self._proves(member.password_hash, current):
            self._throttle.failed(staff_id, address, now=now)
            raise Unauthorized("staff_password.current_wrong")
        new_hash = self._hasher.hash(new)  # outside the write transaction: argon2 is slow
        proven = member.password_hash
        with self._db.write() as conn:
            # The member as they are now: a load may have reset the password since the read.
            member = staff_repo.find(conn, staff_id)
            if member is None or not member.active or member.password_hash != proven:
                raise Unauthorized("staff_password.current_wrong")
            secret_key = staff_secret_key(member.id)
            secret = self._secrets.secret(secret_key)
            self._secrets.escrow_missing(conn, [secret_key], now)
            [index] = transparency.append(conn, [("staff_password", lambda i: staff_password_entry(
                index=i, staff_secret=secret, role=member.role, authority_id=member.authority_id,
                changed_at=now,
            ))], now)  # fmt: skip
            repo.insert(
                conn, PasswordChange(index, member.id, member.role, member.authority_id, now)
            )
            staff_repo.set_password_hash(conn, member.id, new_hash)
        self._throttle.succeeded(staff_id, now=now)
        return index

    def operator_knows(self, staff_id: str) -> bool:
        """Whether the member's password is still the one the operator set."""
        with self._db.read() as conn:
            member = staff_repo.find(conn, staff_id)
            last_set, last_changed = repo.last_indices(conn, staff_id)
        has_password = member is not None and member.password_hash is not None
        return operator_knows(has_password, last_set, last_changed)

    def _proves(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            return False
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False
