"""Evidence read straight into columns for the bulk recompute (``domain.bulk``).

One SQL statement over ``evidence``, read in chunks through the driver's own cursor (a
server-side cursor on PostgreSQL) so that no per-row objects are built beyond the driver's
tuples. The database does the coding: a row comes back as the person key, the two instants
(integer microseconds, as stored), and one integer packing the kind, the matchable attributes,
the area code and the codes of the few strings a rule compares; the reference
``source/record`` comes back only for the records set-asides name.

With a ``LoadPlan`` (``domain.bulk_plan.plan_load``) only the rows some rule can read are
selected, in one statement of two parts: the kinds rules read anywhere (a scan: they are a
large share of the table), and the visits inside a designation's area, venue and period (each
a range of the ``(kind, area_code, occurred_at)`` index). Without a plan every row is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)

from healthcode.domain.bulk_columns import (
    ATTRIBUTES,
    KIND_CODE,
    NO_END,
    EvidenceColumns,
)
from healthcode.domain.bulk_plan import KindNeed, LoadPlan, Term
from healthcode.domain.status import SetAside
from healthcode.store import tables as t
from healthcode.store.column_reader import (
    AREA,
    KIND,
    SHIFTS,
    SOURCE,
    UNKNOWN_KIND,
    VENUE,
    ColumnReader,
)
from healthcode.store.cycles import collection_paused

CHUNK = 50_000
_REFS_PER_QUERY = 500
BY_NAME_LIMIT = 5_000  # up to this many people are selected by key; more are filtered after
_E = t.evidence.c
_OCCURRED = type_coerce(_E.occurred_at, BigInteger)  # compare as stored: integer microseconds


def _equals(name: str, value: object) -> ColumnElement[bool]:
    column = _E[name]
    if isinstance(value, bool):
        return column.is_(true() if value else false())
    return column == str(value)


def _code(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[Any]:
    """1 + the position of the column's value among ``values``; 0 for any other value."""
    if not values:
        return literal(0)
    return case({value: n + 1 for n, value in enumerate(values)}, value=column, else_=0)


def _packed(venues: Sequence[str], sources: Sequence[str]) -> ColumnElement[Any]:
    total: ColumnElement[Any] = cast(_E.area_code, BigInteger) * (1 << AREA)
    kinds = {str(kind): code << KIND for kind, code in KIND_CODE.items()}
    total = total + case(kinds, value=_E.kind, else_=UNKNOWN_KIND << KIND)
    for name, shift in SHIFTS.items():
        values = {
            value if isinstance(value, bool) else str(value): (n + 1) << shift
            for n, value in enumerate(ATTRIBUTES[name])
        }
        total = total + case(values, value=_E[name], else_=0)
    if venues:
        total = total + cast(_code(_E.venue_id, venues), BigInteger) * (1 << VENUE)
    if sources:
        total = total + cast(_code(_E.source_id, sources), BigInteger) * (1 << SOURCE)
    return type_coerce(total, BigInteger)


def _term(term: Term) -> list[ColumnElement[bool]]:
    where = [_equals(name, value) for name, value in term.match]
    if term.after is not None:
        where.append(term.after < _OCCURRED)
    return where


