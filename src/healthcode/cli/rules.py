"""``healthcode rules``: read the published rulebook editions."""

from __future__ import annotations

import json

import typer

from healthcode.cli.context import console, refusals_reported, services

app = typer.Typer(help="Read the published rulebooks.", no_args_is_help=True)


@app.command("show")
def show(
    version: int = typer.Option(None, help="An edition; default: the one in force now."),
    as_json: bool = typer.Option(False, "--json", help="Print the edition's source as JSON."),
) -> None:
    """Show a rulebook edition: its rules, colours, durations and reasons."""
    built = services()
    with refusals_reported():
        if version is None:
            with built.db.read() as conn:
                rulebook = built.rulebooks.in_force(conn, built.clock.now())
        else:
            rulebook = built.rulebooks.edition(version).rulebook
    if as_json:
        console.print_json(json.dumps(rulebook.source, ensure_ascii=False))
        return
    console.print(
        f"[bold]{rulebook.title.en} / {rulebook.title.zh}[/bold]  digest {rulebook.digest[:16]}"
    )
    for rule in rulebook.rules:
        lasts = f" lasts {rule.lasts}" if rule.lasts else ""
        console.print(
            f"- {rule.id}: {rule.colour}{lasts}\n    {rule.reason.en}\n    {rule.reason.zh}"
        )
    console.print(f"- {rulebook.default_rule_id}: green otherwise")
