"""The national log records regional logs' checkpoints: two regional deployments (own stores,
origins and keys) served over HTTP, collected into a national one; nothing appended without
growth; a forked region, a wrong key or bad tiles refused and nothing appended; the national
self-check recomputes every `regional_checkpoint` entry from its row."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from healthcode.bootstrap import Services, build
from healthcode.services.clock import FixedClock
from healthcode.services.regions import RegionalCheckpoints
from healthcode.services.regions_config import Region
from healthcode.settings import Settings
from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.regions import regional_checkpoints
from healthcode.tlog import Checkpoint, sign_checkpoint
from healthcode.web.app import create_app
from tests import independent_verifier as iv
from tests.conftest import POSTGRES_URL
from tests.pg_schema import schema_database
from tests.town import Town

HENAN, SHANGHAI, NATION = "henan.example/log", "shanghai.example/log", "nation.example/log"

Handler = Callable[[httpx2.Request], httpx2.Response | None]


@pytest.fixture(params=["sqlite", "postgres"])
def databases(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_ok: bool
) -> Iterator[Callable[[str], Database]]:
    """Makes one empty store per deployment, on the backend of the test."""
    if request.param == "postgres" and not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with ExitStack() as stack:

        def make(name: str) -> Database:
            if request.param == "postgres":
                return stack.enter_context(schema_database(POSTGRES_URL))
            db = Database(f"sqlite:///{tmp_path / name}.db")
            db.create_all()
            stack.callback(db.dispose)
            return db

        yield make


def deployment(db: Database, clock: FixedClock, data_dir: Path, origin: str) -> Services:
    """A deployment with its own store, key (in its data directory) and log origin."""
    settings = Settings(
        database_url=db.url, data_dir=data_dir, scheduler_interval_seconds=3600, log_origin=origin
    )
    return build(settings, clock=clock, db=db, migrate=False)


class Regions:
    """Regional deployments served to the national collector through one HTTP client, with
    hooks to serve something else than a region's app would (a fork, a bad tile)."""

    def __init__(self) -> None:
        self.apps: dict[str, TestClient] = {}
        self.overrides: list[Handler] = []
        self.client = httpx2.Client(transport=httpx2.MockTransport(self._handle))

    def serve(self, host: str, services: Services) -> Region:
        self.apps[host] = TestClient(create_app(services, run_scheduler=False))
        return Region(f"http://{host}/log/", services.log.vkey())

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        for override in self.overrides:
            answer = override(request)
            if answer is not None:
                return answer
        app = self.apps.get(request.url.host)
        if app is None:
            raise httpx2.ConnectError(f"no host {request.url.host}", request=request)
        served = app.get(request.url.path)
        return httpx2.Response(served.status_code, content=served.content)


def grow(town: Town, tests: int) -> int:
    person = town.person(f"p{tests}")
    for n in range(tests):
        town.clock.advance(minutes=1)
        town.test(person, town.clock.now(), "negative" if n % 2 else "positive")
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    return signed.size


def entries(services: Services, start: int) -> list[dict]:  # type: ignore[type-arg]
    with services.db.read() as conn:
        end = log_bundles.next_index(conn)
        return [json.loads(body) for body in log_bundles.entries(conn, start, end)]


def next_index(services: Services) -> int:
    with services.db.read() as conn:
        return log_bundles.next_index(conn)


