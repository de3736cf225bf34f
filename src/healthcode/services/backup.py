"""Backing up the store while the server runs, and restoring a backup into a new store
(``docs/operations.md``, "Backup and restore").

SQLite: the sqlite3 online backup API copies every page in one step under a read
transaction, so the copy is one consistent state even while the server writes (WAL readers
never block writers); the copy is then checked with ``PRAGMA integrity_check``. PostgreSQL:
``pg_dump`` (custom format) dumps the store's schema from one snapshot; ``pg_restore``
restores it in a single transaction into an empty database. A restore never overwrites: the
target file must not exist, the target database must hold no healthcode tables.

The key files (``$HEALTHCODE_DATA_DIR/keys``) are not in the store and not in a backup; they are
secrets and are kept in the deployment's secret store. The log's signatures verify with the
public key alone, and the restored copy's self-check needs the same keys as the original.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError

from healthcode.errors import Detail
from healthcode.store.database import Database

_TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ (?:SCHEMA - |COMMENT - SCHEMA )(?P<schema>\S+) ")


class BackupError(Exception):
    """A backup or restore that could not be made; nothing was left at the target. Its
    ``detail`` is a `Detail`, so the command line says it in the operator's language; what a
    tool or the driver said is one of its parameters, quoted as it was said."""

    def __init__(self, detail: Detail) -> None:
        super().__init__(str(detail))
        self.detail = detail


@dataclass(frozen=True)
class BackupResult:
    path: Path
    backend: str  # sqlite | postgresql
    size: int  # bytes
    schema: str | None = None  # PostgreSQL: the schema dumped


def sqlite_path(url: str) -> Path:
    try:
        database = make_url(url).database
    except ArgumentError:
        raise BackupError(
            Detail("not a database URL: %(scheme)s:...", scheme=url.split(":", 1)[0])
        ) from None
    if not database or database == ":memory:":
        raise BackupError(Detail("not an SQLite file: %(url)s", url=url))
    return Path(database)


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as a libpq connection URI for pg_dump and pg_restore, and the
    environment to run them in. The password goes in ``PGPASSWORD``, not in the URI: a
    command's arguments can be read by every user of the machine (``ps``, /proc)."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    # `URL.set(password=None)` would keep the password: None there means "unchanged".
    bare = URL.create(
        parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database,
        parsed.query,
    )  # fmt: skip
    return bare.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            Detail(
                "%(tool)s is not installed (Debian: apt-get install postgresql-client; "
                "`make pgclient`)",
                tool=name,
            )
        )
    return found


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise BackupError(
            Detail(
                "%(tool)s failed: %(said)s", tool=Path(command[0]).name, said=done.stderr.strip()
            )
        )
    return done.stdout


def backup(db: Database, path: Path) -> BackupResult:
    """Write a consistent copy of the store to ``path`` (which must not exist)."""
    if path.exists():
        raise BackupError(Detail("%(path)s exists; a backup never overwrites", path=str(path)))
    _folder_exists(path)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if db.is_sqlite:
            _sqlite_copy(sqlite_path(db.url), partial)
            schema = None
        else:
            schema = _pg_dump(db, partial)
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(
        path, "sqlite" if db.is_sqlite else "postgresql", path.stat().st_size, schema
    )


def _folder_exists(path: Path) -> None:
    # Checked first: sqlite3 says only "unable to open database file", pg_dump no better.
    if not path.parent.is_dir():
        raise BackupError(
            Detail("the folder %(folder)s does not exist; create it first", folder=str(path.parent))
        )


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to a new single-file database ``target`` by the online backup API."""
    if not source.exists():
        raise BackupError(Detail("%(path)s does not exist", path=str(source)))
    try:
        src, dest = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dest)  # every page in one step: one consistent snapshot
            dest.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            (verdict,) = dest.execute("PRAGMA integrity_check").fetchone()
        finally:
            dest.close()
            src.close()
    except sqlite3.Error as error:  # not a database, a folder not writable, a full disk
        target.unlink(missing_ok=True)
        raise BackupError(Detail("the copy could not be made: %(said)s", said=str(error))) from None
    if verdict != "ok":
        target.unlink(missing_ok=True)
        raise BackupError(
            Detail("the copy failed SQLite's integrity check: %(said)s", said=str(verdict))
        )


def _pg_dump(db: Database, target: Path) -> str:
    with db.read() as conn:
        schema = str(conn.scalar(text("SELECT current_schema()")))
    dbname, env = libpq_target(db.url)
    _run([
        _tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
        f"--schema={schema}", f"--file={target}", f"--dbname={dbname}",
    ], env)  # fmt: skip
    return schema


def restore(path: Path, target_url: str) -> None:
    """Restore the backup at ``path`` into the new store ``target_url``: a file that must not
    exist (SQLite), or an existing database without healthcode tables (PostgreSQL)."""
    if not path.is_file():
        raise BackupError(Detail("no backup at %(path)s", path=str(path)))
    if target_url.startswith("sqlite"):
        target = sqlite_path(target_url)
        if target.exists():
            raise BackupError(
                Detail("%(path)s exists; a restore goes to a new file", path=str(target))
            )
        _folder_exists(target)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            _sqlite_copy(path, partial)
            partial.rename(target)
        finally:
            partial.unlink(missing_ok=True)
        return
    if not target_url.startswith("postgresql"):
        raise BackupError(
            Detail("restore to sqlite:///NEW-FILE or postgresql+psycopg://.../EMPTY-DATABASE")
        )
    _pg_restore(path, target_url)


def _pg_restore(path: Path, target_url: str) -> None:
    pg_restore = _tool("pg_restore")
    try:
        engine = create_engine(target_url)
    except ArgumentError:
        raise BackupError(Detail("not a database URL: postgresql+psycopg://...")) from None
    try:
        with engine.connect() as conn:
            taken = conn.scalar(
                text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'log_checkpoints'"
                )
            )
            existing = set(conn.scalars(text("SELECT nspname FROM pg_namespace")))
    except OperationalError as error:
        # Most often the database was not created first (createdb); the driver says which.
        raise BackupError(
            Detail("cannot connect to the target database: %(said)s", said=str(error.orig))
        ) from None
    finally:
        engine.dispose()
    if taken:
        raise BackupError(Detail("the target database already holds a healthcode store"))
    # A schema the target already has (`public` in a new database) is not created again.
    listing = [
        line
        for line in _run([pg_restore, "--list", str(path)]).splitlines()
        if not ((found := _TOC_SCHEMA.match(line)) and found["schema"] in existing)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".toc", delete=False) as file:
        file.write("\n".join(listing) + "\n")
        toc = Path(file.name)
    dbname, env = libpq_target(target_url)
    try:
        _run([
            pg_restore, "--exit-on-error", "--single-transaction", "--no-owner",
            "--no-privileges", f"--use-list={toc}", f"--dbname={dbname}", str(path),
        ], env)  # fmt: skip
    finally:
        toc.unlink(missing_ok=True)
