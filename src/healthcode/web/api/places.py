"""Place codes, scans, status passes, identity cards and the trust list, over HTTP.

Venue-facing answers (`/api/v1/venue/*`) carry a colour, a validity and a masked name, or a
place code: never a reason, a rule, evidence, a full name or a person key (invariant 7; a
test inspects every one of them).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError

from healthcode.credentials.passes import RevocationReason, qr_png, qr_svg, raw_public_key
from healthcode.errors import InputRejected, Unauthorized
from healthcode.services.passes import VenueAnswer
from healthcode.services.place_codes import PlaceCodeView
from healthcode.services.places import ScanResult
from healthcode.services.qr import read_qr_texts
from healthcode.services.scan_proofs import ScanProof
from healthcode.web.api.officials import actor
from healthcode.web.api.schemas import (
    ERRORS,
    PICTURES,
    PNG,
    Bilingual,
    Closed,
    closed_list,
    text_or_image_body,
)
from healthcode.web.auth import PERSON, PUBLIC, Caller, access
from healthcode.web.cards import card_png
from healthcode.web.checkpoints import carry_checkpoint

VENUE = access("venue", scope="venue")
SUPERVISOR = access("supervisor", scope="jurisdiction")
MAX_TEXT = 4096
MAX_UPLOAD = 5 * 1024 * 1024

venue_router = APIRouter(prefix="/api/v1/venue", tags=["venues"])
person_router = APIRouter(prefix="/api/v1", tags=["persons"])
trust_router = APIRouter(prefix="/api/v1/trust-list", tags=["trust list"])

Format = Literal["json", "png", "svg"]


# --- bodies -------------------------------------------------------------------------------


class PlaceCodeOut(BaseModel):
    venue_id: str
    venue_name: Bilingual
    text: str
    static: bool
    window: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    refresh_seconds: float | None
    svg: str


class VenueAnswerOut(BaseModel):
    """All a venue learns: a colour, until when, a masked name."""

    colour: str
    valid_until: datetime
    masked_name: str


class PassCheckIn(Closed):
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class CardCheckIn(Closed):
    card: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class ScanIn(Closed):
    code: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class ScanOut(BaseModel):
    """What a scan answers: the screen staff look at, and nothing more."""

    colour: str
    venue_name: Bilingual
    at: datetime


class ScanProofOut(BaseModel):
    source_id: str
    record_id: str
    batch_id: str
    record: str  # the canonical record (RFC 8785 JSON); its leaf hash is the batch leaf
    leaf_index: int
    batch_size: int
    inclusion: list[str]  # hex, RFC 9162 inclusion proof of the leaf in batch_root
    batch_root: str  # hex
    log_index: int
    entry: str  # the evidence_batch log entry, whose "root" is batch_root
    receipt: str  # c2sp.org/tlog-proof of the entry


class PassOut(BaseModel):
    text: str
    colour: str
    valid_until: datetime
    masked_name: str
    issuer: str
    svg: str


class CardOut(BaseModel):
    text: str
    masked_name: str
    valid_until: datetime
    issuer: str


class AnchorOut(BaseModel):
    key_id: str  # base64url
    public_key: str  # base64url, raw Ed25519


class AnchorsOut(BaseModel):
    anchors: list[AnchorOut]


class RevokeKeyIn(Closed):
    reason: Annotated[
        str, Field(max_length=32, json_schema_extra=closed_list(r.value for r in RevocationReason))
    ]


class RevokedOut(BaseModel):
    key_id: str
    reason: str
    trust_list_version: int


# --- helpers ------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def qr_answer(text: str, fmt: Format, body: BaseModel | None = None) -> Any:
    """The QR code of `text` as PNG or SVG, or the JSON `body`."""
    if fmt == "png":
        return Response(qr_png(text, scale=8), media_type="image/png", headers=_NO_STORE)
    if fmt == "svg":
        return Response(qr_svg(text, scale=8), media_type="image/svg+xml", headers=_NO_STORE)
    return body


_NO_STORE = {"Cache-Control": "no-store"}


def venue_answer(answer: VenueAnswer) -> VenueAnswerOut:
    return VenueAnswerOut(
        colour=answer.colour, valid_until=answer.valid_until, masked_name=answer.masked_name
    )


def place_code_out(view: PlaceCodeView, refresh: float | None) -> PlaceCodeOut:
    return PlaceCodeOut(
        venue_id=view.venue.id,
        venue_name=Bilingual(zh=view.venue.name_zh, en=view.venue.name_en),
        text=view.text,
        static=view.window is None,
        window=view.window,
        valid_from=view.valid_from,
        valid_until=view.valid_until,
        refresh_seconds=refresh,
        svg=qr_svg(view.text, scale=8).decode(),
    )


def scan_out(result: ScanResult) -> ScanOut:
    return ScanOut(
        colour=result.colour,
        venue_name=Bilingual(zh=result.venue.name_zh, en=result.venue.name_en),
        at=result.at,
    )


def proof_out(proof: ScanProof) -> ScanProofOut:
    return ScanProofOut(
        source_id=proof.source_id,
        record_id=proof.record_id,
        batch_id=proof.batch_id,
        record=proof.record.decode(),
        leaf_index=proof.leaf_index,
        batch_size=proof.batch_size,
        inclusion=[h.hex() for h in proof.inclusion],
        batch_root=proof.batch_root.hex(),
        log_index=proof.log_index,
        entry=proof.entry.decode(),
        receipt=proof.receipt,
    )


def first_code(image: bytes, prefixes: tuple[str, ...]) -> str:
    """The first QR text in an uploaded image that starts with one of `prefixes`."""
    for text in read_qr_texts(image):
        if text.startswith(prefixes):
            return text
    raise InputRejected("pass.no_code")


async def text_or_image(request: Request, field: str, prefixes: tuple[str, ...]) -> str:
    """The credential text of a JSON body `{field: ...}` or of a multipart form (a `field`
    text, or an `image` whose QR code is read with zxing-cpp)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_UPLOAD + 65_536:
        raise InputRejected("request.too_large")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await form_text(request, field, prefixes)
    try:
        body = await request.json()
    except ValueError:
        raise InputRejected("request.malformed", "a JSON body or a multipart form") from None
    model = CardCheckIn if field == "card" else PassCheckIn
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputRejected("request.malformed", f"{where}: {first['type']}") from None
    return str(getattr(parsed, field)).strip()


