"""Backup and restore (docs/operations.md, "Backup and restore"): a backup taken while the
store is in use, restored into a new store, serves a log that `healthcode log verify`'s monitor
accepts as consistent with what it verified on the original, and passes the self-check. On
SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from typer.testing import CliRunner

from healthcode.cli import app as cli_app
from healthcode.services.backup import BackupError, backup, libpq_target, restore
from healthcode.services.monitor import verify_log
from healthcode.store.database import Database
from healthcode.web.app import create_app
from tests.conftest import POSTGRES_URL, make_services
from tests.counting import counts
from tests.town import Town

LOG = "http://testserver/log/"


def _schema(db: Database) -> str:
    with db.read() as conn:
        return str(conn.scalar(text("SELECT current_schema()")))


@contextmanager
def new_store(db: Database, tmp_path: Path) -> Iterator[tuple[str, dict[str, str] | None]]:
    """A place for a restore: a new SQLite file, or a new PostgreSQL database (dropped after).
    Yields the target URL and the connect arguments that select the restored schema."""
    if db.is_sqlite:
        yield f"sqlite:///{tmp_path / 'restored.db'}", None
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pg_dump and pg_restore are required when CI=true (make pgclient)")
        pytest.skip("pg_dump / pg_restore are not installed (make pgclient)")
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        yield url, {"options": f"-csearch_path={_schema(db)}"}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def history(town: Town) -> None:
    """Evidence, status changes, a purge past the retention period, a signed checkpoint."""
    alice, bob = town.person("alice"), town.person("bob")
    town.test(alice, town.clock.now() - timedelta(hours=1), "positive")
    town.test(bob, town.clock.now(), "negative")
    town.clock.advance(days=61)
    town.visit(bob, town.clock.now())
    town.services.ticker.tick(now=town.clock.now())
    assert town.services.ticker.last_purge is not None
    assert town.services.ticker.last_purge.evidence == 1
    assert town.services.sequencer.integrate(now=town.clock.now()) is not None


def test_a_restored_backup_passes_log_verification(town: Town, tmp_path: Path) -> None:
    services = town.services
    history(town)
    client = TestClient(create_app(services, run_scheduler=False))
    vkey = client.get("/log/key").text.strip()
    state = tmp_path / "monitor.json"
    seen = verify_log(LOG, state, client=client, verifier_key=vkey, full=True)
    with new_store(services.db, tmp_path) as (url, connect_args):
        made = backup(services.db, tmp_path / "healthcode.backup")
        at_backup = counts(services.db)
        with pytest.raises(BackupError, match="never overwrites"):
            backup(services.db, made.path)
        # The store moves on after the backup; the copy holds the state it had then.
        town.test(town.person("carol"), town.clock.now(), "negative")
        services.sequencer.integrate(now=town.clock.now())
        restore(made.path, url)
        restored_db = Database(url, connect_args=connect_args)
        try:
            restored = make_services(restored_db, town.clock, services.settings.data_dir)
            assert counts(restored_db) == at_backup
            report = restored.self_check.run(now=town.clock.now(), halt=False)
            assert report.ok, report.problems
            assert report.checkpoint_size == seen.size
            # The monitor that verified the original accepts the copy: same key, same tree.
            copy = TestClient(create_app(restored, run_scheduler=False))
            again = verify_log(LOG, state, client=copy, verifier_key=vkey, full=True)
            assert (again.previous_size, again.size, again.root_hash) == (
                seen.size,
                seen.size,
                seen.root_hash,
            )
            # The copy is a working store: it takes writes and signs on.
            restored.intake.submit(
                town.batch("lab-1", [town.record("recovery", "0" * 32, town.clock.now())]),
                now=town.clock.now(),
            )
            assert restored.sequencer.integrate(now=town.clock.now()) is not None
            later = verify_log(LOG, state, client=copy, verifier_key=vkey)
            assert later.previous_size == seen.size and later.size > seen.size
        finally:
            restored_db.dispose()
        with pytest.raises(BackupError):
            restore(made.path, url)  # a restore never overwrites a store


def test_the_admin_commands_back_up_and_restore(
    town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = town.services
    history(town)
    db = services.db
    source = db.url
    if not db.is_sqlite:
        source += f"?options=-csearch_path%3D{_schema(db)}"
    monkeypatch.setenv("DATABASE_URL", source)
    monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(services.settings.data_dir))
    path = tmp_path / "cli.backup"
    with new_store(db, tmp_path) as (url, connect_args):
        made = CliRunner().invoke(cli_app, ["admin", "backup", str(path)])
        assert made.exit_code == 0, made.output
        assert "backed up the" in made.output and path.is_file()
        if connect_args is not None:
            # A password the server's trust authentication does not ask for, given in the URL
            # as an operator would: pg_restore's arguments and the output never show it.
            url = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
            target = f"{url}?options=-csearch_path%3D{_schema(db)}"
        else:
            target = url
        commands = spy_on_commands(monkeypatch)
        done = CliRunner().invoke(cli_app, ["admin", "restore", str(path), "--to", target])
        assert done.exit_code == 0, done.output
        assert "self-check passed" in done.output
        assert PASSWORD not in done.output and PASSWORD not in repr(commands)
        if connect_args is not None:
            assert "***" in done.output and commands, "pg_restore ran, told the password apart"
        again = CliRunner().invoke(cli_app, ["admin", "restore", str(path), "--to", target])
        assert again.exit_code == 1 and "restore failed" in again.output


PASSWORD = "s3cret-in-the-url"


def spy_on_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argument lists of the tools the backup runs (pg_dump, pg_restore), as it runs them."""
    seen: list[list[str]] = []
    run = subprocess.run

    def recording(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(list(command))
        return run(command, **kwargs)

    monkeypatch.setattr("healthcode.services.backup.subprocess.run", recording)
    return seen


def test_the_database_password_goes_to_the_tools_environment_not_their_arguments() -> None:
    uri, env = libpq_target(f"postgresql+psycopg://healthcode:{PASSWORD}@db.example:5432/city")
    assert uri == "postgresql://healthcode@db.example:5432/city"
    assert env["PGPASSWORD"] == PASSWORD
    # Without one in the URL, the tools see the environment as it is (a PGPASSWORD set there).
    _, env = libpq_target("postgresql+psycopg://healthcode@db.example/city")
    assert env.get("PGPASSWORD") == os.environ.get("PGPASSWORD")


def test_a_backup_taken_during_writes_is_one_consistent_state(town: Town, tmp_path: Path) -> None:
    """Intake keeps writing (rows and their log entries in one transaction each) while the
    backup runs; the restored copy holds whole transactions only, so its self-check passes."""
    services = town.services
    people = [town.person(f"p{n}") for n in range(40)]
    stop, written = threading.Event(), []

    def write() -> None:
        for n, person in enumerate(people):
            if stop.is_set():
                return
            written.append(town.test(person, town.clock.now(), "positive" if n % 3 else "negative"))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 5:
            time.sleep(0.01)
        made = backup(services.db, tmp_path / "busy.backup")
    finally:
        stop.set()
        writer.join()
    with new_store(services.db, tmp_path) as (url, connect_args):
        restore(made.path, url)
        restored_db = Database(url, connect_args=connect_args)
        try:
            restored = make_services(restored_db, town.clock, services.settings.data_dir)
            report = restored.self_check.run(now=town.clock.now(), halt=False)
            assert report.ok, report.problems
            batches = counts(restored_db)["evidence_batches"]
            assert 5 <= batches <= len(written)
        finally:
            restored_db.dispose()


@pytest.mark.parametrize(
    ("kind", "found"),
    [
        ("a folder that does not exist", "does not exist; create it first"),
        ("not a database URL", "not a database URL"),
        ("another scheme", "restore to sqlite:///NEW-FILE"),
        ("a PostgreSQL database not created", "cannot connect to the target database"),
        ("a file that is no backup", "the copy could not be made"),
    ],
)
def test_a_restore_that_cannot_be_made_is_a_clear_refusal(
    tmp_path: Path, kind: str, found: str
) -> None:
    """What an operator mistypes is a `BackupError` the command prints, not a traceback; and
    nothing is left at the target."""
    backup_file = tmp_path / "hc.db"
    sqlite3.connect(backup_file).close()  # an empty SQLite file: a backup of nothing
    target = {
        "a folder that does not exist": f"sqlite:///{tmp_path / 'missing' / 'r.db'}",
        "not a database URL": "sqlite-ish",
        "another scheme": "mysql://db/healthcode",
        "a PostgreSQL database not created": make_url(POSTGRES_URL)
        .set(database=f"absent_{uuid.uuid4().hex[:12]}")
        .render_as_string(hide_password=False),
        "a file that is no backup": f"sqlite:///{tmp_path / 'r.db'}",
    }[kind]
    if kind == "a file that is no backup":
        backup_file.write_bytes(b"not a database, and long enough to be read as a header" * 4)
    with pytest.raises(BackupError, match=found):
        restore(backup_file, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hc.db"]
    done = CliRunner().invoke(cli_app, ["admin", "restore", str(backup_file), "--to", target])
    assert done.exit_code == 1 and "restore failed" in done.output, done.output


def test_a_backup_into_a_folder_that_does_not_exist_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    sqlite3.connect(tmp_path / "healthcode.db").close()
    done = CliRunner().invoke(cli_app, ["admin", "backup", str(tmp_path / "missing" / "b.db")])
    out = " ".join(done.output.split())  # as one line, whatever the terminal's width
    assert done.exit_code == 1, out
    assert "backup failed" in out and "does not exist; create it first" in out


def test_backup_and_restore_speak_the_operator_s_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As every other command's own messages (cli/language.py): Chinese when the locale asks
    for it, English otherwise; what a tool or the driver said is quoted as it said it."""
    monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    sqlite3.connect(tmp_path / "healthcode.db").close()
    missing = tmp_path / "missing" / "b.db"
    zh, en = (CliRunner(env={"LC_ALL": f"{lang}.UTF-8"}) for lang in ("zh_CN", "en_US"))
    backed = zh.invoke(cli_app, ["admin", "backup", str(missing)])
    assert backed.exit_code == 1
    assert f"备份失败：文件夹 {missing.parent} 不存在，请先创建" in backed.output, backed.output
    other = ["admin", "restore", str(tmp_path / "healthcode.db"), "--to", "mysql://db/x"]
    restored = zh.invoke(cli_app, other)
    assert restored.exit_code == 1
    assert "恢复失败：只能恢复到 sqlite:///NEW-FILE" in restored.output, restored.output
    assert "restore failed: restore to sqlite:///NEW-FILE" in en.invoke(cli_app, other).output
    made = zh.invoke(cli_app, ["admin", "backup", str(tmp_path / "b.db")])
    assert made.exit_code == 0 and "已将 sqlite 存储备份到" in made.output, made.output
