"""The transparency log, served exactly as C2SP tlog-tiles lays it out, plus receipts."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import PlainTextResponse, Response

from healthcode.errors import InputRejected
from healthcode.tlog import TlogError
from healthcode.web.api.schemas import BINARY, ERRORS, LogIndex
from healthcode.web.auth import PUBLIC

router = APIRouter(prefix="/log", tags=["transparency log"], dependencies=[Depends(PUBLIC)])

IMMUTABLE = "public, max-age=31536000, immutable"
# A canonical tlog-tiles path after ``tile/`` (what ``tlog.tilepath`` parses): a level 0..63 or
# ``entries``, the index in 3-digit groups with no leading ``x000``, and a partial width 1..255.
# Documented only: the parser refuses anything else as ``log.bad_path`` (400).
TILE_PATH = (
    r"^(entries|[0-9]|[1-5][0-9]|6[0-3])/"
    r"(x(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})/(x[0-9]{3}/){0,4})?[0-9]{3}"
    r"(\.p/([1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$"
)


@router.get("/key", response_class=PlainTextResponse)
def key(request: Request) -> PlainTextResponse:
    """The log's verifier key, as a C2SP signed-note vkey string."""
    return PlainTextResponse(request.app.state.services.log.vkey() + "\n")


@router.get("/checkpoint", response_class=PlainTextResponse, responses={404: {}})
def checkpoint(request: Request) -> PlainTextResponse:
    """The latest signed checkpoint (tlog-checkpoint), with the witnesses' cosignatures."""
    latest = request.app.state.services.log.latest()
    return PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"})


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": BINARY}}, 400: {}, 404: {}},
)
def tile(
    request: Request, path: Annotated[str, Path(json_schema_extra={"pattern": TILE_PATH})]
) -> Response:
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


@router.get(
    "/consistency/{old_size}/{new_size}", response_class=PlainTextResponse, responses=ERRORS
)
def consistency(request: Request, old_size: LogIndex, new_size: LogIndex) -> PlainTextResponse:
    """An RFC 9162 consistency proof between two signed sizes, one base64 hash per line."""
    proof = request.app.state.services.log.consistency(old_size, new_size)
    return PlainTextResponse("".join(base64.b64encode(h).decode() + "\n" for h in proof))
