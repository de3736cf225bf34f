"""EU Digital COVID Certificates: a person submits theirs; supervisors keep the trust list."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from healthcode.domain.dcc import COUNTRY_PATTERN
from healthcode.domain.people import PERSON_KEY_PATTERN
from healthcode.errors import InputRejected
from healthcode.services.dcc_intake import DccReceipt
from healthcode.services.dcc_trust import REMOVE_REASONS, SignerCertificate
from healthcode.services.qr import MAX_IMAGE_BYTES
from healthcode.store.dcc import StoredSigner
from healthcode.web.api.officials import SUPERVISOR
from healthcode.web.api.schemas import ERRORS, Closed, ErrorBody, closed_list
from healthcode.web.auth import PERSON, PUBLIC, Caller
from healthcode.web.bodies import BodyTooLarge, larger_body, read_json
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

router = APIRouter(prefix="/api/v1", tags=["EU DCC"])

MAX_TEXT_CHARS = 16_384
MAX_BODY_BYTES = MAX_IMAGE_BYTES + 64 * 1024
MAX_JSON_BYTES = 6 * MAX_TEXT_CHARS + 1024  # a character may arrive as \uXXXX
_Key = Annotated[str, Field(pattern=PERSON_KEY_PATTERN)]
# A deployment without the DCC schemas (HEALTHCODE_DCC_SCHEMAS) refuses every certificate.
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "Certificates are not set up here (dcc.unavailable)"}
}


class DccIn(Closed):
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    on_behalf_of: _Key | None = None  # a dependant of the caller


class DccUploadIn(Closed):
    """The fields of a multipart upload besides the ``image`` file."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)] | None = None
    on_behalf_of: _Key | None = None


class DccReceiptOut(BaseModel):
    person_key: str
    evidence: str  # source/record, as the status lists it
    source_id: str
    record_id: str
    kind: str
    country: str
    occurred_at: datetime
    details: dict[str, Any]
    already_present: bool
    merkle_root: str
    status_changes: int


class SignerIn(Closed):
    country: Annotated[str, Field(pattern=COUNTRY_PATTERN)]
    certificate: Annotated[str, Field(min_length=1, max_length=24_000)]  # base64 DER, or PEM


class RemoveIn(Closed):
    reason: Annotated[str, Field(max_length=32, json_schema_extra=closed_list(REMOVE_REASONS))]


class SignerOut(BaseModel):
    kid: str
    fingerprint: str
    country: str
    source_id: str
    certificate: str  # base64 DER: the list can be loaded elsewhere as it is
    not_before: datetime
    not_after: datetime
    kinds: list[str]
    added_at: datetime
    log_index: int
    removed_at: datetime | None
    remove_reason: str | None


def signer_out(signer: StoredSigner) -> SignerOut:
    return SignerOut(
        kid=signer.kid, fingerprint=signer.fingerprint, country=signer.country,
        source_id=signer.source_id, certificate=base64.b64encode(signer.certificate).decode(),
        not_before=signer.not_before, not_after=signer.not_after, kinds=list(signer.kinds),
        added_at=signer.added_at, log_index=signer.log_index, removed_at=signer.removed_at,
        remove_reason=signer.remove_reason,
    )  # fmt: skip


def receipt_out(receipt: DccReceipt) -> DccReceiptOut:
    return DccReceiptOut(
        person_key=receipt.person_key, evidence=receipt.ref, source_id=receipt.source_id,
        record_id=receipt.record_id, kind=receipt.kind, country=receipt.country,
        occurred_at=receipt.occurred_at, details=receipt.details,
        already_present=receipt.already_present, merkle_root=receipt.merkle_root,
        status_changes=receipt.status_changes,
    )  # fmt: skip


def _malformed(error: ValidationError) -> InputRejected:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return InputRejected("request.malformed", f"{where}: {first['type']}")


_UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "a photo of the QR code"},
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS,
                 "description": "or the HC1 text"},
        "on_behalf_of": {"type": "string", "pattern": PERSON_KEY_PATTERN,
                         "description": "a dependant's person key"},
    },
    # What ``_upload`` accepts: a picture or a text, and no other field.
    "anyOf": [{"required": ["image"]}, {"required": ["text"]}],
    "additionalProperties": False,
}  # fmt: skip


