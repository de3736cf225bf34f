"""What every command needs: the services, built once per invocation from the environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from healthcode.bootstrap import Services, build
from healthcode.errors import HealthcodeError
from healthcode.settings import Settings

console = Console()
errors = Console(stderr=True)


def services(settings: Settings | None = None) -> Services:
    # A setting refused while building (e.g. a malformed HEALTHCODE_WITNESSES) is printed
    # as its code and messages, as any refusal, for every command that builds the services.
    with refusals_reported():
        return build(settings or Settings.from_env())


def settings_from_env() -> Settings:
    """The settings, a malformed one printed as ``settings.invalid`` (exit 2)."""
    with refusals_reported():
        return Settings.from_env()


@contextmanager
def refusals_reported() -> Iterator[None]:
    """Print a refusal as its code and both messages, and exit 2, instead of a traceback."""
    try:
        yield
    except HealthcodeError as error:
        errors.print(f"[red]{error.code}[/red]: {error.spec.en} / {error.spec.zh}")
        if error.detail:
            errors.print(f"  {error.detail}")
        sys.stdout.flush()
        raise typer.Exit(2) from None
