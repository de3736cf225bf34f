"""Status passes, identity cards and the trust list, over HTTP (`docs/passes.md`).

A pass or card carries a colour, a validity and a masked name; the trust list carries the
issuer keys verifiers check them with, and is public.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from healthcode.credentials.passes import RevocationReason, qr_svg, raw_public_key
from healthcode.web.api.officials import actor
from healthcode.web.api.places import NO_STORE, Format, qr_answer
from healthcode.web.api.schemas import ERRORS, PICTURES, PNG, Closed, ErrorBody, closed_list
from healthcode.web.auth import PERSON, PUBLIC, Caller, access
from healthcode.web.cards import card_png
from healthcode.web.checkpoints import carry_checkpoint
from healthcode.web.i18n import LANG_COOKIE, gettext_for, pick_language

SUPERVISOR = access("supervisor", scope="jurisdiction")

pass_router = APIRouter(prefix="/api/v1", tags=["persons"])
trust_router = APIRouter(prefix="/api/v1/trust-list", tags=["trust list"])


# --- bodies -------------------------------------------------------------------------------


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


# --- passes and cards ----------------------------------------------------------------------


def _pass(
    request: Request, response: Response, person_key: str, fmt: Format, guardian: Caller | None
) -> Any:
    services = request.app.state.services
    issued = services.passes.issue_pass(
        person_key, services.clock.now(), guardian=None if guardian is None else str(guardian.subject),
        operator_token=None if guardian is None else guardian.operator_token,
    )  # fmt: skip
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
    response.headers.update(NO_STORE)
    return answer


@pass_router.get("/me/pass", response_model=PassOut, responses=ERRORS | PICTURES)
def my_pass(
    request: Request,
    response: Response,
    person: Annotated[Caller, Depends(PERSON)],
    format: Format = "json",
) -> Any:
    """My signed status pass (HCP1 text and QR code): colour, valid-until, masked name."""
    return _pass(request, response, str(person.subject), format, guardian=None)


@pass_router.get(
    "/me/dependants/{person_key}/pass", response_model=PassOut, responses=ERRORS | PICTURES
)
def dependant_pass(
    request: Request,
    response: Response,
    person_key: str,
    person: Annotated[Caller, Depends(PERSON)],
    format: Format = "json",
) -> Any:
    """A dependant's pass, from their own status only (A4): a read of their record, recorded
    and shown to them (invariant 7)."""
    return _pass(request, response, person_key, format, guardian=person)


Language = Literal["zh", "en"]
# A card is refused, never printed without its holder's name, when the host lacks a font
# with Chinese glyphs (`web/cards.py`).
CARD_ERRORS = ERRORS | PNG | {503: {"model": ErrorBody}}


def _card(
    request: Request,
    person_key: str,
    fmt: Literal["png", "json"],
    lang: Language | None,
    guardian: Caller | None,
) -> Any:
    services = request.app.state.services
    card = services.passes.identity_card(
        person_key, services.clock.now(), guardian=None if guardian is None else str(guardian.subject),
        operator_token=None if guardian is None else guardian.operator_token,
    )  # fmt: skip
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
        # The language asked for, else the page's (its cookie), else the browser's.
        gettext=gettext_for(
            pick_language(
                lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
            )
        ),
    )
    return Response(
        png,
        media_type="image/png",
        headers={**NO_STORE, "Content-Disposition": 'inline; filename="healthcode-card.png"'},
    )


@pass_router.get("/me/card", response_model=CardOut, responses=CARD_ERRORS)
def my_card(
    request: Request,
    person: Annotated[Caller, Depends(PERSON)],
    format: Literal["png", "json"] = "png",
    lang: Language | None = None,
) -> Any:
    """My printable identity card (PNG, in Chinese or English), for when I have no phone."""
    return _card(request, str(person.subject), format, lang, guardian=None)


@pass_router.get("/me/dependants/{person_key}/card", response_model=CardOut, responses=CARD_ERRORS)
def dependant_card(
    request: Request,
    person_key: str,
    person: Annotated[Caller, Depends(PERSON)],
    format: Literal["png", "json"] = "png",
    lang: Language | None = None,
) -> Any:
    """A dependant's printable identity card (a child, a relative without a phone): a read of
    their record, recorded and shown to them (invariant 7)."""
    return _card(request, person_key, format, lang, guardian=person)


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