async def form_text(request: Request, field: str, prefixes: tuple[str, ...]) -> str:
    """A form's `field` text, or the QR text of its `image` upload (closed afterwards)."""
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("image")
        data = b""
        if upload is not None and not isinstance(upload, str):
            data = await upload.read(MAX_UPLOAD + 1)
        value = form.get(field)
    if data:
        return await run_in_threadpool(first_code, data, prefixes)
    if isinstance(value, str) and value.strip():
        if len(value) > MAX_TEXT:
            raise InputRejected("request.too_large")
        return value.strip()
    raise InputRejected("request.malformed", f"{field} or image is required")


def _guardian_of(request: Request, caller: Caller, person_key: str) -> str:
    if person_key not in request.app.state.services.identity.dependants(str(caller.subject)):
        raise Unauthorized("auth.forbidden", "not your dependant")
    return person_key


# --- venues -------------------------------------------------------------------------------


@venue_router.get("/place-code", response_model=PlaceCodeOut, responses=ERRORS | PICTURES)
def place_code(
    request: Request, venue: Annotated[Caller, Depends(VENUE)], format: Format = "json"
) -> Any:
    """The venue's current rotating place code (JSON with an SVG, or `format=png|svg`)."""
    services = request.app.state.services
    view = services.places.current_code(str(venue.subject), services.clock.now())
    refresh = services.places.policy.code_interval.total_seconds() / 2
    return qr_answer(view.text, format, place_code_out(view, refresh))


