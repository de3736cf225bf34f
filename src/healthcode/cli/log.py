"""``healthcode log``: sequence, self-check, and verify the transparency log."""

from __future__ import annotations

from pathlib import Path

import typer

from healthcode.cli.context import console, errors, services
from healthcode.services.monitor import verify_log
from healthcode.services.monitor_errors import MonitorError

app = typer.Typer(help="The transparency log.", no_args_is_help=True)


@app.command("sequence")
def sequence() -> None:
    """Integrate committed entries and sign a checkpoint now (the server does it continuously)."""
    built = services()
    built.places.seal_due(built.clock.now())  # scan batches of past seconds first
    signed = built.sequencer.integrate(now=built.clock.now())
    if signed is None:
        console.print("nothing new to sign (or the log is halted)")
    else:
        console.print(f"signed checkpoint of size {signed.size}")


@app.command("self-check")
def self_check() -> None:
    """Recompute every entry from the stored rows and the root; halt signing on a mismatch."""
    built = services()
    report = built.self_check.run(now=built.clock.now())
    if report.ok:
        console.print(
            f"self-check passed: {report.entries} entries, checkpoint size {report.checkpoint_size}"
        )
        return
    for problem in report.problems:
        errors.print(f"[red]{problem}[/red]")
    errors.print("the log is halted: no further checkpoint will be signed")
    raise typer.Exit(1)


@app.command("verify")
def verify(
    url: str = typer.Argument(..., help="The log's base URL, e.g. http://127.0.0.1:8000/log/"),
    state: Path = typer.Option(
        Path("log-monitor.json"), help="Where the last verified checkpoint is kept."
    ),
    key: str = typer.Option(
        None, help="The log's verifier key (vkey); default: trust the served key on first use."
    ),
    witness: list[str] = typer.Option([], help="A witness's cosignature vkey; repeatable."),
    min_cosignatures: int = typer.Option(0, help="How many of those witnesses must have cosigned."),
    full: bool = typer.Option(False, "--full", help="Re-read every entry, not only the new ones."),
) -> None:
    """Monitor a log over HTTP: signature, consistency with the last checkpoint seen, every entry."""
    base = url if url.endswith("/") else url + "/"
    try:
        report = verify_log(
            base,
            state,
            verifier_key=key,
            witness_keys=witness,
            min_cosignatures=min_cosignatures,
            full=full,
        )
    except MonitorError as error:
        errors.print(f"[red]{error.code}[/red]: {error.message}")
        raise typer.Exit(1) from None
    since = (
        "first check"
        if report.previous_size is None
        else f"consistent with size {report.previous_size}"
    )
    console.print(
        f"log {report.origin} verified at size {report.size} ({since}); "
        f"{report.entries_verified} entries re-hashed, {len(report.cosigners)} cosignatures"
    )
