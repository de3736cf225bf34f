"""``healthcode sim``: evaluate oversight on simulated cities with abuse attempts, and replay an
NDJSON action file (the import format, docs/oversight.md) into the configured store."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.table import Table

from healthcode.cli.context import console, errors, services

app = typer.Typer(help="The simulator: evaluate the detectors, replay action files.")


@app.command()
def evaluate(
    seed: list[int] = typer.Option([7], help="Random seed (repeat the option for several)."),
    people: int = typer.Option(3000, help="Residents of each simulated city."),
    days: int = typer.Option(30, help="Simulated days."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    keep: Path | None = typer.Option(
        None, help="Keep the store, actions.ndjson and labels.ndjson here (one seed only)."
    ),
) -> None:
    """Build a city with abuse attempts, run every detector, score them against the truth."""
    from healthcode.sim.evaluate import evaluate as run

    if keep is not None and len(seed) > 1:
        errors.print("--keep takes one seed")
        raise typer.Exit(2)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    say = (lambda _: None) if as_json else (lambda text: console.print(text, style="dim"))
    results = [run(s, people=people, days=days, keep=keep, progress=say) for s in seed]
    if as_json:
        body = [r.as_json() for r in results]
        console.print_json(json.dumps(body[0] if len(body) == 1 else body))
        return
    for result in results:
        table = Table("attempt kind", "seed abuse", "attempts", "refused by the API",
                      "refused, flagged", "landed", "flagged", title=f"seed {result.seed}: {result.people} people, "
                      f"{result.days} days", title_justify="left")  # fmt: skip
        for kind in result.kinds.values():
            table.add_row(kind.kind, kind.abuse, *(str(n) for n in (
                kind.attempts, kind.refused, kind.refused_flagged, kind.landed,
                kind.flagged)))  # fmt: skip
        console.print(table)
        detectors = Table("detector", "findings", "about an attempt")
        for name, (found, true) in sorted(result.by_detector.items()):
            detectors.add_row(name, str(found), str(true))
        console.print(detectors)
        console.print(
            f"recall {result.recall:.1%}  precision {result.precision:.1%}  "
            f"({result.findings} findings)"
        )
        for missed in result.missed:
            console.print(f"  missed: {missed}")
        for false in result.false:
            console.print(f"  not about an attempt: {false}")


@app.command("import")
def import_actions(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="An NDJSON action file."),
) -> None:
    """Replay an action file through the services: every line checked like real traffic.

    The whole file is read first: a line that is not an action stops it before anything is
    replayed. Each action is then its own write; a refused one writes nothing but its refusal record
    (naming the official, for a staff act).
    """
    from healthcode.sim.actions import Replayer, read_actions

    try:
        actions = list(read_actions(path))
    except ValueError as bad:
        errors.print(f"nothing imported: {bad}")
        raise typer.Exit(2) from None
    replayer = Replayer(services())
    counts: Counter[tuple[str, str]] = Counter()
    try:
        for number, action in enumerate(actions, 1):
            try:
                outcome = replayer.apply(action)
            except (ValueError, KeyError, LookupError) as bad:
                errors.print(f"stopped at line {number}: {bad!r}")
                raise typer.Exit(2) from None
            counts[(outcome.type, outcome.refused or "accepted")] += 1
    finally:
        table = Table("action", "outcome", "count")
        for (kind, result), count in sorted(counts.items()):
            table.add_row(kind, result, str(count))
        console.print(table)