@venue_router.get("/place-code/static", response_model=PlaceCodeOut, responses=ERRORS | PICTURES)
def static_place_code(
    request: Request, venue: Annotated[Caller, Depends(VENUE)], format: Format = "json"
) -> Any:
    """A printable code for the venue: scanning it never proves presence."""
    services = request.app.state.services
    view = services.places.static_code(str(venue.subject), services.clock.now())
    return qr_answer(view.text, format, place_code_out(view, None))


@venue_router.post(
    "/pass-check",
    response_model=VenueAnswerOut,
    responses=ERRORS,
    openapi_extra=text_or_image_body("text", PassCheckIn.model_json_schema(), MAX_TEXT),
)
async def pass_check(request: Request, _venue: Annotated[Caller, Depends(VENUE)]) -> VenueAnswerOut:
    """Check a status pass (JSON `text`, or a multipart `text` or `image`): colour, validity
    and masked name only. Checked against the trust list, as an offline device would."""
    services = request.app.state.services
    text = await text_or_image(request, "text", ("HCP1:",))
    answer = await run_in_threadpool(services.passes.check_pass, text, services.clock.now())
    return venue_answer(answer)


@venue_router.post(
    "/identity-check",
    response_model=VenueAnswerOut,
    responses=ERRORS,
    openapi_extra=text_or_image_body("card", CardCheckIn.model_json_schema(), MAX_TEXT),
)
async def identity_check(
    request: Request, venue: Annotated[Caller, Depends(VENUE)]
) -> VenueAnswerOut:
    """Exchange a printed identity card (JSON `card`, or a multipart `card` or `image`) for
    the holder's current colour; the read is recorded and shown to the holder."""
    services = request.app.state.services
    text = await text_or_image(request, "card", ("HCI1:",))
    now = services.clock.now()
    where = await run_in_threadpool(services.places.venue, str(venue.subject), now)
    answer = await run_in_threadpool(services.passes.check_card, where, text, now)
    return venue_answer(answer)


# --- persons ------------------------------------------------------------------------------


@person_router.post("/scans", response_model=ScanOut, responses=ERRORS)
async def scan(
    request: Request,
    response: Response,
    body: ScanIn,
    person: Annotated[Caller, Depends(PERSON)],
) -> ScanOut:
    """Scan a venue's place code: a visit is recorded, proven only if the code was fresh.
    The answer is what staff look at; the `Link` header points at the scan's proof."""
    services = request.app.state.services
    # Checked and written by the places' scan thread, with the scans submitted alongside it
    # (services/places.py): no thread of the pool is handed this request.
    submitted = services.places.submit(str(person.subject), body.code, services.clock.now())
    result = await asyncio.wrap_future(submitted)
    response.headers["Link"] = f'</api/v1/me/scans/{result.record_id}/proof>; rel="proof"'
    carry_checkpoint(response, result.checkpoint)  # read in the scan's own transaction
    return scan_out(result)


@person_router.get(
    "/me/scans/{record_id}/proof", response_model=ScanProofOut, responses=ERRORS | {409: {}}
)
def scan_proof(
    request: Request, record_id: str, person: Annotated[Caller, Depends(PERSON)]
) -> ScanProofOut:
    """Proof that my scan is in the log: the record's inclusion in its batch's Merkle root,
    the batch's log entry, and that entry's tlog-proof (available once the batch is sealed)."""
    return proof_out(request.app.state.services.places.proof(str(person.subject), record_id))


def _pass(request: Request, response: Response, person_key: str, fmt: Format) -> Any:
    services = request.app.state.services
    issued = services.passes.issue_pass(person_key, services.clock.now())
    body = PassOut(
        text=issued.text,
        colour=issued.colour,
        valid_until=issued.valid_until,
        masked_name=issued.masked_name,
        issuer=issued.issuer,
        svg=qr_svg(issued.text, scale=6).decode(),
    )
    answer = qr_answer(issued.text, fmt, body)
    with services.db.read() as conn:
        carry_checkpoint(answer if isinstance(answer, Response) else response,
                         services.log.checkpoint_at(conn))  # fmt: skip
    response.headers.update(_NO_STORE)
    return answer


