"""``python -m bench [--only NAME ...]``: run the benchmarks, print and save the results."""

from __future__ import annotations

import argparse
import importlib
import sys

from rich.console import Console
from rich.table import Table

from bench import BENCHMARKS
from bench.harness import Report


def _show(console: Console, report: Report) -> None:
    table = Table(title=f"bench: {report.name}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("goal")
    for name, value in report.measures.items():
        table.add_row(name, f"{value:,.6g}", report.units.get(name, ""), report.goals.get(name, ""))
    for name, value in report.ratios.items():
        table.add_row(f"ratio: {name}", f"{value:,.2f}", "×", report.goals.get(name, ""))
    console.print(table)
    for failure in report.failures:
        console.print(f"[bold red]FAILED[/] {report.name}: {failure}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this one")
    args = parser.parse_args(argv)
    console = Console()
    failed = False
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        report = Report(name)
        module.run(report, console)
        path = report.write()
        _show(console, report)
        console.print(f"results: {path}")
        failed |= bool(report.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
