"""Rows of the registry: areas, authorities and their jurisdictions, sources, venues, persons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from healthcode.domain.areas import Area
from healthcode.domain.batches import SourceRegistration
from healthcode.domain.evidence import EvidenceKind
from healthcode.store import tables as t
from healthcode.store.keysets import one_of
from healthcode.store.upsert import upsert


def save_area(conn: Connection, area: Area) -> None:
    upsert(conn, t.areas, {"code": area.code, "name_zh": area.name_zh, "name_en": area.name_en})


_AREA_CODES = select(t.areas.c.code)


def area_codes(conn: Connection) -> set[str]:
    return set(conn.scalars(_AREA_CODES))


def all_areas(conn: Connection) -> dict[str, Area]:
    rows = conn.execute(select(t.areas)).all()
    return {row.code: Area(row.code, row.name_zh, row.name_en) for row in rows}


def area_names(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(zh, en) names of these areas, those registered."""
    found: dict[str, tuple[str, str]] = {}
    for condition in one_of(conn, t.areas.c.code, sorted(set(codes))):
        query = select(t.areas.c.code, t.areas.c.name_zh, t.areas.c.name_en).where(condition)
        found.update({row.code: (row.name_zh, row.name_en) for row in conn.execute(query)})
    return found


def save_authority(
    conn: Connection, authority_id: str, name_zh: str, name_en: str, jurisdiction: Iterable[str]
) -> None:
    upsert(conn, t.authorities, {"id": authority_id, "name_zh": name_zh, "name_en": name_en})
    set_jurisdiction(conn, authority_id, jurisdiction)


def set_jurisdiction(conn: Connection, authority_id: str, jurisdiction: Iterable[str]) -> None:
    """Replace the authority's jurisdiction (a load, or a co-signed widening,
    `services/jurisdiction_changes.py`)."""
    conn.execute(t.authority_areas.delete().where(t.authority_areas.c.authority_id == authority_id))
    conn.execute(
        t.authority_areas.insert(),
        [{"authority_id": authority_id, "area_code": code} for code in sorted(set(jurisdiction))],
    )


def jurisdictions(conn: Connection) -> dict[str, frozenset[str]]:
    """Every authority's jurisdiction, by id (the self-check's)."""
    found: dict[str, set[str]] = {}
    for row in conn.execute(select(t.authority_areas)):
        found.setdefault(row.authority_id, set()).add(row.area_code)
    return {authority: frozenset(codes) for authority, codes in found.items()}


def authority_names(
    conn: Connection, ids: Iterable[str] | None = None
) -> dict[str, tuple[str, str]]:
    """(zh, en) names of every authority, or of these ones (those registered)."""
    if ids is None:
        rows = conn.execute(select(t.authorities)).all()
        return {row.id: (row.name_zh, row.name_en) for row in rows}
    found: dict[str, tuple[str, str]] = {}
    for condition in one_of(conn, t.authorities.c.id, sorted(set(ids))):
        query = select(t.authorities.c.id, t.authorities.c.name_zh, t.authorities.c.name_en)
        found.update(
            {row.id: (row.name_zh, row.name_en) for row in conn.execute(query.where(condition))}
        )
    return found


def source_authorities(
    conn: Connection, source_ids: Iterable[str]
) -> dict[str, tuple[str, tuple[str, str] | None]]:
    """The authority of each of these sources (those registered), with its (zh, en) names
    (None for an authority not registered), in one statement."""
    found: dict[str, tuple[str, tuple[str, str] | None]] = {}
    s, a = t.sources, t.authorities
    joined = s.outerjoin(a, a.c.id == s.c.authority_id)
    for condition in one_of(conn, s.c.id, sorted(set(source_ids))):
        query = select(s.c.id, s.c.authority_id, a.c.id.label("known"), a.c.name_zh, a.c.name_en)
        for row in conn.execute(query.select_from(joined).where(condition)):
            names = (row.name_zh, row.name_en) if row.known is not None else None
            found[row.id] = (row.authority_id, names)
    return found


def save_source(conn: Connection, source: SourceRegistration, name: str, at: datetime) -> None:
    """Register a source, or rename or narrow a registered one: a revoked source stays revoked
    (`services/registry.py` refuses a new key, kinds, authority or a wider area first)."""
    upsert(
        conn,
        t.sources,
        {
            "id": source.id,
            "authority_id": source.authority_id,
            "name": name,
            "public_key": source.public_key,
            "kinds": " ".join(sorted(source.kinds)),
            "area_code": source.area,
            "active": source.active,
            "registered_at": at,
        },
        keep=("registered_at", "active"),
    )


def set_source_key(
    conn: Connection, source_id: str, public_key: bytes, kinds: frozenset[EvidenceKind]
) -> None:
    """A co-signed key change (`services/source_keys.py`): from this transaction on, batches
    verify with this key alone."""
    conn.execute(
        t.sources.update()
        .where(t.sources.c.id == source_id)
        .values(public_key=public_key, kinds=" ".join(sorted(kinds)))
    )


