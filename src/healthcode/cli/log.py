"""``healthcode log``: sequence, self-check, verify and export the transparency log, and collect
regional logs' checkpoints into the national one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import typer

from healthcode.cli import log_verify
from healthcode.cli.context import (
    console,
    errors,
    refusals_reported,
    services,
    settings_from_env,
)
from healthcode.cli.language import cli_gettext
from healthcode.errors import InputRejected
from healthcode.services.log_export import export_log
from healthcode.services.regions import Collected, RegionalCheckpoints
from healthcode.services.regions_config import Region, load_regions, regions_from_arguments

app = typer.Typer(help="The transparency log.", no_args_is_help=True)


@app.command("sequence")
def sequence() -> None:
    """Integrate committed entries, sign a checkpoint now and have the witnesses cosign it
    (the server does both continuously)."""
    _ = cli_gettext()
    built = services()
    built.places.seal_due(built.clock.now())  # scan batches of past seconds first
    signed = built.sequencer.integrate(now=built.clock.now())
    if signed is None:
        console.print(_("nothing new to sign (or the log is halted)"))
    else:
        console.print(_("signed checkpoint of size %(size)d") % {"size": signed.size})
    # The latest checkpoint, new or not: one a witness was down for is cosigned now.
    added = built.cosigning.collect()
    if built.cosigning.witnesses:
        lacking = [witness.url for witness in built.cosigning.missing()]
        console.print(
            _(
                "%(added)d cosignatures added; %(lacking)d of %(witnesses)d witnesses have not cosigned the latest checkpoint"
            )
            % {"added": added, "lacking": len(lacking), "witnesses": len(built.cosigning.witnesses)}
        )
        for url in lacking:
            errors.print(_("not cosigned by %(url)s") % {"url": url})


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


app.command("verify")(log_verify.verify)


@app.command("export")
def export(
    directory: Path = typer.Argument(..., file_okay=False, help="Where to write the files."),
    database_url: str = typer.Option(
        None, help="The store to export (default: $DATABASE_URL, else the data directory's)."
    ),
) -> None:
    """Write the log as static files laid out as tlog-tiles URLs, for any static file server."""
    _ = cli_gettext()
    if database_url:
        built = services(replace(settings_from_env(), database_url=database_url))
    else:
        built = services()
    with refusals_reported():
        report = export_log(built.log, directory)
    console.print(
        _(
            "exported the checkpoint of size %(size)d to %(dir)s: %(written)d tiles and "
            "bundles written, %(kept)d already there"
        )
        % {"size": report.size, "dir": directory, "written": report.written, "kept": report.kept}
    )


@app.command("collect")
def collect(
    urls: list[str] = typer.Argument(None, help="Regional logs' base URLs (URL/checkpoint, ...)."),
    key: list[str] = typer.Option(
        [], help="A region's verifier key (vkey), one per URL, in order."
    ),
    regions: Path = typer.Option(
        None, exists=True, dir_okay=False, help="A YAML file: regions: [{url: ..., key: ...}]."
    ),
) -> None:
    """Record regional logs' checkpoints in this (national) log, each proven consistent first."""
    _ = cli_gettext()
    built = services()
    with refusals_reported():
        listed: list[Region] = load_regions(regions) if regions else []
        listed += regions_from_arguments(urls or [], key)
        if not listed:
            raise InputRejected(
                "region.config_invalid", "name regions: URL... --key VKEY..., or --regions FILE"
            )
    results = RegionalCheckpoints(built.db, built.refusals).collect(listed, now=built.clock.now())
    for result in results:
        _print_collected(result, _)
    refused = sum(result.outcome == "refused" for result in results)
    recorded = sum(result.outcome == "recorded" for result in results)
    console.print(
        _("%(recorded)d of %(regions)d regions recorded, %(refused)d refused")
        % {"recorded": recorded, "regions": len(results), "refused": refused}
    )
    if refused:
        raise typer.Exit(2)


def _print_collected(result: Collected, _: Callable[[str], str]) -> None:
    where = {"url": result.region.url, "origin": result.region.origin}
    if result.outcome == "recorded":
        console.print(
            _(
                "%(url)s: recorded %(origin)s at size %(size)d (after %(previous)d) as "
                "entry %(index)d"
            )
            % {
                **where,
                "size": result.size,
                "previous": result.previous_size,
                "index": result.log_index,
            }
        )
    elif result.outcome == "unchanged":
        console.print(
            _("%(url)s: %(origin)s unchanged at size %(size)d") % {**where, "size": result.size}
        )
    else:
        assert result.refusal is not None
        error = result.refusal
        errors.print(
            f"{result.region.url}: [red]{error.code}[/red]: {error.spec.en} / {error.spec.zh}"
        )
        errors.print(f"  {error.detail}", markup=False)
        if result.evidence:
            errors.print(
                _("the recorded checkpoint and the one served now, which together prove it:")
            )
            for note in result.evidence:
                errors.print(note, markup=False, highlight=False)
