"""Public pages: the rules, the risk designations and the transparency log, for anyone.

The statistics page counts colours, orders, designations, appeals and oversight's work, with
its charts drawn on the server (`web/charts.py`). The log's own API (`/log/...`) is what
monitors read; these pages show the same checkpoint,
its signers (the log and the witnesses that cosigned it), the latest entries, and for each
entry its bytes and a receipt that verifies offline against the log's key. The rules page
shows every published edition and what each changed.
"""

from __future__ import annotations

import base64
import difflib
import json
import re
from collections.abc import Callable
from itertools import pairwise
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.errors import NotFound, StoreFault
from healthcode.oversight.api import detector_titles
from healthcode.services.log_reader import LogReader
from healthcode.store import registry as registry_repo
from healthcode.tlog import leaf_hash
from healthcode.web.auth import PUBLIC_PAGE
from healthcode.web.charts import note
from healthcode.web.i18n import gettext_for
from healthcode.web.pages.rendering import language, render
from healthcode.web.pages.stats_charts import appeals_chart, case_statuses, page_charts

router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC_PAGE)])

RECENT = 25


def _signers(note: str) -> list[str]:
    """The names on a signed note's signature lines ("— name base64")."""
    _text, _blank, signatures = note.partition("\n\n")
    return [line.split(" ")[1] for line in signatures.splitlines() if line.startswith("— ")]


def entry_kind_names(_: Callable[[str], str]) -> dict[str, str]:
    """Each entry kind's name for people (the id stays beside it, small); a test checks that
    every kind the code writes has one."""
    return {
        "evidence_batch": _("Evidence batch"),
        "designation": _("Risk designation"),
        "designation_cosign": _("Risk designation co-signed"),
        "designation_end": _("Risk designation ended"),
        "rulebook": _("Rulebook edition"),
        "rulebook_proposal": _("Rulebook edition proposed"),
        "registry": _("Registration"),
        "source_key_proposal": _("Source key change proposed"),
        "source_key_cosign": _("Source key change co-signed"),
        "source_key_withdrawal": _("Source key change withdrawn"),
        "jurisdiction_proposal": _("Wider jurisdiction proposed"),
        "jurisdiction_cosign": _("Wider jurisdiction co-signed"),
        "jurisdiction_withdrawal": _("Wider jurisdiction withdrawn"),
        "status_change": _("Status change"),
        "order": _("Order"),
        "order_cosign": _("Order co-signed"),
        "order_refusal": _("Bulk request refused"),
        "order_end": _("Order ended"),
        "access": _("Record read by someone else"),
        "guardianship": _("Guardian recorded by the operator"),
        "guardianship_end": _("Guardianship ended by the operator"),
        "staff_token": _("Staff token issued by the operator"),
        "staff_token_use": _("Act made with a staff token the operator issued"),
        "staff_password": _("Staff member chose their own password"),
        "staff_sign_in": _("Staff member signed in with their password"),
        "person_token": _("Person token issued by the operator"),
        "person_token_use": _("Act made with a person token the operator issued"),
        "venue_token": _("Venue device token issued by the operator"),
        "venue_token_use": _("Identity card checked with a venue device token"),
        "appeal_filed": _("Appeal filed"),
        "appeal_answered": _("Appeal answered"),
        "appeal_lapsed": _("Appeal lapsed unanswered"),
        "appeal_escalated": _("Appeal escalated to oversight"),
        "oversight_finding": _("Oversight finding"),
        "oversight_case_step": _("Oversight case step"),
        "retention_purge": _("Retention purge"),
        "regional_checkpoint": _("Regional log checkpoint"),
    }


