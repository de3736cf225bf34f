"""Brute-force protection of the staff password sign-in (docs/operations.md, "Sign-in
throttle").

After ``per_badge`` failures for one badge id, or ``per_address`` from one client address,
within ``window``, further attempts are refused (``auth.too_many_attempts``, 429, with the
seconds until one more is allowed) before the password is checked: a right password is refused
too, so a guesser learns nothing while throttled, and no hash is computed for them. A success
forgets the badge's failures (not the address's). Failures are rows of the database, so every
server process counts the same ones and a restart forgets none. The clock is an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcode.errors import TooManyAttempts
from healthcode.store import sign_in_failures as repo
from healthcode.store.database import Database


@dataclass(frozen=True)
class ThrottlePolicy:
    per_badge: int = 5
    per_address: int = 50  # an office or a NAT shares one address
    window: timedelta = timedelta(minutes=15)


class SignInThrottle:
    def __init__(self, db: Database, secret: bytes, policy: ThrottlePolicy | None = None) -> None:
        self._db = db
        # A key of its own, derived from the deployment's secret: the rows hold no badge id or
        # address, and the hashes cannot be matched with another table's.
        self._key = hmac.new(secret, b"healthcode sign-in throttle", hashlib.sha256).digest()
        self.policy = policy or ThrottlePolicy()

    def _subjects(self, badge: str, address: str | None) -> list[tuple[str, int]]:
        subjects = [(self._hash("badge", badge), self.policy.per_badge)]
        if address:
            subjects.append((self._hash("address", address), self.policy.per_address))
        return subjects

    def _hash(self, kind: str, text: str) -> str:
        return hmac.new(self._key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()

    def check(self, badge: str, address: str | None, *, now: datetime) -> None:
        """Refuse if the badge or the address is over its limit; else nothing."""
        start = now - self.policy.window
        wait = 0.0
        with self._db.read() as conn:
            for subject, limit in self._subjects(badge, address):
                failures = repo.since(conn, subject, start)
                if len(failures) >= limit:
                    # Allowed again once enough of them have left the window.
                    free_at = failures[len(failures) - limit] + self.policy.window
                    wait = max(wait, (free_at - now).total_seconds())
        if wait > 0:
            raise TooManyAttempts(retry_after=max(1, math.ceil(wait)))

    def failed(self, badge: str, address: str | None, *, now: datetime) -> None:
        subjects = [subject for subject, _ in self._subjects(badge, address)]
        with self._db.write() as conn:
            repo.record(conn, subjects, now, forget_before=now - self.policy.window)

    def succeeded(self, badge: str, *, now: datetime) -> None:
        with self._db.write() as conn:
            repo.forget(conn, self._hash("badge", badge))
