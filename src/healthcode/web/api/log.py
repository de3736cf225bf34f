"""The transparency log, served exactly as C2SP tlog-tiles lays it out, plus receipts."""

from __future__ import annotations

import base64
import gzip
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import PlainTextResponse, Response

from healthcode.errors import InputRejected
from healthcode.tlog import TlogError
from healthcode.web.api.schemas import BINARY, ERRORS, LogIndex
from healthcode.web.auth import PUBLIC

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


def _accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding allows gzip (named, or ``*``, with a q-value above 0)."""
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name.lower() not in ("gzip", "*"):
            continue
        q = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(q) > 0:
                return True
        except ValueError:
            continue
    return False


@router.get("/checkpoint", response_class=PlainTextResponse, responses={404: {}})
def checkpoint(request: Request) -> Response:
    """The latest signed checkpoint (tlog-checkpoint), with the witnesses' cosignatures."""
    latest = request.app.state.services.log.latest()
    return _head(request, PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"}))


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": BINARY}}, 400: {}, 404: {}},
)
def tile(
    request: Request, path: Annotated[str, Path(json_schema_extra={"pattern": TILE_PATH})]
) -> Response:
    """Hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry bundles ``tile/entries/<N>[.p/<W>]``.

    Every one is immutable, partial ones too (tlog-tiles): a resource is served only when the
    signed tree covers all of it, and stored hashes and entries are never rewritten, so
    ``.p/W`` has the same bytes for good; what is not signed yet is a 404, never cached long.
    """
    try:
        data, _full = request.app.state.services.log.resource(f"tile/{path}")
    except TlogError as error:
        raise InputRejected("log.bad_path", error.message) from None
    headers = {"Cache-Control": IMMUTABLE}
    if path.startswith("entries/"):
        headers["Vary"] = "Accept-Encoding"  # a cache keeps the gzipped and plain apart
        if len(data) >= GZIP_AT_LEAST and _accepts_gzip(request.headers.get("accept-encoding", "")):
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
