"""``healthcode oversight``: run the detectors now, list the cases, move a case a step, open
log entries with oversight's key."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import typer
from rich.table import Table

from healthcode.bootstrap import Services
from healthcode.cli.context import console, errors, refusals_reported, services
from healthcode.cli.language import cli_gettext
from healthcode.errors import InputRejected
from healthcode.oversight import load_detectors
from healthcode.oversight.runner import DEFAULT_WINDOW
from healthcode.services.entry_opening import MAX_ENTRIES, load_oversight_key

PASSWORD_VARIABLE = "HEALTHCODE_STAFF_PASSWORD"

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
    """Move a case one step (open -> investigating -> referred -> closed); logged. The auditor
    signs in: their password is asked for (or read from HEALTHCODE_STAFF_PASSWORD)."""
    built = services()
    with refusals_reported():
        signed_in(built, by)
        view = built.oversight.move(by, case, status, note, now=built.clock.now())
    step = view.steps[-1]
    console.print(f"case {view.case.id} is {view.case.status} (log entry {step.log_index})")


@app.command("open-entry")
def open_entry(
    entries: list[str] = typer.Argument(..., help="Log indices, or ranges FIRST-LAST (inclusive)."),
    key: Path = typer.Option(
        ..., "--key", help="Oversight's X25519 private key file (never the server's master key)."
    ),
    auditor: str = typer.Option(
        ..., "--auditor", help="Your auditor badge: each person named is shown this read."
    ),
    people: list[str] = typer.Option(
        [], "--people", help="Try person tags against these person keys only (repeatable)."
    ),
) -> None:
    """Open log entries with oversight's key: whom each person tag, actor tag and commitment
    belongs to, from the escrows. Each person named gets an access record (oversight case).
    The auditor signs in: their password is asked for (or read from HEALTHCODE_STAFF_PASSWORD)."""
    _ = cli_gettext()
    built = services()
    with refusals_reported():
        signed_in(built, auditor)
        indices = _indices(entries)
        private = load_oversight_key(_key_bytes(key))
        opening = built.entry_opening.open(
            indices, private, auditor=auditor, now=built.clock.now(), people=people or None
        )
    unopened = _("no escrow of the people given opens it") if people else _("no escrow opens it")
    for entry in opening.entries:
        console.print(_("entry %(index)d: %(kind)s") % {"index": entry.index, "kind": entry.kind})
        if not entry.spots:
            console.print("  " + _("names no one"))
        for opened in entry.spots:
            spot = opened.spot
            owner = _owner(_, opened.owner) if opened.owner else unopened
            if spot.role == "commitment":
                owner = _("commitment under the secret of %(owner)s") % {"owner": owner}
                if opened.opens_to:
                    owner += " = " + opened.opens_to
            console.print(
                f"  {spot.field} {spot.value[:16]}… {owner}", soft_wrap=True, markup=False
            )
    console.print(
        _("%(opened)d of %(tried)d escrows tried opened")
        % {"opened": opening.escrows_opened, "tried": opening.escrows_tried}
    )
    if opening.access_entries:
        logged = ", ".join(str(index) for index in opening.access_entries)
        console.print(
            _(
                "recorded as %(auditor)s's read (oversight case) of each person named: access entries %(entries)s"
            )
            % {"auditor": auditor, "entries": logged},
            soft_wrap=True,
        )
    else:
        console.print(_("no person named: nothing recorded"))


def signed_in(built: Services, badge: str) -> None:
    """Check the password of the member of staff ``badge`` a command acts as, as the sign-in
    route does (throttled; `auth.invalid_token` if wrong): a case step or a read is logged as
    theirs, and whoever can run the command (the operator) must not make one in their name.
    The password is asked for, unseen, or read from HEALTHCODE_STAFF_PASSWORD (for scripts;
    never an argument, which every user of the machine can read)."""
    _ = cli_gettext()
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt(_("password of %(badge)s") % {"badge": badge}, hide_input=True)
    built.staff.authenticate(badge, password, now=built.clock.now())


def _owner(_: Callable[[str], str], escrow_key: str) -> str:
    kind, _sep, ident = escrow_key.partition(":")
    if kind == "staff":
        return _("staff %(id)s") % {"id": ident}
    if kind == "finding":
        return _("finding %(id)s") % {"id": ident}
    return _("person %(key)s") % {"key": escrow_key}


def _indices(given: list[str]) -> list[int]:
    indices: list[int] = []
    for text in given:
        first, dash, last = text.partition("-")
        if not (first.isdigit() and (not dash or last.isdigit())):
            raise InputRejected("request.malformed", f"{text!r}: an index, or FIRST-LAST")
        low, high = int(first), int(last) if dash else int(first)
        if high < low or high - low >= MAX_ENTRIES:
            raise InputRejected("request.too_large", f"{text!r}: at most {MAX_ENTRIES} entries")
        indices += range(low, high + 1)
    return indices


def _key_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputRejected(
            "oversight.key_malformed", f"cannot read it: {error.strerror}"
        ) from None