@router.get("/public/log")
def log_page(
    request: Request,
    before: Annotated[int | None, Query(ge=0)] = None,
    entry: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The latest checkpoint and a page of entries: the newest, or those before ``before``
    (the older and newer pages link each other); ``entry`` opens that entry's page."""
    if entry is not None:
        return RedirectResponse(f"/public/log/{entry}", status_code=303)
    log = request.app.state.services.log
    latest, entries = log.recent(RECENT, before)
    end = latest.size if before is None else min(before, latest.size)  # past the page's last
    return render(
        request,
        "public_log.html",
        # The ``before`` of the older and newer pages, None where there is none.
        older=end - RECENT if end > RECENT else None,
        newer=end + RECENT if end < latest.size else None,
        checkpoint=latest,
        root=base64.b64encode(latest.root).decode(),
        signers=_signers(latest.note),
        vkey=log.vkey(),
        entries=entries,
        kind_names=entry_kind_names(gettext_for(language(request))),
        halt=log.halt(),
    )


def _entry_index(text: str) -> int | None:
    """A path segment as an entry index: decimal digits only (no sign, no spaces)."""
    if text.isascii() and text.isdigit() and len(text) <= 19:
        return int(text)
    return None


def _missing(request: Request, what: str, pending: bool = False) -> HTMLResponse:
    """The page for an entry that does not exist (or is not signed yet): HTML, 404; 503 if
    it never will be, the log having halted (the page says when and why)."""
    halt = request.app.state.services.log.halt() if pending else None
    return render(
        request, "public_missing.html", status_code=404 if halt is None else 503,
        what=what, pending=pending, halt=halt,
    )  # fmt: skip


def _receipt(log: LogReader, index: int) -> str | None:
    """The entry's receipt, None while it is not signed (or never will be: `_missing` says)."""
    try:
        return log.receipt(index)
    except StoreFault as fault:
        if fault.code != "log.halted":
            raise
        return None


def receipt_filename(origin: str, index: int) -> str:
    """``<origin-safe>-<index>.tlog-proof``: tlog-proof says proofs SHOULD be stored with the
    extension .tlog-proof; the origin, every character outside [A-Za-z0-9._] made a hyphen,
    tells which log it is for."""
    return f"{re.sub(r'[^A-Za-z0-9._]', '-', origin)}-{index}.tlog-proof"


@router.get("/public/log/{index}")
def entry_page(request: Request, index: str) -> HTMLResponse:
    """An entry's exact logged bytes (canonical JSON, shown as text), its leaf hash and its
    receipt; an index that is no entry is an HTML 404 page, not a JSON refusal."""
    log = request.app.state.services.log
    number = _entry_index(index)
    if number is None:
        return _missing(request, index)
    receipt = _receipt(log, number)
    try:
        body = log.entry(number)
    except NotFound:
        return _missing(request, index)
    if receipt is None:
        return _missing(request, index, pending=True)
    return render(
        request,
        "public_entry.html",
        index=number,
        body=body.decode("utf-8", errors="replace"),
        leaf=leaf_hash(body).hex(),
        receipt=receipt,
        receipt_name=receipt_filename(request.app.state.services.settings.log_origin, number),
        vkey=log.vkey(),
    )


@router.get("/public/log/{index}/receipt")
def entry_receipt(request: Request, index: str) -> Response:
    """The entry's receipt as a file, named ``<origin-safe>-<index>.tlog-proof``."""
    log = request.app.state.services.log
    number = _entry_index(index)
    receipt = None if number is None else _receipt(log, number)
    if number is None or receipt is None:
        return _missing(request, index, pending=number is not None and _exists(log, number))
    name = receipt_filename(request.app.state.services.settings.log_origin, number)
    return Response(
        receipt,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _exists(log: LogReader, index: int) -> bool:
    try:
        log.entry(index)
    except NotFound:
        return False
    return True


@router.get("/public/rules")
def rules_page(request: Request) -> HTMLResponse:
    """Every rulebook edition: the one in force with its rules, and each edition's changes
    against the one before it (a unified diff of the published source)."""
    services = request.app.state.services
    now = services.clock.now()
    with services.db.read() as conn:
        editions = services.rulebooks.editions(conn)
    if not editions:
        raise NotFound("rulebook.not_found", "no edition has been published")
    in_force = [e for e in editions if e.effective_from <= now]
    current = in_force[-1] if in_force else None
    changes = [
        (edition, _diff(before.rulebook.source, edition.rulebook.source))
        for before, edition in pairwise(editions)
    ]
    return render(
        request, "public_rules.html", editions=list(reversed(editions)), current=current,
        changes=list(reversed(changes)), now=now,
    )  # fmt: skip


def _diff(before: dict[str, object], after: dict[str, object]) -> str:
    def lines(source: dict[str, object]) -> list[str]:
        return json.dumps(source, ensure_ascii=False, indent=2, sort_keys=True).splitlines()

    return "\n".join(difflib.unified_diff(lines(before), lines(after), lineterm="", n=2))


@router.get("/public/designations")
def designations_page(request: Request) -> HTMLResponse:
    """Risk designations in force and past: area, level, period, the authority and its basis,
    and how each ended if it was ended early (cut short, or withdrawn as made in error)."""
    services = request.app.state.services
    now = services.clock.now()
    with services.db.read() as conn:
        designations = services.designations.all(conn)
        areas = registry_repo.all_areas(conn)
        authorities = registry_repo.authority_names(conn)
        venue_ids = {d.venue_id for d in designations if d.venue_id is not None}
        # A venue by its name and the area it stands in (a designation's area may be wider).
        names = registry_repo.venue_names(conn, venue_ids) if venue_ids else {}
        places = registry_repo.venue_areas(conn, venue_ids) if venue_ids else {}
    venues = {key: (name, areas.get(places.get(key, ""))) for key, name in names.items()}
    rows = sorted(designations, key=lambda d: (d.phase(now) == "ended", -d.valid_from.timestamp()))
    return render(
        request, "public_designations.html", designations=rows, areas=areas,
        authorities=authorities, venues=venues, now=now,
    )  # fmt: skip


@router.get("/public/stats")
def stats_page(request: Request) -> HTMLResponse:
    """Colours per city now and over the last 30 days, code changes, orders, designations,
    appeals and oversight, each count under the threshold hidden, with charts."""
    services = request.app.state.services
    stats = services.public_stats.latest(services.clock.now())
    lang = language(request)
    names, authorities = _names(request, lang)
    bases = {
        b.id: b.title.zh if lang == "zh" else b.title.en for b in services.orders.bases.values()
    }
    _ = gettext_for(lang)
    # A reader is told what each detector looks for by its registered title, not its code name.
    detectors = {name: zh if lang == "zh" else en for name, (zh, en) in detector_titles().items()}
    charts = page_charts(stats, _, names=names, authorities=authorities, detectors=detectors)
    return render(
        request, "public_stats.html", stats=stats, acts=stats.acts, charts=charts, names=names,
        authorities=authorities, bases=bases, case_statuses=case_statuses(_), detectors=detectors,
    )  # fmt: skip


@router.get("/public/stats/appeals.svg")
def appeals_chart_svg(request: Request) -> Response:
    """The appeals chart on its own, for the appeal statistics page to show as an image."""
    services = request.app.state.services
    lang = language(request)
    authorities = _names(request, lang)[1]
    appeals = services.public_stats.appeals()
    _ = gettext_for(lang)
    if appeals is None:
        svg = note("appeals-chart", _("Appeals per authority, by outcome"), _("None yet."))
    else:
        svg = appeals_chart(appeals, _, authorities)
    return Response(str(svg), media_type="image/svg+xml")


def _names(request: Request, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """Areas' and authorities' names in the reader's language."""
    with request.app.state.services.db.read() as conn:
        areas = registry_repo.all_areas(conn)
        authorities = registry_repo.authority_names(conn)
    pick = 0 if lang == "zh" else 1
    return (
        {code: (a.name_zh, a.name_en)[pick] for code, a in areas.items()},
        {key: names[pick] for key, names in authorities.items()},
    )
