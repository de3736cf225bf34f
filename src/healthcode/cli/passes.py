"""``healthcode pass`` (verify passes offline, export the trust list) and ``healthcode venue``
(a venue device's token, logged as the operator's, services/venue_tokens.py; a printable
static code; registering place keys up front)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from healthcode.cli.context import (
    console,
    errors,
    refusals_reported,
    services,
    settings_from_env,
)
from healthcode.credentials.passes import qr_png, raw_public_key
from healthcode.errors import HealthcodeError
from healthcode.services.offline import anchors_of, read_trust_list, verify_offline
from healthcode.services.pass_refusals import PassRefused
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.qr import read_qr_texts
from healthcode.services.trust_lists import b64url
from healthcode.settings import Settings
from healthcode.store import places as places_repo
from healthcode.store.database import Database

pass_app = typer.Typer(
    help="Status passes, identity cards and the trust list.", no_args_is_help=True
)
venue_app = typer.Typer(help="Venue devices and place codes.", no_args_is_help=True)


def _input_text(given: str) -> str:
    """The credential text: given directly, or in a text file, or in a PNG/JPEG's QR code."""
    path = Path(given)
    if not path.is_file():
        return given.strip()
    raw = path.read_bytes()
    if raw.startswith((b"\x89PNG", b"\xff\xd8")):
        with refusals_reported():
            texts = [t for t in read_qr_texts(raw) if t.startswith(("HCP1:", "HCI1:"))]
        if len(texts) != 1:
            raise typer.BadParameter(f"{len(texts)} pass or card codes found in the image")
        return texts[0]
    return raw.decode("utf-8", errors="replace").strip()


def _local_anchor(settings: Settings) -> list[str]:
    """This deployment's own trust anchor, derived from its places secret (read, never made)."""
    master = settings.data_dir / "keys" / "places.master"
    if not master.is_file():
        raise typer.BadParameter(f"no {master}: give the trust anchor with --anchor")
    anchor = DerivedKeys(master.read_bytes()).anchor().public_key()
    return [b64url(raw_public_key(anchor))]


def _instant(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 instant: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@pass_app.command("verify")
def verify(
    given: str = typer.Argument(..., metavar="TEXT|FILE", help="HCP1:/HCI1: text, or a file."),
    trust_list: Path = typer.Option(
        None,
        "--trust-list",
        exists=True,
        dir_okay=False,
        help="A cached signed trust list (GET /api/v1/trust-list); default: this deployment's.",
    ),
    anchor: list[str] = typer.Option(
        [], "--anchor", help="A trust anchor's public key (base64url); default: this deployment's."
    ),
    at: str = typer.Option(None, "--at", help="Verify as of this ISO 8601 instant (default: now)."),
) -> None:
    """Verify a pass or identity card offline: no network, nothing written (exit 1 if refused)."""
    settings = settings_from_env()
    text = _input_text(given)
    when = _instant(at)
    try:
        anchors = anchors_of(anchor or _local_anchor(settings))
        if trust_list is not None:
            document = trust_list.read_bytes()
        else:
            db = Database(settings.database_url)
            try:
                with db.read() as conn:
                    row = places_repo.latest_trust_list(conn)
            finally:
                db.dispose()
            if row is None:
                raise typer.BadParameter("this deployment has no trust list: give --trust-list")
            document = bytes(row.document)
        cached = read_trust_list(document, anchors)
        verdict = verify_offline(text, cached, when)
    except HealthcodeError as error:
        errors.print(f"[red]{error.code}[/red]: {error.spec.en} / {error.spec.zh}")
        if error.detail:
            errors.print(f"  {error.detail}")
        if isinstance(error, PassRefused) and error.reason is not None:
            errors.print(
                f"  reason: {error.reason.value}: {error.reason.message_en} / {error.reason.message_zh}"
            )
        raise typer.Exit(1) from None
    console.print(f"{verdict.kind} of {verdict.issuer} (trust list version {cached.version})")
    if verdict.colour is not None:
        console.print(f"colour: [bold]{verdict.colour}[/bold]")
    console.print(f"valid until: {verdict.valid_until.isoformat()}")
    console.print(f"masked name: {verdict.masked_name}")


@pass_app.command("trust-list")
def export_trust_list(
    out: Path = typer.Option(None, "--out", help="Write the signed list here (default: stdout)."),
) -> None:
    """Publish (if needed) and export the signed trust list, and print its anchor."""
    built = services()
    now = built.clock.now()
    with refusals_reported():
        built.trust_lists.ensure(built.trust_lists.all_issuers(), now)
    published = built.trust_lists.current()
    assert published is not None
    if out is None:
        print(published.document.decode())
    else:
        out.write_bytes(published.document)
    for public in built.trust_lists.anchors().values():
        errors.print(f"version {published.version}; anchor: {b64url(raw_public_key(public))}")


@venue_app.command("token")
def venue_token(
    venue_id: str = typer.Argument(..., help="The venue's id."),
    hours: int = typer.Option(
        24 * 30, help="How long the device stays signed in, in hours (1 to 2160: 90 days)."
    ),
) -> None:
    """Issue a registered venue's device token and print the link that signs the device in at
    /venue: logged as a venue_token entry, marked operator-issued, and listed on the venue's
    page."""
    built = services()
    # A number of hours no timedelta holds is refused like any other out of bounds.
    ttl = timedelta(hours=max(-(10**6), min(hours, 10**6)))
    with refusals_reported():
        token = built.venue_tokens.issue(venue_id, now=built.clock.now(), ttl=ttl)
    console.print(token, soft_wrap=True)
    console.print(
        f"http://{built.settings.host}:{built.settings.port}/venue/login?token={token}",
        soft_wrap=True,
    )


@venue_app.command("static-code")
def static_code(
    venue_id: str = typer.Argument(..., help="The venue's id."),
    png: Path = typer.Option(None, "--png", help="Also write the QR code as a PNG to print."),
) -> None:
    """A printed code for a place without a device: scans of it are never proof of presence."""
    built = services()
    with refusals_reported():
        view = built.places.static_code(venue_id, built.clock.now())
    console.print(view.text, soft_wrap=True)
    if png is not None:
        png.write_bytes(qr_png(view.text, scale=10))


@venue_app.command("prepare")
def prepare() -> None:
    """Register up front what places and passes need (it also happens on first use): a scan
    source per authority with venues, a key per venue, an issuer key per authority."""
    built = services()
    now = built.clock.now()
    with refusals_reported():
        made = built.places.ensure_registered(now)
        made["issuer_keys"] = built.trust_lists.ensure(built.trust_lists.all_issuers(), now)
    console.print(", ".join(f"{count} {name}" for name, count in made.items()))
