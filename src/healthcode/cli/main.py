"""Top-level commands: serve, status, tick, and the admin, rules and demo groups."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from healthcode.cli import admin, dcc, log, oversight, passes, rules, sim
from healthcode.cli.context import console, errors, refusals_reported, services

app = typer.Typer(
    help="healthcode: health codes derived from signed evidence.", no_args_is_help=True
)
app.add_typer(admin.app, name="admin")
app.add_typer(rules.app, name="rules")
app.add_typer(dcc.app, name="dcc")
app.add_typer(log.app, name="log")
app.add_typer(oversight.app, name="oversight")
app.add_typer(passes.pass_app, name="pass")
app.add_typer(passes.venue_app, name="venue")
app.add_typer(sim.app, name="sim")


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to bind (default: $HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: $PORT or 8000)."),
) -> None:
    """Serve the API and the pages, with the status scheduler running."""
    import uvicorn

    from healthcode.store.durability import unsafe_settings
    from healthcode.web import logs
    from healthcode.web.app import create_app

    built = services()
    unsafe = unsafe_settings(built.db)
    if unsafe:
        # An acknowledged write must survive a crash; with these settings it might not.
        for problem in unsafe:
            errors.print(f"refusing to serve: {problem}")
        raise typer.Exit(2)
    try:
        # Before uvicorn's first line, so every line is JSON when asked (web/logs.py).
        logs.configure(built.settings.log_format)
    except ValueError as problem:
        errors.print(f"refusing to serve: {problem}")
        raise typer.Exit(2) from None
    json_logs = built.settings.log_format == "json"
    uvicorn.run(
        create_app(built),
        host=host or built.settings.host,
        port=port or built.settings.port,
        log_level="info",
        # JSON: keep the handlers just installed; uvicorn's own config would replace them.
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
        # Uvicorn's access lines carry raw paths and query strings (sign-in tokens, person
        # keys): never written. JSON mode logs each request by its route template instead.
        access_log=False,
    )


@app.command()
def status(person: str = typer.Argument(..., help="The person key.")) -> None:
    """Show a person's status, the rule that fired, its inputs and history."""
    built = services()
    with refusals_reported():
        view = built.explanations.explain(person, now=built.clock.now())
    s = view.status
    console.print(f"[bold]{s.colour}[/bold]  rule {s.rule_id} (edition {s.rulebook_version})")
    console.print(f"  {s.reason.en}\n  {s.reason.zh}")
    console.print(f"  valid until: {s.valid_until.isoformat() if s.valid_until else '-'}")
    for ref in s.inputs:
        console.print(f"  input: {ref}")
    table = Table("effective at", "colour", "rule", "cause")
    for change in view.history:
        table.add_row(
            change.effective_at.isoformat(), str(change.colour), change.rule_id, change.cause
        )
    console.print(table)


@app.command()
def witness(
    config: Path = typer.Option(
        ..., exists=True, dir_okay=False, help="The witness's YAML config."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8100, help="Port."),
) -> None:
    """Run a witness: cosign checkpoints of the configured logs only if consistent (tlog-witness)."""
    from healthcode.services.witness_serve import serve_witness

    with refusals_reported():
        serve_witness(config, host, port)


@app.command()
def tick() -> None:
    """Record every status change that has fallen due and purge what retention allows (for
    cron; the server does it too)."""
    built = services()
    with refusals_reported():
        changes = built.ticker.tick(now=built.clock.now())
    console.print(f"{changes} status changes recorded")
    purge = built.ticker.last_purge
    if purge is not None:
        console.print(
            f"retention (before {purge.cutoff.isoformat()}): purged {purge.evidence} evidence "
            f"records of {purge.batches} batches, {purge.notices} notices, "
            f"{purge.identity_cards} identity cards; kept {purge.held} under a legal hold and "
            f"{purge.in_use} a status rests on"
        )


@app.command()
def demo(
    people: int = typer.Option(100_000, help="How many residents to generate."),
    seed: int = typer.Option(7, help="Random seed: the same seed builds the same city."),
) -> None:
    """Build the synthetic demo city through the intake path (only into an empty database)."""
    import time

    from healthcode.sim.city import build_city

    built = services()
    started = time.perf_counter()
    with refusals_reported():
        summary = build_city(built, people=people, seed=seed, console=console)
    if summary.built:
        console.print(f"built the demo city in {time.perf_counter() - started:.1f} s")
    else:
        console.print("the database already holds a city; nothing was built")
    colours = Table("colour", "people", title=f"{summary.people} people")
    for colour, count in summary.by_colour.most_common():
        colours.add_row(colour, str(count))
    rules = Table("rule", "people")
    for rule, count in summary.by_rule.most_common():
        rules.add_row(rule, str(count))
    cities = Table("city", "green", "yellow", "red")
    for city, counts in sorted(summary.by_city.items()):
        cities.add_row(city, *(str(counts[c]) for c in ("green", "yellow", "red")))
    console.print(colours, rules, cities)
    console.print(
        "Sign in as a demo person of each colour (a link signs in once; run this again for new ones):"
    )
    for colour, link in summary.login_links.items():
        console.print(f"  {colour}: {link}", soft_wrap=True)
    console.print("Sign in as demo staff (Zhengzhou) or as a venue's device:")
    for who, link in summary.staff_links.items():
        console.print(f"  {who}: {link}", soft_wrap=True)
