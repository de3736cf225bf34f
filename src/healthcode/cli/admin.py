"""``healthcode admin``: set up a deployment, load the registry (proposing what needs a
supervisor's co-signature), propose source keys, mint tokens (each logged as the operator's:
a staff member's, services/staff.py; a person's, services/person_tokens.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import typer
import yaml
from rich.markup import escape
from sqlalchemy import make_url

from healthcode.bootstrap import build
from healthcode.cli.context import (
    console,
    errors,
    refusals_reported,
    services,
    settings_from_env,
)
from healthcode.cli.language import cli_gettext
from healthcode.domain.person_tokens import BEARER, LOGIN_LINK
from healthcode.domain.source_keys import KeyChange
from healthcode.services.backup import BackupError
from healthcode.services.backup import backup as backup_store
from healthcode.services.backup import restore as restore_store
from healthcode.services.rulebooks import default_edition_source
from healthcode.store.database import Database

app = typer.Typer(help="Operator commands.", no_args_is_help=True)


@app.command()
def init() -> None:
    """Create or migrate the schema and publish the default rulebook if none is published."""
    _ = cli_gettext()
    built = services()
    with refusals_reported(), built.db.write() as conn:
        if not built.rulebooks.editions(conn):
            edition = built.rulebooks.publish(conn, default_edition_source(), now=built.clock.now())
            console.print(
                _("published rulebook edition %(version)s") % {"version": edition.rulebook.version}
            )
    console.print(_("store ready: %(dialect)s") % {"dialect": built.db.dialect})


@app.command()
def load(config: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Register areas, authorities, sources and venues from a YAML config file. Once an
    authority has had a supervisor, a new source of it or a wider jurisdiction for it is proposed
    instead, and counts once a supervisor of the authority co-signs it."""
    _ = cli_gettext()
    built = services()
    data = yaml.safe_load(config.read_text())
    staff = data.pop("staff", []) if isinstance(data, dict) else []
    with refusals_reported():
        members = built.staff.prepare(staff)  # checked and hashed before the write lock
        # The instant after the hashing, which takes a while for a long file: a password set
        # at it ends every sign-in before it (web/auth.py), those made meanwhile included.
        now = built.clock.now()
        # One transaction: a member refused leaves none of the file's registrations behind.
        # The registry first, so staff the file adds co-sign nothing this file proposes.
        with built.db.write() as conn:
            loaded = built.registry.load_in(conn, data, now=now)
            counts = loaded.counts
            counts["staff"] = built.staff.register_in(conn, members, now=now)
    console.print(
        _("%(areas)d areas, %(authorities)d authorities, %(sources)d sources, %(venues)d venues, %(staff)d staff")
        % counts
    )  # fmt: skip
    for change in loaded.proposed:
        what = (
            _("new source %(source)s") % {"source": change.source_id}
            if isinstance(change, KeyChange)
            else _("wider jurisdiction %(codes)s")
            % {"codes": " ".join(sorted(change.jurisdiction))}
        )
        console.print(
            _("proposed %(change)s, %(what)s: it counts once a supervisor of %(authority)s co-signs it, before %(expires)s")
            % {"change": change.id, "what": what, "authority": change.authority_id,
               "expires": change.expires_at.isoformat()}
        )  # fmt: skip


@app.command("propose-key")
def propose_key(
    source: str = typer.Argument(..., help="The registered source's id."),
    public_key: str = typer.Argument(..., help="Base64 of its new raw 32-byte Ed25519 key."),
    kinds: str = typer.Option(
        "", help="The kinds it may submit afterwards, comma-separated (default: its own)."
    ),
) -> None:
    """Propose a source's new key (and kinds): it counts once a supervisor of the source's
    authority co-signs it, in the console or the API, before it expires."""
    _ = cli_gettext()
    built = services()
    wanted = [kind for kind in kinds.replace(",", " ").split() if kind] or None
    with refusals_reported():
        change = built.source_keys.propose(None, source, public_key, wanted, now=built.clock.now())
    console.print(
        _("proposed %(change)s: %(source)s awaits the co-signature of a supervisor of %(authority)s until %(expires)s")
        % {"change": change.id, "source": change.source_id, "authority": change.authority_id,
           "expires": change.expires_at.isoformat()}
    )  # fmt: skip


@app.command("withdraw-key")
def withdraw_key(change: str = typer.Argument(..., help="The key change's id.")) -> None:
    """Withdraw a pending key change (logged)."""
    _ = cli_gettext()
    built = services()
    with refusals_reported():
        withdrawn = built.source_keys.withdraw(None, change, now=built.clock.now())
    console.print(
        _("withdrew %(change)s (%(source)s)")
        % {"change": withdrawn.id, "source": withdrawn.source_id}
    )


@app.command("withdraw-jurisdiction")
def withdraw_jurisdiction(
    change: str = typer.Argument(..., help="The jurisdiction change's id."),
) -> None:
    """Withdraw a pending wider jurisdiction a load proposed (logged)."""
    _ = cli_gettext()
    built = services()
    with refusals_reported():
        withdrawn = built.jurisdiction_changes.withdraw(None, change, now=built.clock.now())
    console.print(
        _("withdrew %(change)s (%(authority)s)")
        % {"change": withdrawn.id, "authority": withdrawn.authority_id}
    )


