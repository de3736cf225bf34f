"""Idempotency keys for issuing orders and filing appeals (``docs/api.md``, "Idempotency").

A client that sends ``Idempotency-Key`` (the IETF httpapi draft's header) with a write may
retry it after a lost answer or a crash: the first request with the key does the write and
records, in the same transaction, the key (scoped by the caller), a SHA-256 hash of the request
as the service reads it (RFC 8785 canonical JSON) and the id of what it made. A retry with the
same key and the same request writes nothing and answers with what the first one made; the same
key with another request is refused (``idempotency.key_reused``). Without a key nothing changes.

The key is the client's text: it is stored with the caller's id and never logged, never put in
an error's detail nor in the transparency log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection

from healthcode.domain.canonical import canonical
from healthcode.errors import InputRejected
from healthcode.store import idempotency as repo

KEY_CHARACTERS = f"[A-Za-z0-9._:~+/=-]{{1,{repo.KEY_MAX}}}"
# The header: the key bare, or as the draft's structured-field string (in double quotes).
HEADER_PATTERN = f'^(?:{KEY_CHARACTERS}|"{KEY_CHARACTERS}")$'
_HEADER = re.compile(f'{KEY_CHARACTERS}|"{KEY_CHARACTERS}"')
KEY_RULE = (
    f"1 to {repo.KEY_MAX} characters of A-Z a-z 0-9 . _ : ~ + / = -, bare or in double quotes"
)


def parse_key(value: str | None) -> str | None:
    """The key of an ``Idempotency-Key`` header value (quotes removed); None without one."""
    if value is None:
        return None
    if not _HEADER.fullmatch(value):
        raise InputRejected("idempotency.key_invalid", KEY_RULE)
    return value.strip('"')


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def request_hash(operation: str, request: object) -> bytes:
    """SHA-256 of the request as the service reads it: instants in UTC, so one instant written
    with two offsets is the same request."""
    return hashlib.sha256(canonical({"operation": operation, "request": _plain(request)})).digest()


@dataclasses.dataclass(frozen=True)
class Keyed:
    """One write's key, scoped by its caller, with the hash of its request."""

    actor_id: str
    key: str
    operation: str  # orders | appeals
    request_hash: bytes

    @classmethod
    def of(cls, actor_id: str, header: str | None, operation: str, request: object) -> Keyed | None:
        key = parse_key(header)
        if key is None:
            return None
        return cls(actor_id, key, operation, request_hash(operation, request))

    def earlier(self, conn: Connection) -> str | None:
        """Inside the write transaction: the id the first request with this key made, or None
        if there was none; refuses the key used with another request."""
        found = repo.find(conn, self.actor_id, self.key)
        if found is None:
            return None
        if found.operation != self.operation or found.request_hash != self.request_hash:
            raise InputRejected("idempotency.key_reused", "the key was used with another request")
        return found.result_id

    def remember(self, conn: Connection, result_id: str, now: datetime) -> None:
        """Inside the same write transaction as the write itself."""
        repo.insert(
            conn, actor_id=self.actor_id, key=self.key, operation=self.operation,
            request_hash=self.request_hash, result_id=result_id, now=now,
        )  # fmt: skip
