"""``healthcode log``: sequence, self-check, and verify the transparency log."""

from __future__ import annotations

import typer

from healthcode.cli.context import console, errors, services

app = typer.Typer(help="The transparency log.", no_args_is_help=True)


@app.command("sequence")
def sequence() -> None:
    """Integrate committed entries and sign a checkpoint now (the server does it continuously)."""
    built = services()
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
