"""The transparency log, served exactly as C2SP tlog-tiles lays it out, plus receipts."""

from __future__ import annotations

import base64
import gzip
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import PlainTextResponse, Response

from healthcode.errors import InputRejected, NotFound
from healthcode.tlog import TlogError
from healthcode.web.api.schemas import BINARY, ERRORS, STORE_FAULT, LogIndex
from healthcode.web.auth import PUBLIC
from healthcode.web.errors import error_response

router = APIRouter(prefix="/log", tags=["transparency log"], dependencies=[Depends(PUBLIC)])

IMMUTABLE = "public, max-age=31536000, immutable"
# tlog-tiles: "Entry bundles SHOULD be compressed at the HTTP layer." One under this size gains
# little from it (a few entries), so it is sent as it is.
GZIP_AT_LEAST = 1024
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


def _head(request: Request, response: Response) -> Response:
    """A HEAD answer: the GET's status and headers (its length too), without the body."""
    if request.method != "HEAD":
        return response
    headers = {**response.headers, "content-length": str(len(response.body))}
    return Response(b"", status_code=response.status_code, headers=headers)


# RFC 9110 12.4.2: a qvalue is 0 to 1 with at most three decimals.
QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def _qvalues(header: str) -> dict[str, float]:
    """Each coding Accept-Encoding names, lower-cased, with its qvalue (the first if named
    twice); an item with a malformed qvalue is left out, as if not sent."""
    found: dict[str, float] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        q = next((v.strip() for k, _, v in (p.partition("=") for p in params)
                  if k.strip().lower() == "q"), "1")  # fmt: skip
        if name and QVALUE.fullmatch(q):
            found.setdefault(name.lower(), float(q))
    return found


def _gzip_wanted(header: str | None, length: int) -> bool:
    """Whether to gzip a bundle of ``length`` bytes (RFC 9110 12.5.3): a coding named takes
    its own qvalue and ``*`` stands only for those not named, so ``*, gzip;q=0`` refuses gzip.
    A small bundle is gzipped only if identity is refused (``identity;q=0``, or ``*;q=0``
    without identity named). No header at all: sent as it is, which every client reads.
    (werkzeug parses this too, but only the test tools bring it: not a dependency here.)"""
    if header is None:
        return False
    q = _qvalues(header)
    gzip_q = q.get("gzip", q.get("x-gzip", q.get("*", 0.0)))  # x-gzip: RFC 9110 8.4.1.3
    identity_q = q.get("identity", q.get("*", 1.0))
    return gzip_q > 0 and (length >= GZIP_AT_LEAST or identity_q == 0)


def _not_yet(error: NotFound) -> Response:
    """A 404 for what is not signed yet, which a cache must not keep (some CDNs keep a 404
    for a while): the same path is served, immutable, once a checkpoint covers it."""
    response = error_response(error)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/checkpoint", response_class=PlainTextResponse, responses={404: {}})
def checkpoint(request: Request) -> Response:
    """The latest signed checkpoint (tlog-checkpoint), with the witnesses' cosignatures."""
    try:
        latest = request.app.state.services.log.latest()
    except NotFound as error:  # none signed yet
        return _head(request, _not_yet(error))
    return _head(request, PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"}))


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": BINARY}},
        400: {},
        404: {},
        **STORE_FAULT,
    },
)
def tile(
    request: Request, path: Annotated[str, Path(json_schema_extra={"pattern": TILE_PATH})]
) -> Response:
    """Hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry bundles ``tile/entries/<N>[.p/<W>]``.

    Every one is immutable, partial ones too (tlog-tiles): a resource is served only when the
    signed tree covers all of it, and stored hashes and entries are never rewritten, so
    ``.p/W`` has the same bytes for good; what is not signed yet is a 404, ``no-store``.
    """
    try:
        data, _full = request.app.state.services.log.resource(f"tile/{path}")
    except TlogError as error:
        raise InputRejected("log.bad_path", error.message) from None
    except NotFound as error:
        return _head(request, _not_yet(error))
    headers = {"Cache-Control": IMMUTABLE}
    if path.startswith("entries/"):
        headers["Vary"] = "Accept-Encoding"  # a cache keeps the gzipped and plain apart
        if _gzip_wanted(request.headers.get("accept-encoding"), len(data)):
            data = gzip.compress(data, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return _head(request, Response(data, media_type="application/octet-stream", headers=headers))


# HEAD answers as GET does, without the body (the functions above drop it). Routes of their own,
# out of the schema: one route with both methods would give OpenAPI two operations one id.
for _path, _endpoint in (("/checkpoint", checkpoint), ("/tile/{path:path}", tile)):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)


@router.get(
    "/consistency/{old_size}/{new_size}", response_class=PlainTextResponse, responses=ERRORS
)
def consistency(request: Request, old_size: LogIndex, new_size: LogIndex) -> PlainTextResponse:
    """An RFC 9162 consistency proof between two signed sizes, one base64 hash per line."""
    proof = request.app.state.services.log.consistency(old_size, new_size)
    return PlainTextResponse("".join(base64.b64encode(h).decode() + "\n" for h in proof))
