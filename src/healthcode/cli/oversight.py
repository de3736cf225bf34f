"""``healthcode oversight``: run the detectors now, list the cases, move a case a step."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from healthcode.cli.context import console, errors, refusals_reported, services
from healthcode.oversight import load_detectors
from healthcode.oversight.runner import DEFAULT_WINDOW

app = typer.Typer(help="Oversight: detectors, findings and cases.", no_args_is_help=True)


@app.command("run")
def run(
    days: float = typer.Option(
        DEFAULT_WINDOW.total_seconds() / 86400, "--days", help="How far back the detectors look."
    ),
    detector: list[str] = typer.Option(
        [], "--detector", help="Run only this detector (repeatable); default: every registered one."
    ),
) -> None:
    """Run the detectors now: store new findings and open a case for each (the server does it
    every HEALTHCODE_OVERSIGHT_INTERVAL_SECONDS)."""
    built = services()
    try:
        chosen = load_detectors(detector) if detector else None
    except LookupError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    summary = built.oversight.run(built.clock.now(), window=timedelta(days=days), detectors=chosen)
    table = Table("detector", "title", "findings", "new cases", title=f"window {summary.window}")
    for found in summary.detectors:
        table.add_row(
            found.name,
            f"{found.title_en} / {found.title_zh}",
            str(found.findings),
            str(len(found.new_cases)),
        )
    console.print(table)
    for case in summary.new_cases:  # one a line, whole, for `healthcode oversight move`
        console.print(f"opened {case}", soft_wrap=True)
    console.print(f"{len(summary.new_cases)} new cases")


@app.command("cases")
def cases(
    status: str = typer.Option(
        None, "--status", help="Only cases in this status: open, investigating, referred, closed."
    ),
) -> None:
    """List oversight's cases, the oldest first: escalated appeals and the detectors' findings."""
    built = services()
    with refusals_reported():
        found = built.oversight.cases(status)
    table = Table()
    table.add_column("case", no_wrap=True)  # whole, so it can be copied into `move`
    for name in ("from", "status", "opened", "updated", "what"):
        table.add_column(name)
    for view in found:
        if view.finding is not None:
            what = f"{view.finding.detector} {view.finding.subject}: {view.finding.summary_en}"
        elif view.appeal is not None:
            what = f"appeal {view.appeal.id} ({view.appeal.authority_id})"
        else:
            what = "-"
        case = view.case
        table.add_row(
            case.id, view.origin, case.status, case.opened_at.isoformat(),
            case.updated_at.isoformat() if case.updated_at else "-", what,
        )  # fmt: skip
    console.print(table)


@app.command("move")
def move(
    case: str = typer.Argument(..., help="The case id."),
    status: str = typer.Argument(..., help="investigating, referred or closed."),
    by: str = typer.Option(..., "--by", help="The auditor's badge id."),
    note: str = typer.Option("", "--note", help="What was done; to close: the conclusion."),
) -> None:
    """Move a case one step (open -> investigating -> referred -> closed); logged."""
    built = services()
    with refusals_reported():
        view = built.oversight.move(by, case, status, note, now=built.clock.now())
    step = view.steps[-1]
    console.print(f"case {view.case.id} is {view.case.status} (log entry {step.log_index})")
