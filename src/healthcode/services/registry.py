"""The operator's registry: areas, authorities, sources and venues, from a config file.

A deployment and the demo city are bootstrapped the same way, with ``healthcode admin load``.
Loading is idempotent: each entry is inserted or updated by its id. A registered source is
never given another key, more kinds, another authority or a wider area by a load (the whole
file is refused): a key or kinds change is proposed and co-signed (`services/source_keys.py`).
Once an authority has a supervisor, a new source of it or a wider jurisdiction for it is not
applied either but proposed, for that supervisor to co-sign (`services/registry_proposals.py`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from healthcode.domain import areas as area_codes
from healthcode.domain.areas import Area
from healthcode.domain.batches import SourceRegistration
from healthcode.domain.evidence import AREA_CODE_PATTERN, RECORD_ID_PATTERN, EvidenceKind
from healthcode.domain.jurisdiction_changes import JurisdictionChange, widened
from healthcode.domain.log_entries import registry_entry
from healthcode.domain.source_keys import KeyChange, check_reload, unusable_key
from healthcode.errors import InputRejected
from healthcode.services import transparency
from healthcode.services.registry_proposals import (
    needs_cosignature,
    propose_jurisdiction,
    propose_source,
)
from healthcode.store import registry as repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database

_Code = Annotated[str, Field(pattern=AREA_CODE_PATTERN)]
_Id = Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
_Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AreaIn(_Strict):
    code: _Code
    zh: _Name
    en: _Name


class AuthorityIn(_Strict):
    id: _Id
    zh: _Name
    en: _Name
    jurisdiction: Annotated[list[_Code], Field(min_length=1)]


class SourceIn(_Strict):
    id: _Id
    authority: _Id
    name: _Name
    public_key: str  # base64 of the raw 32-byte Ed25519 public key
    kinds: Annotated[list[EvidenceKind], Field(min_length=1)]
    area: _Code


class VenueIn(_Strict):
    id: _Id
    zh: _Name
    en: _Name
    area: _Code
    authority: _Id


class RegistryConfig(_Strict):
    areas: list[AreaIn] = Field(default_factory=list)
    authorities: list[AuthorityIn] = Field(default_factory=list)
    sources: list[SourceIn] = Field(default_factory=list)
    venues: list[VenueIn] = Field(default_factory=list)


def parse_config(data: object) -> RegistryConfig:
    try:
        return RegistryConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputRejected("registry.invalid", f"{where}: {first['msg']}") from None


def public_key_bytes(value: str, where: str, code: str = "registry.invalid") -> bytes:
    """The raw Ed25519 public key of its base64; refused with ``code`` otherwise."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputRejected(code, f"{where}: public_key is not base64") from None
    if len(raw) != 32:
        raise InputRejected(code, f"{where}: public_key is not 32 bytes")
    if unusable_key(raw):
        raise InputRejected(code, f"{where}: public_key is a point of small order")
    return raw


@dataclass(frozen=True)
class LoadResult:
    """How many of each the file listed (its sources less those proposed), and what it
    proposed instead of applying: a new source or a wider jurisdiction of an authority that
    has had a supervisor, each awaiting a supervisor's co-signature
    (`services/registry_proposals.py`)."""

    counts: dict[str, int]
    proposed: list[KeyChange | JurisdictionChange]


class Registry:
    def __init__(self, db: Database, proposal_lifetime: timedelta) -> None:
        self._db = db
        self._lifetime = proposal_lifetime

    def load(self, data: object, *, now: datetime) -> LoadResult:
        """Insert or update everything in the config, in one transaction; propose what needs
        a supervisor's co-signature."""
        with self._db.write() as conn:
            return self.load_in(conn, data, now=now)

    def load_in(self, conn: Connection, data: object, *, now: datetime) -> LoadResult:
        """`load` in the caller's transaction (``admin load`` registers the file's staff in
        the same one: a refused member leaves nothing of the file behind)."""
        config = parse_config(data)
        lifetime = self._lifetime
        # What is registered, as its entries say it (the jurisdiction kept, if a wider one
        # is proposed); every registration and proposal is logged in this transaction.
        logged: list[tuple[str, dict[str, Any]]] = []
        proposals: list[Callable[[], KeyChange | JurisdictionChange | None]] = []
        for area in config.areas:
            repo.save_area(conn, Area(area.code, area.zh, area.en))
            logged.append(("area", area.model_dump(mode="json")))
        known = repo.area_codes(conn)

        def require_area(code: str, where: str) -> None:
            if code not in known:
                raise InputRejected("registry.invalid", f"{where}: unknown area {code}")

        for authority in config.authorities:
            for code in authority.jurisdiction:
                require_area(code, f"authority {authority.id}")
            record = authority.model_dump(mode="json")
            current = staff_repo.jurisdiction(conn, authority.id)
            kept = authority.jurisdiction
            if widened(current, kept) and needs_cosignature(conn, authority.id):
                proposals.append(partial(
                    propose_jurisdiction, conn, authority.id, kept, current, now=now,
                    lifetime=lifetime,
                ))  # fmt: skip
                kept = sorted(current)
                record["jurisdiction"] = kept
            logged.append(("authority", record))
            repo.save_authority(conn, authority.id, authority.zh, authority.en, kept)
        authorities = set(repo.authority_names(conn))
        registered = repo.sources(conn)
        deferred = 0  # sources proposed, not registered
        for source in config.sources:
            where = f"source {source.id}"
            require_area(source.area, where)
            if source.authority not in authorities:
                raise InputRejected("registry.invalid", f"{where}: unknown authority")
            registration = SourceRegistration(
                id=source.id,
                authority_id=source.authority,
                public_key=public_key_bytes(source.public_key, where),
                kinds=frozenset(source.kinds),
                area=source.area,
            )
            if source.id in registered:  # an earlier entry of this file too
                check_reload(registered[source.id], registration)
            elif needs_cosignature(conn, source.authority):
                deferred += 1
                proposals.append(partial(
                    propose_source, conn, registration, source.name, now=now,
                    lifetime=lifetime,
                ))  # fmt: skip
                continue
            registered[source.id] = registration
            logged.append(("source", source.model_dump(mode="json")))
            repo.save_source(conn, registration, source.name, now)
        for venue in config.venues:
            where = f"venue {venue.id}"
            require_area(venue.area, where)
            if area_codes.level_of(venue.area) is not area_codes.AreaLevel.DISTRICT:
                raise InputRejected("registry.invalid", f"{where}: a venue lies in a district")
            if venue.authority not in authorities:
                raise InputRejected("registry.invalid", f"{where}: unknown authority")
            logged.append(("venue", venue.model_dump(mode="json")))
            repo.save_venue(conn, venue.id, venue.zh, venue.en, venue.area, venue.authority)
        transparency.append(
            conn,
            [("registry", registry_entry(what, record, now)) for what, record in logged],
            now,
        )
        # After the registrations, so a proposal's entry follows those of the areas and
        # authorities it names; a conflicting pending proposal refuses the whole file.
        proposed = [change for change in (propose() for propose in proposals) if change]
        counts = {
            "areas": len(config.areas),
            "authorities": len(config.authorities),
            # A proposed source is not registered until co-signed: not counted (a new proposal
            # is listed apart; one pending already, loaded again, is neither).
            "sources": len(config.sources) - deferred,
            "venues": len(config.venues),
        }
        return LoadResult(counts, proposed)
