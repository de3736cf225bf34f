"""Person tokens the operator issues: bearer tokens and sign-in links, each logged when made.

Persons have no identity provider here, so the operator mints their tokens (``healthcode admin
token``, the demo's links): each is a ``person_token`` entry naming the person by a person
tag, with its row, in one transaction before the token exists, and its claims say
``issued_by: operator`` and carry the row's id (``jti``). The person's page and
``GET /api/v1/me/tokens`` list them, so no one holds a key to a person's record that the
person cannot see was made (domain/person_tokens.py). Each also notifies the person in the
same transaction (a ``token`` notice, its entry's log index as subject), so one they did not
ask for is noticed at once, not only if they look at their page.
"""

from __future__ import annotations

import re
import secrets as token_secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from healthcode.domain.people import PERSON_KEY_PATTERN
from healthcode.domain.person_tokens import KINDS, TokenKind, person_token_entry, validity
from healthcode.errors import NotFound
from healthcode.services import transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.notifications import Notice, Notifier
from healthcode.services.tokens import PERSON_AUDIENCE, SIGN_IN_AUDIENCE, Tokens
from healthcode.store import person_tokens as repo
from healthcode.store import registry as registry_repo
from healthcode.store.database import Database
from healthcode.store.person_tokens import IssuedPersonToken, PersonTokenView

AUDIENCES: dict[TokenKind, str] = {"bearer": PERSON_AUDIENCE, "login_link": SIGN_IN_AUDIENCE}


class PersonTokens:
    def __init__(
        self, db: Database, tokens: Tokens, secrets: PersonSecrets, notifier: Notifier
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._secrets = secrets
        self._notifier = notifier

    def issue(
        self, person_key: str, kinds: Sequence[TokenKind], *, now: datetime, ttl: timedelta
    ) -> list[str]:
        """A token of each of ``kinds`` for a registered person, lasting ``ttl``, in that
        order: all logged, with their rows, in one transaction, or none (an unknown person,
        a lifetime out of bounds)."""
        if not set(kinds) <= set(KINDS):
            raise ValueError(f"no person token of kinds {sorted(set(kinds) - set(KINDS))}")
        valid_from, valid_until = validity(now, ttl)
        token_ids = [token_secrets.token_hex(16) for _ in kinds]
        with self._db.write() as conn:
            # A key no person can have is not looked up: PostgreSQL refuses text with a NUL.
            known = re.fullmatch(PERSON_KEY_PATTERN, person_key) is not None
            if not known or registry_repo.person(conn, person_key) is None:
                # No detail: a person key is personal data (errors.HealthcodeError), and the
                # refusal's text reaches whatever logs the command's output.
                raise NotFound("person_token.person_unknown")
            secret = self._secrets.secret(person_key)
            self._secrets.escrow_missing(conn, [person_key], now)
            indices = transparency.append(
                conn,
                [("person_token", partial(_entry, secret, kind, valid_from, valid_until))
                 for kind in kinds],
                now,
            )  # fmt: skip
            for token_id, kind, index in zip(token_ids, kinds, indices, strict=True):
                repo.insert(conn, IssuedPersonToken(
                    token_id, person_key, kind, valid_from, valid_until, index,
                ))  # fmt: skip
            self._notifier.notify(conn, [
                Notice(person_key, "token", f"{kind}_issued", now, subject=str(index))
                for kind, index in zip(kinds, indices, strict=True)
            ])  # fmt: skip
        return [
            self._tokens.mint(
                person_key, role="person", audience=AUDIENCES[kind], now=valid_from,
                ttl=valid_until - valid_from, token_id=token_id, operator=True,
            )
            for token_id, kind in zip(token_ids, kinds, strict=True)
        ]  # fmt: skip

    def of_person(self, person_key: str) -> list[PersonTokenView]:
        """Every token the operator issued for the person, the newest first."""
        with self._db.read() as conn:
            return repo.of_person(conn, person_key)


def _entry(
    secret: bytes, kind: str, valid_from: datetime, valid_until: datetime, index: int
) -> bytes:
    return person_token_entry(
        index=index, person_secret=secret, kind=kind, valid_from=valid_from,
        valid_until=valid_until,
    )  # fmt: skip
