"""``python -m crash [--trials N] [--backend sqlite|postgres|both]`` (``make crash``).

Each trial builds a small demo city, starts the real server and, from several threads, writes
over HTTP: signed evidence batches, and chains of a person's positive test, the official's
order citing it and the person's appeal against that order, the order and the appeal each
with an ``Idempotency-Key`` (crash/writes.py). It kills the server with SIGKILL: one trial in
four at a random moment, the others at a named point of the write path
(services/crashpoints.py: intake, orders and appeals before commit and after commit before the
answer, the sequencer signing a checkpoint), reached the first to fifth time (or a moment after
the load, if the point never came). Then it restarts the server, retries every write with the
same keys and checks what crash/trial.py lists: nothing acknowledged lost, nothing doubled, the
log whole. PostgreSQL trials run in a schema of their own at ``CRASH_POSTGRES`` (default: the
test server), and are skipped if it cannot be reached, unless CI=true. The last line is
``N passed, M failed``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine
from tests.pg_schema import fresh_schema

from crash.trial import Trial
from healthcode.services.crashpoints import POINTS

POSTGRES = os.environ.get("CRASH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> bool:
    try:
        with create_engine(POSTGRES).connect():
            return True
    except Exception:
        if os.environ.get("CI") == "true":
            raise
        return False


@contextmanager
def _store(backend: str) -> Iterator[str | None]:
    """None for SQLite (a file in the trial's folder); for PostgreSQL, a schema of its own."""
    if backend == "sqlite":
        yield None
        return
    with fresh_schema(POSTGRES, "crash") as schema:
        yield f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}"


def _crash_point(trial: int, rng: random.Random) -> str | None:
    if trial % 4 == 0:
        return None
    point = sorted(POINTS)[trial % len(POINTS)]
    return f"{point}:{rng.randint(1, 5)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crash", description=__doc__)
    parser.add_argument("--trials", type=int, default=10, help="trials per backend")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    passed = failed = 0
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    for backend in backends:
        if backend == "postgres" and not _postgres_reachable():
            print(f"postgres: not reachable at {POSTGRES}, skipped")
            continue
        for number in range(args.trials):
            point = _crash_point(number, rng)
            with tempfile.TemporaryDirectory() as folder, _store(backend) as url:
                trial = Trial(backend, url, Path(folder), random.Random(rng.random()), point)
                try:
                    ok = trial.run()
                except Exception as error:  # a trial that cannot even run has failed
                    trial.problems.append(f"{type(error).__name__}: {error}")
                    ok = False
            passed += ok
            failed += not ok
            where = point or "a random moment"
            print(f"{backend} trial {number + 1}: killed at {where} ({trial.summary}): "
                  + ("ok" if ok else "; ".join(trial.problems)), flush=True)  # fmt: skip
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