def test_regions_collected_into_the_national_log(
    databases: Callable[[str], Database], clock: FixedClock, tmp_path: Path
) -> None:
    henan = Town.register(deployment(databases("henan"), clock, tmp_path / "henan", HENAN), clock)
    shanghai = Town.register(
        deployment(databases("shanghai"), clock, tmp_path / "shanghai", SHANGHAI), clock
    )
    nation = deployment(databases("nation"), clock, tmp_path / "nation", NATION)
    nation.sequencer.integrate(now=clock.now())
    henan_size, shanghai_size = grow(henan, 3), grow(shanghai, 5)
    regions = Regions()
    listed = [
        regions.serve("henan.test", henan.services),
        regions.serve("sh.test", shanghai.services),
    ]
    collector = RegionalCheckpoints(nation.db, nation.refusals)

    def collect(*only: Region) -> list[tuple[str, int | None, int]]:
        results = collector.collect(only or listed, now=clock.now(), client=regions.client)
        return [(r.outcome, r.size, r.previous_size) for r in results]

    start = next_index(nation)
    assert collect() == [("recorded", henan_size, 0), ("recorded", shanghai_size, 0)]
    recorded = entries(nation, start)
    assert [e["kind"] for e in recorded] == ["regional_checkpoint"] * 2
    first = recorded[0]["data"]
    assert (first["origin"], first["size"], first["previous_size"]) == (HENAN, henan_size, 0)
    assert first["key"] == henan.services.log.vkey()
    # The entry alone proves what the region signed: its note verifies on its own.
    assert iv.open_note(first["note"], first["key"]) == (
        HENAN,
        henan_size,
        bytes.fromhex(first["root"]),
    )

    # No growth: nothing appended.
    assert collect() == [
        ("unchanged", henan_size, henan_size),
        ("unchanged", shanghai_size, shanghai_size),
    ]
    assert next_index(nation) == start + 2

    # Henan grows: recorded after proving consistency from Henan's tiles.
    clock.advance(hours=1)
    bigger = grow(henan, 2)
    assert collect() == [
        ("recorded", bigger, henan_size),
        ("unchanged", shanghai_size, shanghai_size),
    ]
    assert entries(nation, start + 2)[0]["data"]["previous_size"] == henan_size

    # Shanghai signs a second tree of the size recorded: a split view, refused with both notes.
    forked_note = sign_checkpoint(
        Checkpoint(SHANGHAI, shanghai_size, bytes(32)), [shanghai.services.sequencer.signer]
    )
    regions.overrides.append(
        lambda r: (
            httpx2.Response(200, content=forked_note.encode())
            if r.url.host == "sh.test" and r.url.path == "/log/checkpoint"
            else None
        )
    )
    before = next_index(nation)
    [result] = collector.collect([listed[1]], now=clock.now(), client=regions.client)
    assert result.outcome == "refused" and result.refusal is not None
    assert result.refusal.code == "region.inconsistent"
    assert result.evidence[1] == forked_note
    assert iv.open_note(result.evidence[0], listed[1].key)[1] == shanghai_size
    assert next_index(nation) == before
    with nation.db.read() as conn:
        codes = list(conn.scalars(select(t.refusals.c.code)))
    assert codes == ["region.inconsistent"]
    regions.overrides.clear()

    nation.sequencer.integrate(now=clock.now())
    report = nation.self_check.run(now=clock.now(), halt=False)
    assert report.ok, report.problems


def test_a_rebuilt_region_is_refused_as_a_fork(
    databases: Callable[[str], Database], clock: FixedClock, tmp_path: Path
) -> None:
    honest = Town.register(deployment(databases("a"), clock, tmp_path / "henan", HENAN), clock)
    nation = deployment(databases("nation"), clock, tmp_path / "nation", NATION)
    grow(honest, 2)
    regions = Regions()
    region = regions.serve("henan.test", honest.services)
    collector = RegionalCheckpoints(nation.db, nation.refusals)
    assert (
        collector.collect([region], now=clock.now(), client=regions.client)[0].outcome == "recorded"
    )
    # The region's store rebuilt with other entries (same key and origin), grown past the size
    # recorded: its first entries no longer hash to the recorded root.
    clock.advance(hours=1)
    rebuilt = Town.register(deployment(databases("b"), clock, tmp_path / "henan", HENAN), clock)
    grow(rebuilt, 6)
    regions.serve("henan.test", rebuilt.services)
    before = next_index(nation)
    [result] = collector.collect([region], now=clock.now(), client=regions.client)
    assert result.refusal is not None and result.refusal.code == "region.inconsistent"
    assert "entries hash to" in result.refusal.detail  # proven from the tiles, not guessed
    assert next_index(nation) == before


def test_wrong_key_and_bad_tiles_are_refused(
    databases: Callable[[str], Database], clock: FixedClock, tmp_path: Path
) -> None:
    henan = Town.register(deployment(databases("henan"), clock, tmp_path / "henan", HENAN), clock)
    other = deployment(databases("other"), clock, tmp_path / "other", HENAN)  # same name, other key
    nation = deployment(databases("nation"), clock, tmp_path / "nation", NATION)
    grow(henan, 2)
    regions = Regions()
    region = regions.serve("henan.test", henan.services)
    collector = RegionalCheckpoints(nation.db, nation.refusals)

    def refusal(of: Region) -> str | None:
        [result] = collector.collect([of], now=clock.now(), client=regions.client)
        return None if result.refusal is None else result.refusal.code

    assert refusal(Region(region.url, other.log.vkey())) == "region.checkpoint_invalid"
    assert refusal(Region("http://nowhere.test/log/", region.key)) == "region.unreachable"
    assert refusal(region) is None
    assert grow(henan, 260) > 256  # past a full tile, so the proof needs it
    regions.overrides.append(
        lambda r: (
            httpx2.Response(200, content=bytes(32 * 256))
            if r.url.path == "/log/tile/0/000"
            else None
        )
    )
    before = next_index(nation)
    assert refusal(region) == "region.tiles_invalid"
    assert next_index(nation) == before

    # A row edited after the fact is caught by the self-check.
    nation.sequencer.integrate(now=clock.now())
    assert nation.self_check.run(now=clock.now(), halt=False).ok
    with nation.db.write() as conn:
        conn.execute(update(regional_checkpoints).values(root=bytes(32)))
    problems = nation.self_check.run(now=clock.now(), halt=False).problems
    assert any("regional checkpoint" in p for p in problems), problems
    assert any("does not match the record it logs" in p for p in problems), problems
