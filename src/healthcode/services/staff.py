"""Staff: officials, supervisors, hotline staff and oversight auditors, and their sign-in.

Registrations are logged (without password hashes); passwords are hashed with argon2 and
exchanged for a short-lived bearer token (OAuth2 password flow).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healthcode.domain.evidence import AREA_CODE_PATTERN, RECORD_ID_PATTERN
from healthcode.domain.log_entries import registry_entry
from healthcode.errors import InputRejected, Unauthorized
from healthcode.services import transparency
from healthcode.services.sign_in_throttle import SignInThrottle
from healthcode.services.tokens import Tokens
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database
from healthcode.store.staff import StaffMember

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
    active: bool = True


class Staff:
    def __init__(self, db: Database, tokens: Tokens, throttle: SignInThrottle) -> None:
        self._db = db
        self._tokens = tokens
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
        return self.token(member, now=now)

    def token(self, member: StaffMember, *, now: datetime, ttl: timedelta = STAFF_TOKEN_TTL) -> str:
        return self._tokens.mint(member.id, role=member.role, now=now, ttl=ttl)

    def find(self, staff_id: str) -> StaffMember | None:
        with self._db.read() as conn:
            return staff_repo.find(conn, staff_id)
