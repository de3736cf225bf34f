"""Benchmarks against peers, run by ``python -m bench [--only NAME]`` (``make bench``).

A benchmark is a module of this package with a ``NAME`` and a ``run(report, console)``
function that fills ``report`` (``bench.harness.Report``) with measures (rates, seconds,
bytes) and ratios (our rate / the peer's rate) and records failures (a peer disagreeing with
us is one); a part whose peak memory matters runs in a child (``bench.harness.run_child``).
Results go to ``bench/results/<name>.json``. Benchmarks are never tests: nothing here asserts
a timing.
"""

BENCHMARKS = ["recompute", "tlog", "passes", "oversight", "ingest", "sqlite_rows", "http_load"]
