"""Staff: officials, supervisors, hotline staff and oversight auditors, and their sign-in.

Registrations are logged with a row each (never a password or its hash: whether the load set
one, how the member stood before, and their authority's supervisors, for oversight's
``staff_registry``; `_log_registration`); passwords are hashed with argon2 and
exchanged for a short-lived bearer token (OAuth2 password flow), each sign-in a
``staff_sign_in`` entry with its row, which the member's page lists (`_log_sign_in`). A token
the operator issues instead (``healthcode admin staff-token``, the demo's links) is logged when
it is made and says so in its claims (`issue_token`, domain/staff_tokens.py); there is no other
way here to mint a staff token without a password.
"""

from __future__ import annotations

import re
import secrets as token_secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from sqlalchemy import Connection

from healthcode.domain.evidence import AREA_CODE_PATTERN, RECORD_ID_PATTERN
from healthcode.domain.staff_passwords import LONGEST, SHORTEST
from healthcode.domain.staff_registry import (
    StaffRegistration,
    Standing,
    password_state,
    staff_registry_entry,
)
from healthcode.domain.staff_sign_ins import staff_sign_in_entry
from healthcode.domain.staff_tokens import staff_token_entry, validity
from healthcode.errors import InputRejected, NotFound, Unauthorized
from healthcode.services import transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.services.sign_in_throttle import SignInThrottle
from healthcode.services.tokens import Tokens
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store import staff_registrations as registrations_repo
from healthcode.store import staff_sign_ins as sign_ins_repo
from healthcode.store import staff_tokens as staff_tokens_repo
from healthcode.store.database import Database
from healthcode.store.staff import StaffMember
from healthcode.store.staff_sign_ins import SignIn
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
    password: Annotated[str, Field(min_length=SHORTEST, max_length=LONGEST)] | None = None
    # A YAML or JSON boolean: the text "false" (a quoted YAML value) is refused, not read as one.
    active: StrictBool = True


@dataclass(frozen=True)
class Prepared:
    """A member to register, checked, with their password's hash (None: none given)."""

    member: StaffIn
    password_hash: str | None