def _anywhere(need: KindNeed, kind: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """Terms for a kind rules read anywhere."""
    return [and_(kind == str(need.kind), *_term(term)) for term in need.terms]


def _scanned_kind(dialect: str) -> ColumnElement[Any]:
    """The kind column, for the part of the statement that reads a large share of the table:
    on SQLite as ``+kind``, which keeps the planner from reaching each of these many rows
    through the kind index (a scan of the table is much faster); PostgreSQL plans by cost."""
    if dialect == "sqlite":
        return type_coerce(literal_column("+evidence.kind"), String)
    return _E.kind


def _windows(need: KindNeed) -> list[ColumnElement[bool]]:
    """Terms for a kind read only inside designations, each a range of the visits index."""
    terms = []
    for window in need.windows or ():
        if window.high - window.low == 1:  # one district: the period is a range of the index
            where = [_E.area_code == window.prefix]
        else:  # codes starting with the prefix: from it up to (excluding) its successor
            following = window.prefix[:-1] + chr(ord(window.prefix[-1]) + 1)
            where = [_E.area_code >= window.prefix, _E.area_code < following]
        where.append(window.start <= _OCCURRED)
        if window.end != NO_END:
            where.append(window.end > _OCCURRED)
        if window.venue_id is not None:
            where.append(_E.venue_id == window.venue_id)
        terms += [and_(_E.kind == str(need.kind), *where, *_term(term)) for term in need.terms]
    return terms


def _select(
    plan: LoadPlan | None, persons: Sequence[str] | None, sources: Sequence[str]
) -> Select[Any]:
    """Rows of (person key, occurred, received, packed code[, venue, source]): venue and
    source strings without a plan (with one, their codes are in the packed code)."""
    if plan is None:
        columns: list[Any] = [_packed((), ()), _E.venue_id, _E.source_id]
    else:
        columns = [_packed(plan.venues, sources)]
    query = select(_E.person_key, _OCCURRED, type_coerce(_E.received_at, BigInteger), *columns)
    if persons is not None:
        query = query.where(_E.person_key.in_(list(persons)))
    return query


def _refs_query(
    plan: LoadPlan | None,
    persons: Sequence[str] | None,
    refs: Sequence[tuple[str, str]],
    sources: Sequence[str],
) -> Select[Any]:
    """The records set-asides name, by primary key, with their reference last."""
    by_source: dict[str, list[str]] = {}
    for source, record in refs:
        by_source.setdefault(source, []).append(record)
    named = [  # per source, so that each is a lookup of the primary key
        and_(_E.source_id == source, _E.record_id.in_(records))
        for source, records in by_source.items()
    ]
    query = _select(plan, persons, sources).where(or_(false(), *named))
    return query.add_columns(_E.source_id + "/" + _E.record_id)


def _query(
    dialect: str,
    plan: LoadPlan | None,
    persons: Sequence[str] | None,
    sources: Sequence[str],
) -> Any:
    """The rows to load, as ``_select`` shapes them."""

    def part(*where: ColumnElement[bool]) -> Select[Any]:
        return _select(plan, persons, sources).where(*where)

    if plan is None:
        return part()
    parts = []
    anywhere = [need for need in plan.needs if need.windows is None]
    if anywhere:
        kind = _scanned_kind(dialect)
        # The kinds first: the many rows of other kinds fail one test.
        parts.append(part(
            kind.in_([str(need.kind) for need in anywhere]),
            or_(false(), *(term for need in anywhere for term in _anywhere(need, kind))),
        ))  # fmt: skip
    inside = [term for need in plan.needs for term in _windows(need)]
    if inside:
        parts.append(part(or_(false(), *inside)))
    if not parts:
        return part(false())
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _fetch(conn: Connection, query: Any, chunk: int) -> Iterator[list[tuple[Any, ...]]]:
    """Rows as the driver gives them (plain tuples), ``chunk`` at a time. One statement: one
    snapshot of the table, whether or not the caller's connection is in a transaction."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        params: Any = tuple(compiled.params[name] for name in compiled.positiontup or ())
        cursor = raw.cursor()
    else:  # psycopg: a server-side cursor streams the rows
        params = compiled.params
        cursor = raw.cursor(name="healthcode_columns")
        cursor.itersize = chunk
    try:
        cursor.execute(compiled.string, params)
        while rows := cursor.fetchmany(chunk):
            yield rows
    finally:
        cursor.close()


def load_columns(
    conn: Connection,
    *,
    plan: LoadPlan | None = None,
    persons: Sequence[str] | None = None,
    set_asides: Iterable[SetAside] = (),
    chunk: int = CHUNK,
) -> EvidenceColumns:
    """The evidence of ``persons`` (everyone by default) as columns.

    With ``plan``, only the rows it needs; the columns carry the plan (the bulk evaluation
    then refuses another rulebook or designations outside it) and venues are coded only where
    the plan's designations need them. Without a plan every row is read and every venue and
    source coded. Either way the records and sources ``set_asides`` name are resolved.

    ``persons`` fixes the people of the result and their order (people without evidence
    included); by default they are everyone with a row read, in key order.
    """
    asides = list(set_asides)
    ref_names = sorted({a.evidence_ref for a in asides if a.evidence_ref is not None})
    refs = [(s, r) for s, _, r in (ref.partition("/") for ref in ref_names)]
    sources = sorted(
        {a.source_id for a in asides if a.evidence_ref is None and a.source_id is not None}
    )
    if plan is not None and (len(plan.venues) >= 1 << 20 or len(sources) >= 1 << 10):
        raise ValueError("too many designated venues or set-aside sources to code")
    reader = ColumnReader(persons, plan, sources)
    people = None if persons is None else list(reader.person_index)  # without repeats
    by_name = people if people is not None and len(people) <= BY_NAME_LIMIT else None
    with collection_paused():
        for rows in _fetch(conn, _query(conn.dialect.name, plan, by_name, sources), chunk):
            reader.add(rows)
        named: list[tuple[Any, ...]] = []
        for start in range(0, len(refs), _REFS_PER_QUERY):
            asked = refs[start : start + _REFS_PER_QUERY]
            for rows in _fetch(conn, _refs_query(plan, by_name, asked, sources), chunk):
                named += rows
    return reader.columns(ref_names, named)


def registered_persons(conn: Connection) -> list[str]:
    """Every registered person's key, in key order (read through the driver: a million keys
    in well under a second)."""
    query = select(t.persons.c.person_key).order_by(t.persons.c.person_key)
    keys: list[str] = []
    with collection_paused():
        for rows in _fetch(conn, query, CHUNK):
            keys += [row[0] for row in rows]
    return keys
