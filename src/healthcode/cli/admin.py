"""``healthcode admin``: set up a deployment, load the registry, mint tokens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
import yaml

from healthcode.cli.context import console, refusals_reported, services
from healthcode.services.rulebooks import default_edition_source
from healthcode.services.tokens import PERSON_AUDIENCE

app = typer.Typer(help="Operator commands.", no_args_is_help=True)


@app.command()
def init() -> None:
    """Create or migrate the schema and publish the default rulebook if none is published."""
    built = services()
    with refusals_reported(), built.db.write() as conn:
        if not built.rulebooks.editions(conn):
            edition = built.rulebooks.publish(conn, default_edition_source(), now=built.clock.now())
            console.print(f"published rulebook edition {edition.rulebook.version}")
    console.print(f"store ready: {built.db.dialect}")


@app.command()
def load(config: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Register areas, authorities, sources and venues from a YAML config file."""
    built = services()
    with refusals_reported():
        counts = built.registry.load(yaml.safe_load(config.read_text()), now=built.clock.now())
    console.print(", ".join(f"{count} {name}" for name, count in counts.items()))


@app.command()
def token(
    person: str = typer.Argument(..., help="The person key."),
    hours: int = typer.Option(24, help="How long the token stays valid."),
) -> None:
    """Mint a person's sign-in token (EdDSA JWT) and print a login link."""
    built = services()
    minted = built.tokens.mint(
        person,
        role="person",
        audience=PERSON_AUDIENCE,
        now=built.clock.now(),
        ttl=timedelta(hours=hours),
    )
    console.print(minted, soft_wrap=True)
    console.print(
        f"http://{built.settings.host}:{built.settings.port}/login?token={minted}", soft_wrap=True
    )
