"""The measured part of the end-to-end recompute, run as a child process by
``bench.recompute`` so that its peak memory is its own: from a SQLite file, read everyone's
key, the designations and the evidence rows the rulebook needs, then evaluate everyone.

Prints one JSON object: seconds of wall and CPU time (total and per phase: on a shared machine
the two differ), rows read, people, and a digest of
everyone's colour, rule and valid_until (to compare with the in-memory run).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.harness import peak_rss_self
from bench.recompute import digest
from bench.sqlite_city import load_inputs
from healthcode.domain.bulk import evaluate
from healthcode.domain.bulk_plan import plan_load
from healthcode.domain.rulebook import load_rulebook
from healthcode.services.rulebooks import default_edition_source
from healthcode.store.columns import load_columns, registered_persons
from healthcode.store.database import Database
from healthcode.store.evidence import all_designations


def main(path: Path) -> None:
    inputs = load_inputs(path)  # orders and set-asides: no tables for them in the store yet
    rulebook = load_rulebook(default_edition_source())
    phases: dict[str, float] = {}
    cpu_phases: dict[str, float] = {}
    start = last = time.perf_counter()
    cpu_start = cpu_last = time.process_time()

    def phase(name: str) -> None:
        nonlocal last, cpu_last
        now, cpu = time.perf_counter(), time.process_time()
        phases[name], cpu_phases[name] = now - last, cpu - cpu_last
        last, cpu_last = now, cpu

    db = Database(f"sqlite:///{path}")
    with db.read() as conn:
        persons = registered_persons(conn)
        designations = all_designations(conn)
        phase("read people and designations")
        plan = plan_load(rulebook, designations, since=inputs["at"])  # a recompute at `at`
        columns = load_columns(conn, plan=plan, persons=persons, set_asides=inputs["set_asides"])
        phase("load evidence columns")
    result = evaluate(columns, rulebook, inputs["at"], designations=designations,
                      orders=inputs["orders"], set_asides=inputs["set_asides"])  # fmt: skip
    phase("evaluate")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    db.dispose()
    print(json.dumps({
        "seconds": seconds, "cpu_seconds": cpu_seconds, "phases": phases, "cpu_phases": cpu_phases,
        "rows": len(columns), "persons": len(result),
        "digest": digest(result), "peak_rss": peak_rss_self(),
    }))  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]))
