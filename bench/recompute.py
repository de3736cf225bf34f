"""Bulk recompute: everyone's status at once, against the same rulebook in JsonLogic.

1. Generate a city (``BENCH_PEOPLE``, default 1,000,000, over ``BENCH_DAYS`` = 30 days) in
   memory as columns.
2. Recompute everyone with ``domain.bulk.evaluate``: persons per second.
3. The peer: the same rulebook as one JsonLogic expression, run per person by
   panzi-json-logic on a random sample (``BENCH_PEER_SAMPLE``, default 2,000): persons per
   second. Its answers (the rule that fires, hence the colour) must equal bulk's for every
   person of the sample and of a sample of people who are not green; a difference fails the
   benchmark.
4. End to end from SQLite: the city written into a SQLite file with the project's schema
   (cached), then, in a child process so that its peak memory is its own: read the people,
   the designations and the rows the rulebook needs, and evaluate everyone. Seconds and peak
   RSS; the answers must equal step 2's.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np
from rich.console import Console

from bench import jsonlogic_peer, sqlite_city
from bench.city import City, generate
from bench.harness import Report, env_int, peak_rss_self, run_child, timed
from healthcode.domain.bulk import BulkStatuses, evaluate
from healthcode.domain.rulebook import Colour, Rulebook, load_rulebook
from healthcode.services.rulebooks import default_edition_source

NAME = "recompute"
GIB = 1 << 30


def _rulebook() -> Rulebook:
    return load_rulebook(default_edition_source())


def digest(result: BulkStatuses) -> str:
    """One hash of everyone's colour, rule and valid_until, in person order."""
    h = hashlib.sha256()
    h.update("\n".join(result.persons).encode())
    for array in (result.colour, result.rule, result.valid_until):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _bulk(city: City, rulebook: Rulebook) -> BulkStatuses:
    columns = replace(city.columns)  # the same arrays, nothing cached from an earlier run
    return evaluate(columns, rulebook, city.at, designations=city.designations,
                    orders=city.orders, set_asides=city.set_asides)  # fmt: skip


def _peer(
    report: Report, console: Console, city: City, rulebook: Rulebook, bulk: BulkStatuses
) -> float:
    rng = np.random.default_rng(1)
    count = min(env_int("BENCH_PEER_SAMPLE", 2_000), len(city.columns.persons))
    sample = np.sort(rng.choice(len(city.columns.persons), size=count, replace=False))
    not_green = np.flatnonzero(bulk.rule >= 0)
    flagged = np.sort(rng.choice(not_green, size=min(count, len(not_green)), replace=False))
    logic = jsonlogic_peer.compile_rulebook(rulebook, city.designations, city.set_asides, city.at)
    orders: dict[str, list[Any]] = {}
    for order in city.orders:
        orders.setdefault(order.person, []).append(order)

    def data_of(people: np.ndarray) -> list[tuple[int, dict[str, Any]]]:
        rows = city.rows_of(people)
        return [(int(p), jsonlogic_peer.person_data(city, rows[int(p)],
                 orders.get(city.columns.persons[int(p)], []))) for p in people]  # fmt: skip

    timed_data = data_of(sample)  # building the data objects is not timed: only evaluation
    answers, seconds = timed(lambda: [jsonlogic_peer.evaluate(logic, d) for _, d in timed_data])
    checked = list(zip([p for p, _ in timed_data], answers, strict=True))
    checked += [(p, jsonlogic_peer.evaluate(logic, d)) for p, d in data_of(flagged)]
    wrong = [(p, a, bulk.rule_id_of(p)) for p, a in checked if a != bulk.rule_id_of(p)]
    if wrong:
        report.fail(f"JsonLogic and bulk disagree on {len(wrong)} of {len(checked)} people, "
                    f"e.g. {wrong[:3]}")  # fmt: skip

    def colour(rule_id: str) -> Colour:
        rule = rulebook.rule(rule_id)
        return rule.colour if rule is not None else Colour.GREEN

    colours_equal = all(bulk.colour_of(p) == colour(a) for p, a in checked)
    if not colours_equal:
        report.fail("JsonLogic and bulk disagree on colours")
    report.measure("peer sample (people)", len(timed_data))
    report.measure("people compared with the peer", len(checked))
    console.print(f"JsonLogic: {len(checked):,} people compared, {len(wrong)} differences")
    return report.measure("JsonLogic persons/s", len(timed_data) / seconds, "persons/s")


