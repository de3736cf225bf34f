"""Staff: officials, supervisors, hotline staff and oversight auditors, and their sign-in.

Registrations are logged (without password hashes); passwords are hashed with argon2 and
exchanged for a short-lived bearer token (OAuth2 password flow). A token the operator issues
instead (``healthcode admin staff-token``, the demo's links) is logged when it is made and says
so in its claims (`issue_token`, domain/staff_tokens.py); there is no other way here to mint a
staff token without a password.
"""

from __future__ import annotations

import re
import secrets as token_secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from healthcode.domain.evidence import AREA_CODE_PATTERN, RECORD_ID_PATTERN
from healthcode.domain.log_entries import registry_entry
from healthcode.domain.staff_tokens import staff_token_entry, validity
from healthcode.errors import InputRejected, NotFound, Unauthorized
from healthcode.services import transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.services.sign_in_throttle import SignInThrottle
from healthcode.services.tokens import Tokens
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store import staff_tokens as staff_tokens_repo
from healthcode.store.database import Database
from healthcode.store.staff import StaffMember
from healthcode.store.staff_tokens import IssuedToken

STAFF_TOKEN_TTL = timedelta(minutes=15)
_hasher = PasswordHasher()


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
    role: Literal["official", "supervisor", "hotline", "auditor"]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    authority: Annotated[str, Field(pattern=RECORD_ID_PATTERN)] | None = None
    area: Annotated[str, Field(pattern=AREA_CODE_PATTERN)] | None = None
    password: Annotated[str, Field(min_length=8, max_length=200)] | None = None
    # A YAML or JSON boolean: the text "false" (a quoted YAML value) is refused, not read as one.
    active: StrictBool = True


class Staff:
    def __init__(
        self, db: Database, tokens: Tokens, throttle: SignInThrottle, secrets: PersonSecrets
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._secrets = secrets
        self.throttle = throttle

    def register(self, entries: Sequence[object], *, now: datetime) -> int:
        try:
            members = [StaffIn.model_validate(entry) for entry in entries]
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputRejected(
                "registry.invalid", f"staff.{'.'.join(map(str, first['loc']))}: {first['msg']}"
            ) from None
        with self._db.write() as conn:
            authorities = set(registry_repo.authority_names(conn))
            for member in members:
                needs_authority = member.role in ("official", "supervisor", "hotline")
                if needs_authority != (member.authority is not None) or (
                    member.authority and member.authority not in authorities
                ):
                    raise InputRejected(
                        "registry.invalid",
                        f"staff {member.id}: auditors belong to no authority; others to a registered one",
                    )
                if (member.role == "hotline") != (member.area is not None):
                    raise InputRejected(
                        "registry.invalid", f"staff {member.id}: a hotline serves one district"
                    )
                record = member.model_dump(mode="json", exclude={"password"})
                transparency.append_one(conn, "registry", registry_entry("staff", record, now), now)
                existing = staff_repo.find(conn, member.id)
                password_hash = (
                    _hasher.hash(member.password)
                    if member.password
                    else (existing.password_hash if existing else None)
                )
                staff_repo.save(
                    conn,
                    StaffMember(
                        member.id,
                        member.role,
                        member.authority,
                        member.area,
                        member.name,
                        password_hash,
                        member.active,
                    ),
                    now,
                )
        return len(members)

    def sign_in(
        self, staff_id: str, password: str, *, now: datetime, address: str | None = None
    ) -> str:
        """Exchange a badge id and password for a short-lived bearer token; throttled per
        badge id and per client ``address`` (services/sign_in_throttle.py)."""
        self.throttle.check(staff_id, address, now=now)
        # A name no badge can have is not looked up: PostgreSQL refuses text with a NUL in it.
        member = None
        if re.fullmatch(RECORD_ID_PATTERN, staff_id):
            with self._db.read() as conn:
                member = staff_repo.find(conn, staff_id)
        try:
            if member is None or not member.active or member.password_hash is None:
                raise VerificationError
            _hasher.verify(member.password_hash, password)
        except (VerificationError, InvalidHashError):
            self.throttle.failed(staff_id, address, now=now)
            raise Unauthorized("auth.invalid_token", "unknown badge or wrong password") from None
        self.throttle.succeeded(staff_id, now=now)
        return self._tokens.mint(member.id, role=member.role, now=now, ttl=STAFF_TOKEN_TTL)

    def issue_token(self, staff_id: str, *, now: datetime, ttl: timedelta = STAFF_TOKEN_TTL) -> str:
        """A token of an active member's role that the operator issues without their password
        (its claims say ``issued_by: operator``), lasting ``ttl``: logged as a ``staff_token``
        entry, with its row, in one transaction before the token exists, so no one holds a
        member's role unseen; what is done with it is logged as done with it
        (services/staff_tokens.py)."""
        valid_from, valid_until = validity(now, ttl)
        token_id = token_secrets.token_hex(16)
        with self._db.write() as conn:
            member = (
                staff_repo.find(conn, staff_id)
                if re.fullmatch(RECORD_ID_PATTERN, staff_id)
                else None
            )
            if member is None or not member.active:
                raise NotFound("staff_token.member_unknown", staff_id)
            secret_key = staff_secret_key(member.id)
            secret = self._secrets.secret(secret_key)
            self._secrets.escrow_missing(conn, [secret_key], now)
            [index] = transparency.append(conn, [("staff_token", lambda i: staff_token_entry(
                index=i, staff_secret=secret, role=member.role, authority_id=member.authority_id,
                valid_from=valid_from, valid_until=valid_until,
            ))], now)  # fmt: skip
            staff_tokens_repo.insert(conn, IssuedToken(
                token_id, member.id, member.role, member.authority_id, valid_from, valid_until,
                index,
            ))  # fmt: skip
        return self._tokens.mint(
            member.id, role=member.role, now=valid_from, ttl=valid_until - valid_from,
            token_id=token_id, operator=True,
        )  # fmt: skip

    def find(self, staff_id: str) -> StaffMember | None:
        with self._db.read() as conn:
            return staff_repo.find(conn, staff_id)
