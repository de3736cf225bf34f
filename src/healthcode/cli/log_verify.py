"""``healthcode log verify``: the monitor on the command line, in the operator's language.

A refusal prints its code with both catalogue messages and the monitor's detail, as the other
``log`` commands do. On a fork or split view the two signed checkpoints that prove it are
printed and saved beside the state file, so the operator can publish the proof.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx2
import typer

from healthcode.cli.context import console, errors
from healthcode.cli.language import cli_gettext
from healthcode.errors import CATALOGUE
from healthcode.services.clock import SystemClock
from healthcode.services.monitor import verify_log
from healthcode.services.monitor_errors import MonitorError


def _client() -> httpx2.Client:
    """The HTTP client of a run (tests replace it to reach an app in process)."""
    return httpx2.Client(timeout=30.0)


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
    _ = cli_gettext()
    base = url if url.endswith("/") else url + "/"
    with _client() as client:
        try:
            report = verify_log(
                base,
                state,
                verifier_key=key,
                witness_keys=witness,
                min_cosignatures=min_cosignatures,
                full=full,
                client=client,
            )
        except MonitorError as error:
            _refused(error, base, state, client, _)
            raise typer.Exit(1) from None
    if report.previous_size is None:
        since = _("first check")
    else:
        since = _("consistent with size %(size)d") % {"size": report.previous_size}
    console.print(
        _(
            "log %(origin)s verified at size %(size)d (%(since)s); %(entries)d entries "
            "re-hashed, %(cosignatures)d cosignatures"
        )
        % {
            "origin": report.origin,
            "size": report.size,
            "since": since,
            "entries": report.entries_verified,
            "cosignatures": len(report.cosigners),
        },
        markup=False,
    )


def _refused(
    error: MonitorError,
    base: str,
    state: Path,
    client: httpx2.Client,
    _: Callable[[str], str],
) -> None:
    spec = CATALOGUE[error.code]
    errors.print(f"[red]{error.code}[/red]: {spec.en} / {spec.zh}")
    errors.print(f"  {error.message}", markup=False, highlight=False)
    if error.code == "monitor.http":
        hint = _log_under(base, client)
        if hint is not None:
            errors.print(_("did you mean %(url)s ?") % {"url": hint}, markup=False)
    if error.evidence:
        saved = _save_evidence(error, base, state, _)
        errors.print(
            _("the checkpoint seen before and the one served now, which together prove it:")
        )
        for note in error.evidence:
            errors.print(note, markup=False, highlight=False, soft_wrap=True, end="")
        if saved is not None:
            errors.print(
                _("both signed checkpoints are saved in %(path)s: publish them as the proof")
                % {"path": saved},
                markup=False,
                soft_wrap=True,
            )


def _log_under(base: str, client: httpx2.Client) -> str | None:
    """``<base>log/`` if the URL is a server's root with a log under it, else None."""
    if base.rstrip("/").endswith("/log"):
        return None
    try:
        with client.stream("GET", base + "log/key") as response:
            return base + "log/" if response.status_code == 200 else None
    except httpx2.HTTPError:
        return None


def _save_evidence(
    error: MonitorError, base: str, state: Path, _: Callable[[str], str]
) -> Path | None:
    """Save the signed notes beside the state file, under a name no later run reuses."""
    found = SystemClock().now()
    path = state.with_name(f"{state.name}.{error.code}.{found:%Y%m%dT%H%M%S%fZ}.json")
    document = {
        "what": "two signed checkpoints of one log that no single append-only log can both have",
        "code": error.code,
        "detail": error.message,
        "log": base,
        "found_at": found.isoformat(),
        "checkpoints": list(error.evidence),
    }
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        # The state file's folder was writable a moment ago; if not now, say so but still
        # print the notes, which are the proof.
        reason = exc.strerror or str(exc)  # the system's words, as it gives them
        errors.print(
            "  " + _("cannot save %(path)s: %(reason)s") % {"path": path, "reason": reason},
            markup=False,
        )
        return None
    return path
