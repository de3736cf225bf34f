"""The transparency log, served exactly as C2SP tlog-tiles lays it out, plus receipts."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from healthcode.errors import InputRejected
from healthcode.tlog import TlogError
from healthcode.web.auth import PUBLIC

router = APIRouter(prefix="/log", tags=["transparency log"], dependencies=[Depends(PUBLIC)])

IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/key", response_class=PlainTextResponse)
def key(request: Request) -> PlainTextResponse:
    """The log's verifier key, as a C2SP signed-note vkey string."""
    return PlainTextResponse(request.app.state.services.log.vkey() + "\n")


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request) -> PlainTextResponse:
    """The latest signed checkpoint (tlog-checkpoint), with the witnesses' cosignatures."""
    latest = request.app.state.services.log.latest()
    return PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"})


@router.get("/tile/{path:path}")
def tile(request: Request, path: str) -> Response:
    """Hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry bundles ``tile/entries/<N>[.p/<W>]``."""
    try:
        data, full = request.app.state.services.log.resource(f"tile/{path}")
    except TlogError as error:
        raise InputRejected("log.bad_path", error.message) from None
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": IMMUTABLE if full else "no-cache"},
    )


@router.get("/consistency/{old_size}/{new_size}", response_class=PlainTextResponse)
def consistency(request: Request, old_size: int, new_size: int) -> PlainTextResponse:
    """An RFC 9162 consistency proof between two signed sizes, one base64 hash per line."""
    proof = request.app.state.services.log.consistency(old_size, new_size)
    return PlainTextResponse("".join(base64.b64encode(h).decode() + "\n" for h in proof))