async def _upload(request: Request) -> tuple[DccUploadIn, bytes | None]:
    """The fields and the image of a multipart upload (the parser's temporary files closed)."""
    image: bytes | None = None
    try:
        form_context = request.form(max_files=1, max_fields=4, max_part_size=MAX_IMAGE_BYTES + 1)
        async with form_context as form:
            upload = form.get("image")
            if isinstance(upload, UploadFile):
                image = await upload.read(MAX_IMAGE_BYTES + 1)
            fields = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
    except BodyTooLarge:
        raise InputRejected("request.too_large") from None
    except HTTPException:
        raise InputRejected("request.malformed", "not a readable multipart body") from None
    body = DccUploadIn.model_validate(fields)
    if image is None and body.text is None:
        raise InputRejected("request.malformed", "image: a file or a text is required")
    return body, image


@router.post(
    "/me/dcc",
    response_model=DccReceiptOut,
    responses=ERRORS | UNAVAILABLE,
    openapi_extra=larger_body(
        MAX_BODY_BYTES,
        {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": DccIn.model_json_schema()},
                    "multipart/form-data": {"schema": _UPLOAD_SCHEMA},
                },
            }
        },
    ),
)
async def submit_dcc(request: Request, person: Annotated[Caller, Depends(PERSON)]) -> DccReceiptOut:
    """Submit my (or a dependant's) EU Digital COVID Certificate: the HC1 text as JSON, or a
    picture of its QR code as a multipart upload (field ``image``)."""
    services = request.app.state.services
    body: DccIn | DccUploadIn
    image: bytes | None
    try:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            body, image = await _upload(request)
        else:
            data = await read_json(request, MAX_JSON_BYTES)
            body, image = DccIn.model_validate(data), None
    except ValidationError as error:
        raise _malformed(error) from None
    now = services.clock.now()
    submitter = str(person.subject)
    if image is not None:
        receipt = await run_in_threadpool(
            services.dcc.submit_image, submitter, image, now=now, holder=body.on_behalf_of,
            operator_token=person.operator_token,
        )  # fmt: skip
    else:
        receipt = await run_in_threadpool(
            services.dcc.submit, submitter, str(body.text), now=now, holder=body.on_behalf_of,
            operator_token=person.operator_token,
        )  # fmt: skip
    return receipt_out(receipt)


@router.get(
    "/dcc/signers",
    response_model=list[SignerOut],
    responses=ERRORS,
    dependencies=[Depends(PUBLIC)],
)
def list_signers(request: Request, response: Response) -> list[SignerOut]:
    """The DCC trust list: every document signer certificate trusted, or once trusted."""
    carry_checkpoint(response, latest_checkpoint(request.app.state.services))
    return [signer_out(s) for s in request.app.state.services.dcc_trust.signers()]


def _certificate(text: str) -> bytes:
    if text.lstrip().startswith("-----BEGIN"):
        return text.encode()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputRejected("dcc.trust_list", "certificate: neither base64 DER nor PEM") from None


@router.post("/dcc/signers", response_model=SignerOut, responses=ERRORS)
def add_signer(
    request: Request, body: SignerIn, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> SignerOut:
    """Trust a document signer certificate of a country (logged as a registry entry)."""
    services = request.app.state.services
    rows, _ = services.dcc_trust.add(
        [SignerCertificate(_certificate(body.certificate), body.country)],
        by=str(caller.subject),
        authority=caller.authority_id,
        now=services.clock.now(),
        operator_token=caller.operator_token,
    )
    return signer_out(rows[0])


@router.post("/dcc/signers/{kid}/remove", response_model=list[SignerOut], responses=ERRORS)
def remove_signer(
    request: Request, kid: str, body: RemoveIn, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> list[SignerOut]:
    """Stop trusting a signer (kid in hex): its DCCs are refused from now on (logged)."""
    services = request.app.state.services
    removed = services.dcc_trust.remove(
        kid,
        reason=body.reason,
        by=str(caller.subject),
        authority=caller.authority_id,
        now=services.clock.now(),
        operator_token=caller.operator_token,
    )
    return [signer_out(s) for s in removed]