class Staff:
    def __init__(
        self, db: Database, tokens: Tokens, throttle: SignInThrottle, secrets: PersonSecrets
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._secrets = secrets
        self.throttle = throttle

    def register(self, entries: Sequence[object], *, now: datetime) -> int:
        prepared = self.prepare(entries)
        with self._db.write() as conn:
            return self.register_in(conn, prepared, now=now)

    def prepare(self, entries: Sequence[object]) -> list[Prepared]:
        """The entries checked and their passwords hashed, before any transaction: argon2 is
        slow on purpose, and a write transaction holds the store's one write lock."""
        try:
            members = [StaffIn.model_validate(entry) for entry in entries]
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputRejected(
                "registry.invalid", f"staff.{'.'.join(map(str, first['loc']))}: {first['msg']}"
            ) from None
        return [
            Prepared(member, self.hash_password(member.password) if member.password else None)
            for member in members
        ]

    def register_in(self, conn: Connection, members: Sequence[Prepared], *, now: datetime) -> int:
        """`register` in the caller's transaction, of members `prepare` made (``admin load``
        registers the file's areas, authorities, sources and venues in the same one, before
        its staff)."""
        authorities = set(registry_repo.authority_names(conn))
        supervisors = _Supervisors(staff_repo.active_supervisors(conn))
        for prepared in members:
            member = prepared.member
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
            existing = staff_repo.find(conn, member.id)
            password_hash: str | None
            set_at: datetime | None
            if prepared.password_hash is not None:  # set now: earlier sign-ins act no more
                password_hash, set_at = prepared.password_hash, now
            elif existing is not None:
                password_hash, set_at = existing.password_hash, existing.password_set_at
            else:
                password_hash, set_at = None, None
            staff_repo.save(conn, StaffMember(
                member.id, member.role, member.authority, member.area, member.name,
                password_hash, member.active, set_at,
            ), now)  # fmt: skip
            _log_registration(conn, member, existing, supervisors, now)
        return len(members)

    def hash_password(self, password: str) -> str:
        return _hasher.hash(password)

    def sign_in(
        self, staff_id: str, password: str, *, now: datetime, address: str | None = None
    ) -> str:
        """Exchange a badge id and password for a short-lived bearer token, the sign-in
        logged; throttled per badge id and per client ``address`` (`authenticate`)."""
        member = self.authenticate(staff_id, password, now=now, address=address)
        self._log_sign_in(member, now)
        return self._tokens.mint(member.id, role=member.role, now=now, ttl=STAFF_TOKEN_TTL)

    def authenticate(
        self, staff_id: str, password: str, *, now: datetime, address: str | None = None
    ) -> StaffMember:
        """The active member whose password this is, or `auth.invalid_token`; throttled per
        badge id and per client ``address`` (services/sign_in_throttle.py). No sign-in: a
        command that acts as the member checks their password with it, and logs the act."""
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
        return member

    def _log_sign_in(self, member: StaffMember, now: datetime) -> None:
        """A ``staff_sign_in`` entry with its row, before the token exists: the member's page
        lists it (domain/staff_sign_ins.py)."""
        with self._db.write() as conn:
            secret = self._secrets.escrowed(conn, staff_secret_key(member.id), now)
            [index] = transparency.append(conn, [("staff_sign_in", lambda i: staff_sign_in_entry(
                index=i, staff_secret=secret, role=member.role, authority_id=member.authority_id,
                at=now,
            ))], now)  # fmt: skip
            sign_ins_repo.insert(
                conn, SignIn(index, member.id, member.role, member.authority_id, now)
            )

    def sign_ins(self, staff_id: str, *, limit: int = 20) -> list[SignIn]:
        """The member's last ``limit`` sign-ins with their password, the newest first."""
        with self._db.read() as conn:
            return sign_ins_repo.latest(conn, staff_id, limit)

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
            secret = self._secrets.escrowed(conn, staff_secret_key(member.id), now)
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


class _Supervisors:
    """Each authority's active supervisors before a load and as it goes: a load that sets up an
    authority's first supervisors adds none beside others; one that ends two of them leaves
    none after the second (`domain/oversight/staff_registry.py`)."""

    def __init__(self, before: dict[str, set[str]]) -> None:
        self._before = {authority: frozenset(ids) for authority, ids in before.items()}
        self._now = before

    def before(self, authority_id: str | None, staff_id: str) -> int | None:
        if authority_id is None:
            return None
        return len(self._before.get(authority_id, frozenset()) - {staff_id})

    def apply(self, member: StaffIn, was: Standing | None) -> int | None:
        """Take the registration into account; how many active supervisors the member's
        former authority has left, if it ends their being one of them."""
        for ids in self._now.values():
            ids.discard(member.id)
        if member.role == "supervisor" and member.active and member.authority is not None:
            self._now.setdefault(member.authority, set()).add(member.id)
        if was is None or not was.supervises(was.authority_id) or was.authority_id is None:
            return None
        if was.supervises(member.authority) and member.role == "supervisor" and member.active:
            return None
        return len(self._now.get(was.authority_id, set()))


def _log_registration(
    conn: Connection,
    member: StaffIn,
    existing: StaffMember | None,
    supervisors: _Supervisors,
    now: datetime,
) -> None:
    """The member's ``registry`` entry and its row (`store/staff_registrations.py`): whether
    this load set their password, never the password or its hash."""
    was = None
    if existing is not None:
        was = Standing(
            existing.role, existing.authority_id, existing.active,
            existing.password_hash is not None,
        )  # fmt: skip
    supervisors_before = supervisors.before(member.authority, member.id)
    supervisors_left = supervisors.apply(member, was)
    registration = StaffRegistration(
        0, member.id, member.role, member.name, member.authority, member.area, member.active,
        password_state(member.password is not None, was is not None and was.had_password),
        was, supervisors_before, supervisors_left, now,
    )  # fmt: skip
    [index] = transparency.append(conn, [(
        "registry", lambda i: staff_registry_entry(replace(registration, log_index=i)),
    )], now)  # fmt: skip
    registrations_repo.insert(conn, replace(registration, log_index=index))
