"""Public pages: the transparency log as anyone can browse and check it.

The log's own API (`/log/...`) is what monitors read; these pages show the same checkpoint,
its signers (the log and the witnesses that cosigned it), the latest entries, and for each
entry its bytes and a receipt that verifies offline against the log's key.
"""

from __future__ import annotations

import base64
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from healthcode.errors import NotFound
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
