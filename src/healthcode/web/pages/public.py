"""Public pages: the rules, the risk designations and the transparency log, for anyone.

The log's own API (`/log/...`) is what monitors read; these pages show the same checkpoint,
its signers (the log and the witnesses that cosigned it), the latest entries, and for each
entry its bytes and a receipt that verifies offline against the log's key. The rules page
shows every published edition and what each changed.
"""

from __future__ import annotations

import base64
import difflib
import json
from itertools import pairwise

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from healthcode.errors import NotFound
from healthcode.store import registry as registry_repo
from healthcode.web.auth import PUBLIC_PAGE
from healthcode.web.pages.rendering import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC_PAGE)])

RECENT = 25


def _signers(note: str) -> list[str]:
    """The names on a signed note's signature lines ("— name base64")."""
    _text, _blank, signatures = note.partition("\n\n")
    return [line.split(" ")[1] for line in signatures.splitlines() if line.startswith("— ")]


@router.get("/public/log")
def log_page(request: Request) -> HTMLResponse:
    log = request.app.state.services.log
    latest, entries = log.recent(RECENT)
    return render(
        request,
        "public_log.html",
        checkpoint=latest,
        root=base64.b64encode(latest.root).decode(),
        signers=_signers(latest.note),
        vkey=log.vkey(),
        entries=entries,
    )


@router.get("/public/log/{index}")
def entry_page(request: Request, index: int) -> HTMLResponse:
    log = request.app.state.services.log
    if index < 0:
        raise NotFound("log.not_found", f"no entry {index}")
    receipt = log.receipt(index)
    if receipt is None:
        raise NotFound("log.not_found", f"entry {index} is not in a signed checkpoint yet")
    body = log.entry(index)
    return render(
        request,
        "public_entry.html",
        index=index,
        body=json.dumps(json.loads(body), ensure_ascii=False, indent=2),
        receipt=receipt,
        vkey=log.vkey(),
    )


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
    """Risk designations in force and past: area, level, period, the authority and its basis."""
    services = request.app.state.services
    now = services.clock.now()
    with services.db.read() as conn:
        designations = services.designations.all(conn)
        areas = registry_repo.all_areas(conn)
        authorities = registry_repo.authority_names(conn)
    rows = sorted(designations, key=lambda d: (d.valid_to is not None and d.valid_to <= now,
                                               -d.valid_from.timestamp()))  # fmt: skip
    return render(
        request, "public_designations.html", designations=rows, areas=areas,
        authorities=authorities, now=now,
    )  # fmt: skip


@router.get("/public/stats")
def stats_page(request: Request) -> HTMLResponse:
    """How many people hold each colour, per city, and the colour changes of the last 30 days."""
    services = request.app.state.services
    stats = services.public_stats.compute(services.clock.now())
    return render(request, "public_stats.html", stats=stats)