def _end_to_end(
    report: Report,
    console: Console,
    params: dict[str, Any],
    city: City | None,
    inputs: dict[str, Any],
    expected: str,
) -> None:
    def build() -> City:
        if city is not None:
            return city
        return generate(params["people"], params["days"], seed=params["seed"])

    path, seconds = timed(lambda: sqlite_city.ensure(build, params, console.print))
    if seconds > 1:
        report.measure("SQLite fixture build", seconds, "s")
    sqlite_city.save_inputs(path, inputs)
    report.measure("SQLite file size", path.stat().st_size / GIB, "GiB")
    child = run_child("bench.recompute_sqlite", [str(path)])
    out = child.output
    report.measure("SQLite end to end (child wall)", child.seconds, "s")
    report.goals["SQLite end to end (child wall)"] = "< 60 s"
    report.measure("SQLite end to end (load + evaluate)", out["seconds"], "s")
    report.measure("SQLite end to end CPU time", out["cpu_seconds"], "s")
    for phase, value in out["phases"].items():
        report.measure(f"SQLite: {phase}", value, "s")
        report.measure(f"SQLite: {phase} (CPU)", out["cpu_phases"][phase], "s")
    report.measure("SQLite rows read", out["rows"], "rows")
    report.measure("SQLite peak RSS", child.peak_rss / GIB, "GiB")
    report.goals["SQLite peak RSS"] = "< 4 GiB"
    report.measure("SQLite end to end persons/s", out["persons"] / out["seconds"], "persons/s")
    if out["digest"] != expected:
        report.fail("the statuses computed from SQLite differ from the in-memory ones")
    else:
        console.print("SQLite statuses equal the in-memory ones for every person")


def run(report: Report, console: Console) -> None:
    params = {
        "people": env_int("BENCH_PEOPLE", 1_000_000),
        "days": env_int("BENCH_DAYS", 30),
        "seed": 2022,
    }
    rulebook = _rulebook()
    console.print(f"generating {params['people']:,} people over {params['days']} days")
    city, seconds = timed(lambda: generate(params["people"], params["days"], seed=params["seed"]))
    report.measure("people", params["people"])
    report.measure("evidence rows", len(city.columns), "rows")
    report.measure("orders", len(city.orders))
    report.measure("designations", len(city.designations))
    report.measure("generation", seconds, "s")

    best = float("inf")
    bulk: BulkStatuses | None = None
    for _ in range(env_int("BENCH_REPEAT", 3)):
        bulk, seconds = timed(lambda: _bulk(city, rulebook))
        best = min(best, seconds)
    assert bulk is not None
    report.measure("bulk evaluate (best)", best, "s")
    bulk_rate = report.measure("bulk persons/s", len(bulk) / best, "persons/s")
    report.measure("bulk rows/s", len(city.columns) / best, "rows/s")
    report.measure("in-memory peak RSS (generation + bulk)", peak_rss_self() / GIB, "GiB")
    counts = np.bincount(bulk.colour, minlength=3)
    for colour, count in zip(("green", "yellow", "red"), counts.tolist(), strict=True):
        report.measure(f"{colour} people", count)

    peer_rate = _peer(report, console, city, rulebook, bulk)
    report.ratio("bulk / JsonLogic (persons/s)", bulk_rate, peer_rate, goal=">= 100")
    if report.ratios["bulk / JsonLogic (persons/s)"] < 100:
        console.print("[yellow]below the goal of 100×[/]")

    if env_int("BENCH_SQLITE", 1):
        expected, inputs = digest(bulk), sqlite_city.inputs_of(city)
        keep = city if params["people"] <= 200_000 else None  # else regenerate if needed
        del bulk, city
        _end_to_end(report, console, params, keep, inputs, expected)


if __name__ == "__main__":  # pragma: no cover - python -m bench --only recompute
    from bench.__main__ import main

    start = time.perf_counter()
    code = main(["--only", NAME, *sys.argv[1:]])
    print(f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    sys.exit(code)
