"""Connections to the store: one writer at a time, readers alongside.

SQLite writes begin with ``BEGIN IMMEDIATE`` (the database's own write lock, taken up front
so a transaction never fails half-way on a lock upgrade); PostgreSQL writes take a
transaction-scoped advisory lock. Either way one write transaction runs at a time, which is
what gives the transparency log its single, gap-free sequence.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from healthcode.store import partitions, reference_stamp
from healthcode.store.tables import metadata

_WRITE_LOCK_KEY = 0x6863_6F64  # "hcod": the advisory lock every writer takes on PostgreSQL
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
# Every engine hides statements' parameters from its errors' text, which logs may show: they
# hold person keys. (PostgreSQL's own DETAIL line, which may quote a key, stays.)
# Connections kept open for reuse. The server answers a request's blocking work on AnyIO's
# thread pool (40 threads), and each thread may hold a connection at once: a connection beyond
# the pool is opened for one use and closed after it, which costs more than most reads (on
# SQLite: the file, the PRAGMAs below, the mapping; on PostgreSQL: a new backend).
_SQLITE_READERS = 40
_POSTGRES_POOL = 20  # and as many again at a peak (PostgreSQL's max_connections: 100)


class Database:
    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        args = dict(connect_args or {})
        if self.is_sqlite:
            args.setdefault("timeout", 30)
            args.setdefault("check_same_thread", False)
            # Pooled connections: opening one per transaction would also checkpoint the WAL
            # each time the last one closes.
            self.engine = create_engine(
                url, connect_args=args, pool_size=1, max_overflow=4, hide_parameters=True
            )
            self._reader = create_engine(
                url,
                connect_args=args,
                pool_size=_SQLITE_READERS,
                max_overflow=8,
                hide_parameters=True,
            )
            _sqlite_setup(self.engine, immediate=True)
            _sqlite_setup(self._reader, immediate=False)
        else:
            self.engine = create_engine(
                url,
                connect_args=args,
                pool_pre_ping=True,
                pool_size=_POSTGRES_POOL,
                max_overflow=_POSTGRES_POOL,
                hide_parameters=True,
            )
            self._reader = self.engine
            # Reads beside a write transaction (`side_read`) have a pool of their own: one
            # from the writers' pool could wait behind writers that hold theirs while they
            # wait for the write lock this one's writer holds.
            self._side = create_engine(
                url,
                connect_args=args,
                pool_pre_ping=True,
                pool_size=2,
                max_overflow=2,
                hide_parameters=True,
            )
            _side_setup(self._side)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: all of it commits, or none of it."""
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                # The driver's BEGIN and the lock in one round trip, not two (psycopg begins a
                # transaction by a statement of its own; in pipeline mode it is sent along).
                driver: Any = conn.connection.driver_connection
                with driver.pipeline():
                    driver.execute(_LOCK, (_WRITE_LOCK_KEY,))
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn:
            yield conn

    @contextmanager
    def read_statements(self) -> Iterator[Connection]:
        """A read of plain statements (no server-side cursor, nothing else that needs a
        transaction), as consistent as `read`, with two round trips fewer on PostgreSQL: there
        each statement runs in autocommit when the server's default isolation is READ
        COMMITTED (its own default), which sees each statement's own instant inside a
        transaction as well, so the BEGIN and ROLLBACK of `read` change nothing the reads
        see. On SQLite it is `read` (a read transaction sees one instant throughout). For the
        reads every request makes: a person's status, token revocations."""
        with self._reader.connect() as conn:
            if not self.is_sqlite and conn.dialect.default_isolation_level == "READ COMMITTED":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @contextmanager
    def side_read(self) -> Iterator[Connection]:
        """A read beside the write transaction of the thread that holds the write lock, which
        sees the store as that transaction began, without what it has written: nothing else
        is written while the lock is held. For reads of what that transaction does not
        change, made while it writes something else (`services.intake`). SQLite's readers
        never wait for the writer; on PostgreSQL each statement runs in autocommit (its own
        instant, which under the lock is the writer's), from a pool of its own."""
        if self.is_sqlite:
            with self._reader.connect() as conn:
                yield conn
            return
        with self._side.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read that sees one instant of the store throughout, while writers go on (the
        self-check, a sequencer run's reading). SQLite's read transaction already does;
        PostgreSQL's default, READ COMMITTED, sees each statement's own instant, so it reads in
        REPEATABLE READ (a read only transaction there never fails to serialize)."""
        with self._reader.connect() as conn:
            if not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    def create_all(self) -> None:
        """Create the schema directly (tests); deployments run the Alembic migrations. The
        reference stamp's triggers are made as migration 0015 makes them, and on PostgreSQL
        the evidence table is then partitioned as migration 0012 does."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            reference_stamp.install(conn)
            if not self.is_sqlite:
                partitions.partition_evidence(conn)

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()
        if not self.is_sqlite:
            self._side.dispose()


def _side_setup(engine: Engine) -> None:
    """A lock wait in a read beside a write is a bug (nothing it reads is locked against
    reads but by DDL, which its writer avoids first): it fails after 5 s rather than wait for
    ever. Set once a connection (not by the URL's ``options``, which ``connect_args`` would
    replace, and with them a ``search_path`` given there)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("SET lock_timeout = 5000")
        dbapi_connection.commit()


def _sqlite_setup(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed write survives power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # The default page cache is 2 MiB; a city's evidence indexes are hundreds of MiB, and
        # intake looks people up all over them. 128 MiB per connection, and reads by mmap.
        cursor.execute("PRAGMA cache_size=-131072")
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
