"""Who is calling, and whether they may: every route declares its roles and scope here.

``access(...)`` makes the dependency a route uses; it carries its policy, so the generated
authorization-matrix test (tests/e2e/test_authorization_matrix.py) can find every route's
policy and fails for a route that has none. Object-level checks (whose record, which
jurisdiction) are made by the services with the ``Caller`` this returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from healthcode.errors import Unauthorized
from healthcode.services.refusals import RefusedStaff
from healthcode.services.tokens import (
    PERSON_AUDIENCE,
    STAFF_AUDIENCE,
    STAFF_ROLES,
    VENUE_AUDIENCE,
    audience_for,
)
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo

SESSION_COOKIE = "hc_session"
COOKIES = {PERSON_AUDIENCE: SESSION_COOKIE, STAFF_AUDIENCE: "hc_staff", VENUE_AUDIENCE: "hc_venue"}
# The sessions "Sign out" ends: a person's and staff's. A venue device's is its station's, set up
# once and shown on a public screen, where anyone passing could otherwise take it offline.
SIGNED_OUT = {audience: COOKIES[audience] for audience in (PERSON_AUDIENCE, STAFF_AUDIENCE)}
ANONYMOUS = "anonymous"
ROLES = ("anonymous", "person", "venue", "hotline", "official", "supervisor", "auditor")
SCOPES = {
    "public": "anyone, no record of a person",
    "own": "the caller's own record, or a dependant's",
    "venue": "the calling venue only; colour, validity and masked name",
    "jurisdiction": "inside the calling authority's jurisdiction",
    "district": "inside the hotline's district, read only",
    "all-read": "everything, read only (oversight)",
    "cases": "oversight's own cases, moved along their lifecycle; no colour, order or evidence",
    "source": "a registered source, authenticated by its signature on the body",
}


@dataclass(frozen=True)
class Caller:
    role: str
    subject: str | None = None  # person key, staff id or venue id
    authority_id: str | None = None
    jurisdiction: frozenset[str] = field(default_factory=frozenset)
    # The id of the token the caller holds when the operator issued it, not a sign-in: the
    # acts it makes are logged as made with it (staff: services/staff_tokens.py; a person:
    # services/person_token_uses.py, for a session the sign-in link it was opened with; a
    # venue device token's card checks: services/venue_tokens.py).
    operator_token: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def refused_by(caller: Caller | None) -> RefusedStaff | None:
    """Whom a refusal of this caller's act names: a staff member (accountable, invariant 4);
    nobody for a person, a venue or an anonymous caller."""
    if caller is None or not caller.is_staff or caller.subject is None:
        return None
    return RefusedStaff(caller.subject, caller.role, caller.authority_id)


@dataclass(frozen=True)
class Policy:
    roles: frozenset[str]
    scope: str


def _token(request: Request, audiences: list[str]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    for audience in audiences:
        cookie = request.cookies.get(COOKIES[audience])
        if cookie:
            return cookie
    return None


def authenticate(request: Request, roles: frozenset[str]) -> Caller:
    services = request.app.state.services
    audiences = sorted({audience_for(role) for role in roles if role != ANONYMOUS})
    token = _token(request, audiences) if audiences else None
    if token is None:
        if ANONYMOUS in roles:
            return Caller(ANONYMOUS)
        raise Unauthorized("auth.required")
    claims = services.tokens.verify(token, audience=audiences, now=services.clock.now())
    forbidden = Unauthorized("auth.forbidden", f"{claims.role} may not do this")
    if claims.role in ("person", "venue") and claims.role not in roles:
        raise forbidden
    if claims.role == "person":
        return Caller("person", claims.subject, operator_token=claims.operator_token)
    with services.db.read() as conn:
        if claims.role == "venue":
            if claims.subject not in registry_repo.venue_areas(conn, [claims.subject]):
                raise Unauthorized("auth.invalid_token", "unknown venue")
            # Every venue token the code mints is the operator's (services/venue_tokens.py, the
            # CLI's and the demo's alike), so this is its logged id; one without the claim was
            # minted with the signing key outside the code (the tests' own devices), and with
            # no row behind it there is no token to name.
            operator_token = claims.token_id if claims.operator_issued else None
            return Caller("venue", claims.subject, operator_token=operator_token)
        member = staff_repo.find(conn, claims.subject)
        # Whether the member still is one first: one deactivated is not told "signed in, but
        # not allowed here".
        if member is None or not member.active or member.role != claims.role:
            raise Unauthorized("auth.invalid_token", "no such active staff member")
        # A sign-in from before the password was last set (the member's change, a load's
        # reset) acts no more: a change ends whoever else held the old one. `iat` is whole
        # seconds, so the instant is compared as such (a sign-in in the change's own second
        # stays). The operator's tokens are logged, not password-based (services/staff_tokens.py).
        set_at = member.password_set_at
        if (
            not claims.operator_issued
            and set_at is not None
            and claims.issued_at < set_at.replace(microsecond=0)
        ):
            raise Unauthorized("auth.invalid_token", "signed in before the password changed")
        # Signed in as this member from here on: a refusal of what they try names them
        # (web/errors.py), a role's overreach (`auth.forbidden`) included.
        request.state.refused_staff = RefusedStaff(member.id, member.role, member.authority_id)
        if claims.role not in roles:
            raise forbidden
        if member.authority_id is not None:
            area = staff_repo.jurisdiction(conn, member.authority_id)
        else:
            area = frozenset()
        if member.role == "hotline" and member.area_code:
            area = frozenset({member.area_code})
        operator_token = claims.token_id if claims.operator_issued else None
        return Caller(member.role, member.id, member.authority_id, area, operator_token)


async def authenticate_person(request: Request) -> Caller:
    """`authenticate` for routes only persons may call (the app's hot path), the same checks
    in the same order, without handing the request to a worker thread: a person needs no
    lookup but the revocation of their token, which the revocation thread makes for every
    request waiting for one, in one statement (services/tokens.py)."""
    services = request.app.state.services
    audiences = [PERSON_AUDIENCE]
    token = _token(request, audiences)
    if token is None:
        raise Unauthorized("auth.required")
    tokens = services.tokens
    claims = tokens.check(token, audience=audiences, now=services.clock.now())
    if await asyncio.wrap_future(tokens.revoked_later(claims.token_id)):
        raise Unauthorized("auth.invalid_token", "revoked")
    if claims.role != "person":
        raise Unauthorized("auth.forbidden", f"{claims.role} may not do this")
    # From the claims alone: a token the operator issued is checked against its row only
    # when it acts (services/person_token_uses.py), never on this path.
    return Caller("person", claims.subject, operator_token=claims.operator_token)


def access(*roles: str, scope: str) -> Callable[[Request], Any]:
    """The dependency of a route that ``roles`` may call, on ``scope``."""
    unknown = set(roles) - set(ROLES)
    if unknown or scope not in SCOPES:
        raise ValueError(f"unknown roles {unknown} or scope {scope!r}")
    policy = Policy(frozenset(roles), scope)

    def caller(request: Request) -> Caller:
        if scope in ("public", "source"):
            # Nothing personal is read; a source is authenticated by its batch's signature.
            return Caller(ANONYMOUS)
        return authenticate(request, policy.roles)

    async def person(request: Request) -> Caller:
        return await authenticate_person(request)

    only_persons = policy.roles == {"person"} and scope not in ("public", "source")
    chosen: Callable[[Request], Any] = person if only_persons else caller
    chosen.policy = policy  # type: ignore[attr-defined]  # read by the authorization matrix
    return chosen


class PageForbidden(Exception):
    """A caller signed in with a role the page is not for: their sign-in worked, so the
    answer is a page saying they may not be here (403, ``web/errors.py``), never the
    sign-in page, which would send them after a new link that cannot help."""

    def __init__(self, refusal: Unauthorized) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


def page(*roles: str, scope: str) -> Callable[[Request], Caller | None]:
    """Like ``access`` for a page: None instead of an error when the caller is not signed in
    (or their sign-in is invalid or expired), so the page can ask to sign in; a caller signed
    in with another role gets ``PageForbidden``."""
    policy = access(*roles, scope=scope).policy  # type: ignore[attr-defined]

    def caller(request: Request) -> Caller | None:
        if scope == "public":
            return Caller(ANONYMOUS)
        try:
            return authenticate(request, policy.roles)
        except Unauthorized as refusal:
            if refusal.code == "auth.forbidden":
                raise PageForbidden(refusal) from None
            return None

    caller.policy = policy  # type: ignore[attr-defined]  # read by the authorization matrix
    return caller


PUBLIC = access(*ROLES, scope="public")
SOURCE = access(ANONYMOUS, scope="source")
PERSON = access("person", scope="own")
PUBLIC_PAGE = page(*ROLES, scope="public")
PERSON_PAGE = page("person", scope="own")
