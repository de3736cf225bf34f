"""Place codes, scans and pass checks at venues, over HTTP (passes, cards and the trust list:
`web/api/passes.py`).

Venue-facing answers (`/api/v1/venue/*`) carry a colour, a validity and a masked name, or a
place code: never a reason, a rule, evidence, a full name or a person key (invariant 7; a
test inspects every one of them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError

from healthcode.credentials.passes import qr_png, qr_svg
from healthcode.errors import InputRejected
from healthcode.services.passes import VenueAnswer
from healthcode.services.place_codes import PlaceCodeView
from healthcode.services.places import ScanResult
from healthcode.services.qr import read_qr_texts
from healthcode.services.scan_proofs import ScanProof
from healthcode.web.api.schemas import (
    ERRORS,
    HALTED,
    PICTURES,
    Bilingual,
    Closed,
    text_or_image_body,
)
from healthcode.web.auth import PERSON, Caller, access
from healthcode.web.bodies import BodyTooLarge, larger_body, read_json
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint
from healthcode.web.i18n import gettext_for

VENUE = access("venue", scope="venue")
MAX_TEXT = 4096
MAX_UPLOAD = 5 * 1024 * 1024
UPLOAD_LIMIT = MAX_UPLOAD + 64 * 1024  # a picture and the form around it (web/bodies.py)
MAX_JSON = 6 * MAX_TEXT + 1024  # the JSON body: a character may arrive as \uXXXX

venue_router = APIRouter(prefix="/api/v1/venue", tags=["venues"])
person_router = APIRouter(prefix="/api/v1", tags=["persons"])

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
    # How the visit was recorded (invariant 9): "proven" (a fresh code scanned on site) or
    # "unverified" (a stale, printed or forwarded code: it never changes anyone's colour).
    presence: str
    presence_note: Bilingual


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


# --- helpers ------------------------------------------------------------------------------


def qr_answer(text: str, fmt: Format, body: BaseModel | None = None) -> Any:
    """The QR code of `text` as PNG or SVG, or the JSON `body`."""
    if fmt == "png":
        return Response(qr_png(text, scale=8), media_type="image/png", headers=NO_STORE)
    if fmt == "svg":
        return Response(qr_svg(text, scale=8), media_type="image/svg+xml", headers=NO_STORE)
    return body


NO_STORE = {"Cache-Control": "no-store"}


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


def presence_notes(_: Callable[[str], str]) -> dict[str, str]:
    """What a scan tells the person about how their visit was recorded, in one language."""
    return {
        "proven": _("Your visit is recorded as proven: you scanned the venue's current code "
                    "on site. It counts under the published rules."),
        "unverified": _("Your visit is recorded as unverified: the code was not the venue's "
                        "current one (a printed code, or a copy someone sent you). It never "
                        "changes your colour."),
    }  # fmt: skip


def scan_out(result: ScanResult) -> ScanOut:
    presence = str(result.presence)
    zh, en = presence_notes(gettext_for("zh")), presence_notes(gettext_for("en"))
    return ScanOut(
        colour=result.colour,
        venue_name=Bilingual(zh=result.venue.name_zh, en=result.venue.name_en),
        at=result.at,
        presence=presence,
        presence_note=Bilingual(zh=zh[presence], en=en[presence]),
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
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await form_text(request, field, prefixes)
    body = await read_json(request, MAX_JSON)
    model = CardCheckIn if field == "card" else PassCheckIn
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputRejected("request.malformed", f"{where}: {first['type']}") from None
    return str(getattr(parsed, field)).strip()


async def form_text(request: Request, field: str, prefixes: tuple[str, ...]) -> str:
    """A form's `field` text, or the QR text of its `image` upload (closed afterwards). Its
    size is the route's limit (``UPLOAD_LIMIT``), counted as it arrives (web/bodies.py); a page
    shows the refusal, so it is a ``HealthcodeError`` here."""
    try:
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("image")
            data = b""
            if upload is not None and not isinstance(upload, str):
                data = await upload.read(MAX_UPLOAD + 1)
            value = form.get(field)
    except BodyTooLarge:
        raise InputRejected("request.too_large") from None
    if len(data) > MAX_UPLOAD:
        raise InputRejected("request.too_large")
    if data:
        return await run_in_threadpool(first_code, data, prefixes)
    if isinstance(value, str) and value.strip():
        if len(value) > MAX_TEXT:
            raise InputRejected("request.too_large")
        return value.strip()
    raise InputRejected("request.malformed", f"{field} or image is required")


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
    openapi_extra=larger_body(
        UPLOAD_LIMIT, text_or_image_body("text", PassCheckIn.model_json_schema(), MAX_TEXT)
    ),
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
    openapi_extra=larger_body(
        UPLOAD_LIMIT, text_or_image_body("card", CardCheckIn.model_json_schema(), MAX_TEXT)
    ),
)
async def identity_check(
    request: Request, response: Response, venue: Annotated[Caller, Depends(VENUE)]
) -> VenueAnswerOut:
    """Exchange a printed identity card (JSON `card`, or a multipart `card` or `image`) for
    the holder's current colour; the read is recorded and shown to the holder, and logged as
    made with the device token the operator issued (a `venue_token_use` entry)."""
    services = request.app.state.services
    text = await text_or_image(request, "card", ("HCI1:",))
    now = services.clock.now()
    carry_checkpoint(response, await run_in_threadpool(latest_checkpoint, services))
    where = await run_in_threadpool(services.places.venue, str(venue.subject), now)
    answer = await run_in_threadpool(
        services.passes.check_card, where, text, now, device_token=venue.operator_token
    )
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
    "/me/scans/{record_id}/proof",
    response_model=ScanProofOut,
    responses=ERRORS | {409: {}} | HALTED,
)
def scan_proof(
    request: Request, record_id: str, person: Annotated[Caller, Depends(PERSON)]
) -> ScanProofOut:
    """Proof that my scan is in the log: the record's inclusion in its batch's Merkle root,
    the batch's log entry, and that entry's tlog-proof (available once the batch is sealed)."""
    return proof_out(request.app.state.services.places.proof(str(person.subject), record_id))