@person_router.get("/me/pass", response_model=PassOut, responses=ERRORS | PICTURES)
def my_pass(
    request: Request,
    response: Response,
    person: Annotated[Caller, Depends(PERSON)],
    format: Format = "json",
) -> Any:
    """My signed status pass (HCP1 text and QR code): colour, valid-until, masked name."""
    return _pass(request, response, str(person.subject), format)


@person_router.get(
    "/me/dependants/{person_key}/pass", response_model=PassOut, responses=ERRORS | PICTURES
)
def dependant_pass(
    request: Request,
    response: Response,
    person_key: str,
    person: Annotated[Caller, Depends(PERSON)],
    format: Format = "json",
) -> Any:
    """A dependant's pass, from their own status only (A4)."""
    return _pass(request, response, _guardian_of(request, person, person_key), format)


def _card(request: Request, person_key: str, fmt: Literal["png", "json"]) -> Any:
    services = request.app.state.services
    card = services.passes.identity_card(person_key, services.clock.now())
    if fmt == "json":
        return CardOut(
            text=card.text,
            masked_name=card.masked_name,
            valid_until=card.valid_until,
            issuer=card.issuer,
        )
    png = card_png(
        card.text,
        masked_name=card.masked_name,
        valid_until=card.valid_until,
        timezone=services.settings.timezone,
    )
    return Response(
        png,
        media_type="image/png",
        headers={**_NO_STORE, "Content-Disposition": 'inline; filename="healthcode-card.png"'},
    )


@person_router.get("/me/card", response_model=CardOut, responses=ERRORS | PNG)
def my_card(
    request: Request,
    person: Annotated[Caller, Depends(PERSON)],
    format: Literal["png", "json"] = "png",
) -> Any:
    """My printable identity card (PNG), for when I have no phone with me."""
    return _card(request, str(person.subject), format)


@person_router.get(
    "/me/dependants/{person_key}/card", response_model=CardOut, responses=ERRORS | PNG
)
def dependant_card(
    request: Request,
    person_key: str,
    person: Annotated[Caller, Depends(PERSON)],
    format: Literal["png", "json"] = "png",
) -> Any:
    """A dependant's printable identity card (a child, a relative without a phone)."""
    return _card(request, _guardian_of(request, person, person_key), format)


# --- the trust list -------------------------------------------------------------------------


@trust_router.get("", responses=ERRORS, dependencies=[Depends(PUBLIC)])
def trust_list(request: Request) -> Response:
    """The signed trust list (JSON, `docs/passes.md`): cache it, check it against an anchor."""
    trust_lists = request.app.state.services.trust_lists
    published = trust_lists.current()
    if published is None:  # the first read publishes it (a key per authority, all logged)
        trust_lists.ensure(trust_lists.all_issuers(), request.app.state.services.clock.now())
        published = trust_lists.current()
        assert published is not None
    etag = f'"v{published.version}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(published.document, media_type="application/json", headers=headers)


@trust_router.get("/anchors", response_model=AnchorsOut, dependencies=[Depends(PUBLIC)])
def trust_anchors(request: Request) -> AnchorsOut:
    """The keys that sign the trust list (to be pinned by verifiers, e.g. at installation)."""
    anchors = request.app.state.services.trust_lists.anchors()
    return AnchorsOut(
        anchors=[
            AnchorOut(key_id=_b64url(key_id), public_key=_b64url(raw_public_key(public)))
            for key_id, public in anchors.items()
        ]
    )


@trust_router.post("/keys/{key_id}/revoke", response_model=RevokedOut, responses=ERRORS)
def revoke_key(
    request: Request,
    key_id: str,
    body: RevokeKeyIn,
    caller: Annotated[Caller, Depends(SUPERVISOR)],
) -> RevokedOut:
    """Revoke an issuer key of my authority (reason from the closed list): logged, a new key
    replaces it, the trust list version goes up, and its passes fail from now on."""
    services = request.app.state.services
    published = services.trust_lists.revoke(
        actor(caller), key_id, reason=body.reason, now=services.clock.now()
    )
    return RevokedOut(key_id=key_id.lower(), reason=body.reason,
                      trust_list_version=published.version)  # fmt: skip
