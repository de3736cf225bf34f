"""Changing a registered evidence source's key or kinds: what needs a supervisor's
co-signature, the life of a proposed change, and its log entries (docs/api.md, "Source keys").

A source's key decides whose signature counts as that lab's or that device's evidence, and its
kinds what it may say; swapping either is how one insider would let anyone speak for a source.
So loading the registry may register a source and may narrow it (fewer kinds, a smaller area,
a new name), but never give it another key, more kinds, another authority or a wider area:
a new key or new kinds are proposed, and take effect only once a supervisor of the source's
authority other than the proposer co-signs, before the proposal expires.

A new source is as dangerous as a new key (a fake lab's positive tests turn people red), so once
its authority has a supervisor a load does not register it either: it proposes it, as a change
of a source with no key yet (`NewSource`), and the co-signature registers it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from healthcode.domain import areas
from healthcode.domain.batches import SourceRegistration
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.log_entries import actor_tag, encode_entry, instant_text
from healthcode.errors import InputRejected

State = Literal["pending", "cosigned", "withdrawn", "expired"]
# Who proposed a change when no staff member did: the operator, at the command line.
OPERATOR = "operator"


# Ed25519 points of small order, by their y coordinate (the sign bit aside): RFC 8032 decodes
# them, and OpenSSL verifies against them. With one as a source's "public key" a signature
# anyone can make matches every message (the identity) or one in two, four or eight, so anyone
# could sign as the source; a real key pair never has one. A y not below p is no canonical
# encoding either (p and p + 1 are 0 and 1 again).
_P = 2**255 - 19
_Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022  # order 8
_SMALL_ORDER_Y = frozenset({0, 1, _P - 1, _Y8, _P - _Y8})


def unusable_key(raw: bytes) -> bool:
    """Whether these 32 bytes are no Ed25519 public key a signer alone can sign for."""
    if len(raw) != 32:
        return True
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    return y >= _P or y in _SMALL_ORDER_Y


def check_reload(stored: SourceRegistration, loaded: SourceRegistration) -> None:
    """Refuse a registry load that would give a registered source more power than it has:
    another key, kinds it lacks, another authority or a wider area. Narrowing is allowed."""
    where = f"source {stored.id}"
    if loaded.public_key != stored.public_key:
        raise InputRejected("registry.source_key_change", f"{where}: public_key")
    added = loaded.kinds - stored.kinds
    if added:
        raise InputRejected(
            "registry.source_key_change", f"{where}: kinds {' '.join(sorted(added))} added"
        )
    if loaded.authority_id != stored.authority_id:
        raise InputRejected("registry.source_moved", f"{where}: authority")
    if not areas.contains(stored.area, loaded.area):
        raise InputRejected("registry.source_moved", f"{where}: area {loaded.area}")


@dataclass(frozen=True)
class NewSource:
    """What a registration holds besides the key and kinds, for a source not registered yet."""

    name: str
    area: str


@dataclass(frozen=True)
class KeyChange:
    """A proposed new key and kinds of a source; in effect once co-signed. With ``new_source``
    the source is not registered yet (no previous key, no previous kinds): the co-signature
    registers it."""

    id: str
    source_id: str
    authority_id: str
    public_key: bytes
    kinds: frozenset[EvidenceKind]
    previous_key: bytes | None  # None: a new source
    previous_kinds: frozenset[EvidenceKind]
    proposed_by: str | None  # a staff id; None: the operator
    proposed_at: datetime
    expires_at: datetime
    status: Literal["pending", "cosigned", "withdrawn"]
    decided_by: str | None  # the co-signing supervisor, or who withdrew it (None: the operator)
    decided_at: datetime | None
    log_index: int
    decision_log_index: int | None
    new_source: NewSource | None = None

    def state(self, now: datetime) -> State:
        """A pending proposal not co-signed by its expiry is expired: no entry needs to say
        so, its proposal entry names the instant."""
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _kinds(kinds: Iterable[str]) -> list[str]:
    return sorted(str(kind) for kind in kinds)


def proposal_entry(change: KeyChange, *, index: int, proposer_secret: bytes | None) -> bytes:
    """``proposer_secret``: the proposing staff member's; None for the operator. A new
    source's proposal also names the source and its area, as its registration would (and a
    null previous key); a key change's entry is as it always was."""
    data: dict[str, object] = {
        "change": change.id,
        "source": change.source_id,
        "authority": change.authority_id,
        "public_key": b64(change.public_key),
        "kinds": _kinds(change.kinds),
        "previous_key": None if change.previous_key is None else b64(change.previous_key),
        "previous_kinds": _kinds(change.previous_kinds),
        "proposer": OPERATOR if proposer_secret is None else actor_tag(proposer_secret, index),
        "proposed_at": instant_text(change.proposed_at),
        "expires_at": instant_text(change.expires_at),
    }
    if change.new_source is not None:
        data |= {"name": change.new_source.name, "area": change.new_source.area}
    return encode_entry("source_key_proposal", data)


def cosign_entry(
    *, index: int, change_id: str, source_id: str, authority_id: str, supervisor_secret: bytes,
    at: datetime,
) -> bytes:  # fmt: skip
    """The co-signature that puts a change in effect, from ``at`` on."""
    return encode_entry(
        "source_key_cosign",
        {
            "change": change_id,
            "source": source_id,
            "authority": authority_id,
            "supervisor": actor_tag(supervisor_secret, index),
            "at": instant_text(at),
        },
    )


def withdrawal_entry(
    *, index: int, change_id: str, source_id: str, authority_id: str,
    withdrawn_by_secret: bytes | None, at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "source_key_withdrawal",
        {
            "change": change_id,
            "source": source_id,
            "authority": authority_id,
            "by": OPERATOR
            if withdrawn_by_secret is None
            else actor_tag(withdrawn_by_secret, index),
            "at": instant_text(at),
        },
    )