@app.command("staff-token")
def staff_token(
    badge: str = typer.Argument(..., help="The staff member's id (an official's badge)."),
    minutes: int = typer.Option(15, help="How long the token stays valid (1 to 720)."),
) -> None:
    """Issue a staff bearer token without the member's password (staff normally sign in):
    logged as a staff_token entry, marked operator-issued, and each co-signature, refusal or
    case step made with it is logged as made with it, for oversight to see."""
    built = services()
    # A number of minutes no timedelta holds is refused like any other out of bounds.
    ttl = timedelta(minutes=max(-(10**6), min(minutes, 10**6)))
    with refusals_reported():
        token = built.staff.issue_token(badge, now=built.clock.now(), ttl=ttl)
    print(token)


@app.command()
def guardian(
    guardian_key: str = typer.Argument(..., help="The guardian's person key."),
    dependant_key: str = typer.Argument(..., help="The dependant's person key."),
    end: bool = typer.Option(False, "--end", help="End the guardianship instead."),
) -> None:
    """Record that a person is guardian of a dependant (a child, a relative without a phone),
    or with --end end it: either is a log entry naming both, and the dependant sees it."""
    _ = cli_gettext()
    built = services()
    with refusals_reported():
        if end:
            built.guardianships.end(guardian_key, dependant_key, now=built.clock.now())
            console.print(_("guardianship ended (logged)"))
        elif built.guardianships.record(guardian_key, dependant_key, now=built.clock.now()):
            console.print(_("guardianship recorded (logged)"))
        else:
            console.print(_("guardianship already recorded: nothing written"))


@app.command()
def token(
    person: str = typer.Argument(..., help="The person key."),
    hours: int = typer.Option(24, help="How long the tokens stay valid (1 to 168 hours)."),
) -> None:
    """Issue a registered person's bearer token (EdDSA JWT, for the API) and, apart, a login
    link (it signs in once and is no bearer token, so it holds a token of its own): each is
    logged as a person_token entry, marked operator-issued, and listed on the person's page."""
    built = services()
    # A number of hours no timedelta holds is refused like any other out of bounds.
    ttl = timedelta(hours=max(-(10**6), min(hours, 10**6)))
    with refusals_reported():
        bearer, link = built.person_tokens.issue(
            person, [BEARER, LOGIN_LINK], now=built.clock.now(), ttl=ttl
        )
    console.print(bearer, soft_wrap=True)
    console.print(
        f"http://{built.settings.host}:{built.settings.port}/login?token={link}", soft_wrap=True
    )


def _reason(error: BackupError, _: Callable[[str], str]) -> dict[str, str]:
    """Why, in the operator's language: `BackupError.detail` is a Detail, its template in
    the catalogues and its parameters (a path, what a tool said) filled in after."""
    detail = error.detail
    said = _(detail.template)
    return {"reason": said % detail.params if detail.params else said}


@app.command()
def backup(
    path: Path = typer.Argument(..., help="Where to write the backup (must not exist)."),
) -> None:
    """Back up the store while the server runs: SQLite's online backup API, or pg_dump."""
    _ = cli_gettext()
    settings = settings_from_env()
    db = Database(settings.database_url)
    try:
        made = backup_store(db, path)
    except BackupError as error:
        # Not markup: a path or a tool's words may hold what rich would read as markup.
        errors.print(
            _("backup failed: %(reason)s") % _reason(error, _), markup=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    where = {"backend": made.backend, "path": made.path, "size": made.size, "schema": made.schema}
    done = (
        _("backed up the %(backend)s store (schema %(schema)s) to %(path)s: %(size)d bytes")
        if made.schema
        else _("backed up the %(backend)s store to %(path)s: %(size)d bytes")
    )
    console.print(done % where, markup=False, soft_wrap=True)


@app.command()
def restore(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A backup file."),
    to: str = typer.Option(
        ..., "--to", help="The new store: sqlite:///NEW-FILE, or an empty PostgreSQL database URL."
    ),
) -> None:
    """Restore a backup into a new store, then run the log self-check on the copy."""
    _ = cli_gettext()
    try:
        restore_store(path, to)
    except BackupError as error:
        errors.print(
            _("restore failed: %(reason)s") % _reason(error, _), markup=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    settings = replace(settings_from_env(), database_url=to)
    with refusals_reported():  # e.g. the key files not restored beside the copy
        restored = build(settings, migrate=False)
    try:
        report = restored.self_check.run(now=restored.clock.now(), halt=False)
    finally:
        restored.db.dispose()
    if not report.ok:
        for problem in report.problems:  # the self-check's findings, for operators
            errors.print(f"[red]{escape(problem)}[/red]")
        errors.print(_("the restored copy does not pass the self-check"))
        raise typer.Exit(1)
    # The URL as given may hold the database's password: it is shown masked (***).
    shown = make_url(to).render_as_string(hide_password=True)
    console.print(
        _("restored to %(url)s: self-check passed, %(entries)d entries, checkpoint size %(size)d")
        % {"url": shown, "entries": report.entries, "size": report.checkpoint_size},
        markup=False,
        soft_wrap=True,
    )
