"""The store bench/http_load.py serves: a demo city, its people's tokens and fresh place codes.

The city is built by ``healthcode demo`` (the same command as ``make run``, through the intake
path, so people have their history of tests and visits), on SQLite in a temporary folder or on
PostgreSQL in a schema of its own, dropped afterwards. Then every venue gets its place-code key
(``Places.ensure_registered``, as a deployment does), and the bench keeps a ``Services`` on
the same store and keys to mint person tokens and sign place codes exactly as the server
would: a code is the venue device's, for a window of ``places.code_seconds``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select
from tests.pg_schema import fresh_schema
from tests.served import BIN

from healthcode.bootstrap import Services, build
from healthcode.credentials.passes import window_of, window_start
from healthcode.settings import Settings
from healthcode.store import tables as t

POSTGRES = os.environ.get(
    "BENCH_POSTGRES",
    os.environ.get("HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)


@dataclass
class City:
    kind: str  # sqlite | postgres
    env: dict[str, str]  # the server's environment (data folder, store)
    services: Services  # the bench's own handle on the same store and keys
    people: list[str]
    venues: list[str]
    folder: Path  # for the token and code files wrk reads
    build_seconds: float

    @property
    def interval(self) -> timedelta:
        return self.services.places.policy.code_interval

    def token_file(self, ttl: timedelta) -> Path:
        """One person bearer token a line, in the order of ``people``."""
        tokens = self.services.tokens
        now = datetime.now(UTC)
        path = self.folder / "tokens.txt"
        path.write_text(
            "".join(f"{tokens.mint(p, role='person', now=now, ttl=ttl)}\n" for p in self.people)
        )
        return path

    def code_file(self, seconds: float) -> Path:
        """Every venue's code of each window from now to ``seconds`` ahead (and one more), as
        ``window venue_index code`` lines: a request sends the code of the window it is in."""
        places = self.services.places
        now = datetime.now(UTC)
        first = window_of(now, self.interval)
        last = window_of(now + timedelta(seconds=seconds), self.interval) + 1
        lines = []
        for window in range(first, last + 1):
            # The code a device shows in that window (from now on: the venue keys are valid
            # from their registration, which may be inside the current window).
            at = max(now, window_start(window, self.interval))
            for index, venue in enumerate(self.venues):
                view = places.current_code(venue, at)
                assert view.window == window
                lines.append(f"{window} {index} {view.text}\n")
        path = self.folder / "codes.txt"
        path.write_text("".join(lines))
        return path

    def scan_counts(self) -> dict[str, int]:
        """Scans stored, by presence (``proven``, ``unverified``)."""
        query = (
            select(t.evidence.c.presence, func.count())
            .where(t.evidence.c.kind == "venue_visit", t.evidence.c.source_id.like("scans.%"))
            .group_by(t.evidence.c.presence)
        )
        with self.services.db.read() as conn:
            return {str(presence): int(n) for presence, n in conn.execute(query)}

    def self_check(self) -> list[str]:
        """After the load (the server stopped): seal and sign what is left, then recompute
        every entry from its rows."""
        services, now = self.services, datetime.now(UTC)
        services.places.seal_due(now, everything=True)
        services.sequencer.integrate(now=now)
        return services.self_check.run(now=now, halt=False).problems


def postgres_reachable() -> bool:
    probe = create_engine(POSTGRES)
    try:
        with probe.connect():
            return True
    except Exception:
        return False
    finally:
        probe.dispose()


@contextmanager
def _store(kind: str, folder: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "HEALTHCODE_DATA_DIR": str(folder / "data")}
    env.pop("DATABASE_URL", None)
    if kind == "sqlite":
        yield env
        return
    with fresh_schema(POSTGRES, "bench") as schema:
        sep = "&" if "?" in POSTGRES else "?"
        yield {**env, "DATABASE_URL": f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"}


@contextmanager
def demo_city(kind: str, folder: Path, people: int) -> Iterator[City]:
    with _store(kind, folder) as env:
        start = time.perf_counter()
        built = subprocess.run(
            [BIN, "demo", "--people", str(people)], env=env, capture_output=True, text=True,
            timeout=1800,
        )  # fmt: skip
        if built.returncode != 0:
            raise RuntimeError(f"healthcode demo failed: {built.stderr[-500:]}")
        services = build(Settings.from_env(env), migrate=False)
        try:
            services.places.ensure_registered(datetime.now(UTC))
            with services.db.read() as conn:
                keys = sorted(conn.scalars(select(t.persons.c.person_key)))
                venues = sorted(conn.scalars(select(t.venues.c.id)))
            yield City(kind, env, services, keys, venues, folder,
                       time.perf_counter() - start)  # fmt: skip
        finally:
            services.db.dispose()