_SOURCE = select(t.sources).where(t.sources.c.id == bindparam("id"))


def source(conn: Connection, source_id: str) -> SourceRegistration | None:
    row = conn.execute(_SOURCE, {"id": source_id}).first()
    return None if row is None else _registration(row)


def sources(conn: Connection) -> dict[str, SourceRegistration]:
    """Every registered source, by id."""
    return {row.id: _registration(row) for row in conn.execute(select(t.sources))}


def sources_of_authority(conn: Connection, authority_id: str) -> list[SourceRegistration]:
    """The authority's sources, by id."""
    query = (
        select(t.sources).where(t.sources.c.authority_id == authority_id).order_by(t.sources.c.id)
    )
    return [_registration(row) for row in conn.execute(query)]


def _registration(row: Row[Any]) -> SourceRegistration:
    return SourceRegistration(
        id=row.id,
        authority_id=row.authority_id,
        public_key=bytes(row.public_key),
        kinds=frozenset(EvidenceKind(kind) for kind in row.kinds.split()),
        area=row.area_code,
        active=row.active,
    )


_SOURCE_ACTIVE = select(t.sources.c.active).where(t.sources.c.id == bindparam("id"))


def source_active(conn: Connection, source_id: str) -> bool | None:
    """Whether the source is active; None if it is not registered (a scan asks, every time)."""
    row = conn.execute(_SOURCE_ACTIVE, {"id": source_id}).first()
    return None if row is None else bool(row.active)


def sources_active(conn: Connection, source_ids: Iterable[str]) -> dict[str, bool]:
    """`source_active` of several sources, those registered, in one statement."""
    ids = sorted(set(source_ids))
    if len(ids) == 1:
        active = source_active(conn, ids[0])
        return {} if active is None else {ids[0]: active}
    found: dict[str, bool] = {}
    for condition in one_of(conn, t.sources.c.id, ids):
        query = select(t.sources.c.id, t.sources.c.active).where(condition)
        found.update({row.id: bool(row.active) for row in conn.execute(query)})
    return found


def save_venue(
    conn: Connection, venue_id: str, name_zh: str, name_en: str, area: str, authority_id: str
) -> None:
    upsert(
        conn,
        t.venues,
        {
            "id": venue_id,
            "name_zh": name_zh,
            "name_en": name_en,
            "area_code": area,
            "authority_id": authority_id,
        },
    )


def venue_areas(conn: Connection, venue_ids: Iterable[str] | None = None) -> dict[str, str]:
    query = select(t.venues.c.id, t.venues.c.area_code)
    if venue_ids is not None:
        query = query.where(t.venues.c.id.in_(sorted(set(venue_ids))))
    return {row.id: row.area_code for row in conn.execute(query)}


def venue_names(
    conn: Connection, venue_ids: Iterable[str] | None = None
) -> dict[str, tuple[str, str]]:
    """(zh, en) names of every venue, or of these ones (those registered)."""
    query = select(t.venues.c.id, t.venues.c.name_zh, t.venues.c.name_en)
    if venue_ids is None:
        return {row.id: (row.name_zh, row.name_en) for row in conn.execute(query)}
    found: dict[str, tuple[str, str]] = {}
    for condition in one_of(conn, t.venues.c.id, sorted(set(venue_ids))):
        found.update(
            {row.id: (row.name_zh, row.name_en) for row in conn.execute(query.where(condition))}
        )
    return found


def save_person(
    conn: Connection, person_key: str, display_name: str, home_area: str, at: datetime
) -> None:
    upsert(
        conn,
        t.persons,
        {
            "person_key": person_key,
            "display_name": display_name,
            "home_area": home_area,
            "registered_at": at,
        },
        keep=("registered_at",),
    )


def save_people(conn: Connection, people: list[tuple[str, str, str]], at: datetime) -> None:
    """Register many people at once (key, display name, home area); known keys are skipped."""
    known = (
        set(
            conn.scalars(
                select(t.persons.c.person_key).where(
                    t.persons.c.person_key.in_([p[0] for p in people])
                )
            )
        )
        if len(people) <= 500
        else set(conn.scalars(select(t.persons.c.person_key)))
    )
    rows = [
        {"person_key": key, "display_name": name, "home_area": home, "registered_at": at}
        for key, name, home in people
        if key not in known
    ]
    if rows:
        conn.execute(t.persons.insert(), rows)


def person(conn: Connection, person_key: str) -> tuple[str, str] | None:
    row = conn.execute(select(t.persons).where(t.persons.c.person_key == person_key)).first()
    return None if row is None else (row.display_name, row.home_area)


def save_households(conn: Connection, members: list[tuple[str, str]]) -> None:
    """Each person's household (person key, household id); a person's later entry replaces it."""
    if not members:
        return
    keys = [key for key, _ in members]
    for start in range(0, len(keys), 500):
        conn.execute(
            t.households.delete().where(t.households.c.person_key.in_(keys[start : start + 500]))
        )
    conn.execute(
        t.households.insert(),
        [{"person_key": key, "household_id": household} for key, household in members],
    )
