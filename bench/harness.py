"""The small, generic part of the benchmarks: a report, timing, and peak memory of a child.

Peak memory is measured as the child process's own peak resident set (``ru_maxrss`` from
``wait4``), so a measured part runs in a subprocess of its own: numpy allocations, the
interpreter and the database driver all count, and nothing from the parent does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

RESULTS = Path(__file__).resolve().parent / "results"
T = TypeVar("T")


@dataclass
class Report:
    name: str
    measures: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    goals: dict[str, str] = field(default_factory=dict)  # measure or ratio -> the goal, as text
    failures: list[str] = field(default_factory=list)

    def measure(self, name: str, value: float, unit: str = "") -> float:
        self.measures[name] = value
        self.units[name] = unit
        return value

    def ratio(self, name: str, ours: float, peer: float, goal: str = "") -> float:
        value = ours / peer if peer else float("inf")
        self.ratios[name] = value
        if goal:
            self.goals[name] = goal
        return value

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        path.write_text(json.dumps({"measures": self.measures, "ratios": self.ratios}, indent=2))
        return path


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


@dataclass(frozen=True)
class ChildRun:
    output: dict[str, Any]  # the JSON object the child printed last (with "peak_rss" if it can)
    seconds: float  # wall time of the whole child, start-up included
    peak_rss: int  # bytes


def run_child(module: str, args: Sequence[str], *, timeout: float = 3600) -> ChildRun:
    """Run ``python -m module args...``; its last stdout line must be a JSON object."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{module} exited with {process.returncode}")
    lines = [line for line in out.splitlines() if line.strip()]
    output = json.loads(lines[-1])
    # The child's own peak (VmHWM) when it reports it: ru_maxrss also counts the pages the
    # child shared with this process between fork and exec.
    return ChildRun(output, seconds, int(output.get("peak_rss", usage.ru_maxrss * 1024)))


def peak_rss_self() -> int:
    """This process's peak resident set so far, in bytes: VmHWM (of this program, since its
    exec), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value.replace("_", "")) if value else default


def postgres_reachable(url: str) -> bool:
    """Whether a PostgreSQL server answers at ``url`` (a benchmark skips it, and says so, if not)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()
