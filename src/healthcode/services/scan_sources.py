"""The server-owned scan source of each authority: registered on first use, refused if revoked.

Scans are evidence of a server-owned source per authority (`scans.<authority>`, registered
like any source: its authority is the venue's, its area the smallest registered area
covering the authority's jurisdiction and venues, its only kind `venue_visit`). Its key is
derived (services/place_keys.py) and never signs an intake batch, so intake's rules cannot
reach its batches.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, select

from healthcode.credentials.passes import raw_public_key
from healthcode.domain import areas
from healthcode.domain.batches import SourceRegistration
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.log_entries import registry_entry
from healthcode.errors import InputRejected
from healthcode.services import transparency
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.trust_lists import b64url
from healthcode.store import registry as registry_repo
from healthcode.store import tables as t


def scan_source_id(authority_id: str) -> str:
    """The server-owned scan source of an authority (an id of at most 64 characters)."""
    candidate = f"scans.{authority_id}"
    if len(candidate) <= 64:
        return candidate
    return "scans." + hashlib.sha256(authority_id.encode()).hexdigest()[:32]


def scan_source(
    conn: Connection, keys: DerivedKeys, authority_id: str, now: datetime, active: bool | None
) -> str:
    """The authority's scan source, registered if it is not (``active``: its state, read
    in this transaction; None if not registered); refused if revoked."""
    source_id = scan_source_id(authority_id)
    if active is None:
        register_scan_source(conn, keys, authority_id, source_id, now)
    elif not active:
        # Revoked by a supervisor of its authority: no more scans at its venues (and the
        # revocation sets aside whatever was recorded since, like any source's evidence).
        raise InputRejected("source.inactive", f"the scan source {source_id} is revoked")
    return source_id


def register_scan_source(
    conn: Connection, keys: DerivedKeys, authority_id: str, source_id: str, now: datetime
) -> None:
    """Register the authority's scan source, logged like any source's registration."""
    jurisdiction = set(
        conn.scalars(
            select(t.authority_areas.c.area_code).where(
                t.authority_areas.c.authority_id == authority_id
            )
        )
    )
    venue_areas = set(
        conn.scalars(select(t.venues.c.area_code).where(t.venues.c.authority_id == authority_id))
    )
    area = covering_area(jurisdiction | venue_areas, registry_repo.area_codes(conn))
    if area is None:
        raise InputRejected(
            "registry.invalid",
            f"no registered area covers the venues and jurisdiction of {authority_id}",
        )
    public = raw_public_key(keys.scan_source(source_id).public_key())
    name = f"healthcode scans ({authority_id})"
    kinds = [EvidenceKind.VENUE_VISIT.value]
    record = {"id": source_id, "authority": authority_id, "name": name,
              "public_key": b64url(public), "kinds": kinds, "area": area}  # fmt: skip
    transparency.append_one(conn, "registry", registry_entry("source", record, now), now)
    registry_repo.save_source(
        conn,
        SourceRegistration(source_id, authority_id, public,
                           frozenset({EvidenceKind.VENUE_VISIT}), area),
        name,
        now,
    )  # fmt: skip


def covering_area(codes: set[str], known: set[str]) -> str | None:
    """The smallest registered area containing every code (district < city < province)."""
    if not codes:
        return None
    first = min(codes)
    candidate: str | None = first
    while candidate is not None:
        if candidate in known and all(areas.contains(candidate, code) for code in codes):
            return candidate
        candidate = areas.parent_of(candidate)
    return None
