"""The transparency log's store path, for ``bench.tlog``: entries, services, and a child run.

``python -m bench.tlog_store MODE DB DATA_DIR ENTRIES BATCH`` appends ``ENTRIES`` entries to a
fresh SQLite store the way the server does: ``services.transparency.append`` inside write
transactions of ``BATCH`` entries, and ``Sequencer.integrate`` (tile-level hashes, a signed
checkpoint). ``MODE`` is ``beside``: the sequencer runs in a thread of its own beside the
appending thread, as the server runs it beside the writers, each run as soon as the last one
ended and a transaction committed since (the entries are made before the clock starts; the
clock stops when a checkpoint holds them all); or ``serial``: each transaction followed by a
run, nothing overlapping, and each batch's entries made outside the timed part, so that the
peak resident set is the store path's own. The last stdout line is a JSON object
(``harness.run_child``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.harness import peak_rss_self
from healthcode.bootstrap import Services, build
from healthcode.services import transparency
from healthcode.services.clock import SystemClock
from healthcode.settings import Settings
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.log import StoredCheckpoint
from healthcode.tlog import Ed25519Verifier, open_checkpoint

KIND = "evidence_batch"
T0 = datetime(2026, 6, 1, tzinfo=UTC)
ENTRIES_PER_SECOND = 50  # of received_at: entry i was received at T0 + i // 50 seconds


def entry(i: int) -> bytes:
    """Entry ``i``: an ``evidence_batch`` entry as ``domain.log_entries`` encodes it (~210
    bytes), written out directly because encoding a million of them the real way takes a
    minute; ``bench.tlog`` checks a sample against ``evidence_batch_entry``."""
    second = i // ENTRIES_PER_SECOND  # within the first day up to 4.3 million entries
    at = f"2026-06-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
    root = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    return (
        f'{{"data":{{"batch":"b-{i:09d}","received_at":"{at}","records":{i % 97 + 1},'
        f'"root":"{root}","source":"src-{i % 500:04d}"}},"kind":"evidence_batch","v":1}}'
    ).encode()


def entry_fields(i: int) -> dict[str, Any]:
    """The arguments of ``evidence_batch_entry`` that give ``entry(i)``."""
    return {
        "source_id": f"src-{i % 500:04d}",
        "batch_id": f"b-{i:09d}",
        "records": i % 97 + 1,
        "merkle_root": hashlib.sha256(i.to_bytes(8, "big")).digest(),
        "received_at": T0 + timedelta(seconds=i // ENTRIES_PER_SECOND),
    }


def entries(start: int, count: int) -> list[bytes]:
    return [entry(i) for i in range(start, start + count)]


def kinded(batch: list[bytes]) -> list[tuple[str, transparency.EntryBody]]:
    return [(KIND, body) for body in batch]


def services_on(db: Database, data_dir: Path) -> Services:
    """The services as the server wires them (keys created in ``data_dir``), on ``db``."""
    settings = Settings(database_url=db.url, data_dir=data_dir)
    return build(settings, db=db, migrate=False, clock=SystemClock())


def append_serial(services: Services, total: int, batch: int) -> dict[str, Any]:
    """Append ``total`` entries in write transactions of ``batch``, integrating after each."""
    db, sequencer, clock = services.db, services.sequencer, services.clock
    append_seconds = integrate_seconds = 0.0
    signed = None
    for start in range(0, total, batch):
        todo = kinded(entries(start, min(batch, total - start)))
        began = time.perf_counter()
        with db.write() as conn:
            transparency.append(conn, todo, clock.now())
        committed = time.perf_counter()
        signed = sequencer.integrate(now=clock.now()) or signed
        integrate_seconds += time.perf_counter() - committed
        append_seconds += committed - began
    assert signed is not None and signed.size == total
    return _result(
        services, append_seconds + integrate_seconds, append_seconds, integrate_seconds, signed
    )


def append_beside(services: Services, total: int, batch: int) -> dict[str, Any]:
    """Append ``total`` entries in write transactions of ``batch`` in this thread while the
    sequencer integrates in another, each run once the last one ended and a transaction
    committed since; until a checkpoint holds them all."""
    db, sequencer, clock = services.db, services.sequencer, services.clock
    todo = [kinded(entries(start, min(batch, total - start))) for start in range(0, total, batch)]
    committed, done = threading.Event(), threading.Event()
    seconds = {"append": 0.0, "integrate": 0.0}
    last: list[StoredCheckpoint] = []

    def sequence() -> None:
        while True:
            committed.wait()
            committed.clear()
            finished = done.is_set()  # then every transaction has committed
            began = time.perf_counter()
            last.extend(filter(None, [sequencer.integrate(now=clock.now())]))
            seconds["integrate"] += time.perf_counter() - began
            if finished:
                return

    # A daemon: if an append fails, the child exits with the error rather than wait on it.
    thread = threading.Thread(target=sequence, name="sequencer", daemon=True)
    began = time.perf_counter()
    thread.start()
    try:
        for chunk in todo:
            start = time.perf_counter()
            with db.write() as conn:
                transparency.append(conn, chunk, clock.now())
            seconds["append"] += time.perf_counter() - start
            committed.set()
    finally:
        done.set()
        committed.set()
    thread.join()
    wall = time.perf_counter() - began
    assert last and last[-1].size == total
    return _result(services, wall, seconds["append"], seconds["integrate"], last[-1])


def _result(
    services: Services,
    seconds: float,
    append_seconds: float,
    integrate_seconds: float,
    signed: StoredCheckpoint,
) -> dict[str, Any]:
    with services.db.read() as conn:
        rows = conn.execute(select(func.count()).select_from(t.log_checkpoints)).scalar()
    return {
        "entries": signed.size,
        "seconds": seconds,
        "append_seconds": append_seconds,
        "integrate_seconds": integrate_seconds,
        "checkpoints": int(rows or 0),
        "size": signed.size,
        "root": signed.root.hex(),
        "note": signed.note,
    }


def main(argv: list[str]) -> None:
    mode, db_path, data_dir = argv[0], Path(argv[1]), Path(argv[2])
    total, batch = int(argv[3]), int(argv[4])
    if mode not in MODES:
        raise SystemExit(f"MODE is one of {', '.join(MODES)}, not {mode!r}")
    db = Database(f"sqlite:///{db_path}")
    db.create_all()
    services = services_on(db, data_dir)
    out = MODES[mode](services, total, batch)
    verifier: Ed25519Verifier = services.log.verifier
    opened = open_checkpoint(out["note"], [verifier], origin=services.log.origin)
    out["note_ok"] = (
        opened.checkpoint.size == total and opened.checkpoint.root_hash.hex() == out["root"]
    )
    db.dispose()
    out["peak_rss"] = peak_rss_self()
    print(json.dumps(out))


MODES = {"beside": append_beside, "serial": append_serial}

if __name__ == "__main__":
    main(sys.argv[1:])
