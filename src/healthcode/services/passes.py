"""Signed status passes, identity cards for people without phones, and what a venue learns.

A pass is the person's status at the moment of issue as a CWT in COSE_Sign1 (the pure codec
in `credentials/passes`): colour, valid-until (the policy's pass lifetime, never beyond the
status's own `valid_until`), the issuer (the authority of the person's home area, else the
national issuer) and its key id, the masked name, and a person commitment that is random
per pass, so venues cannot link two passes of one person (passes/README decision 6).

An identity card carries no colour: a venue device exchanges it online for the current
colour. Its commitment is random once and kept (`identity_cards`), so a lost card is
replaced by issuing a new one. Every exchange is a read of the person's record by someone
else: it is recorded (access log, log entry) and shown to the person (invariant 7). So is a
guardian's fetch of a dependant's pass or card: it carries the dependant's colour or name.

A venue learns a colour, a validity and a masked name, nothing else (`VenueAnswer`).
"""

from __future__ import annotations

import secrets as random_bytes
from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcode.credentials.passes import (
    Colour,
    IdentityClaims,
    PassClaims,
    PassError,
    issue_identity_card,
    issue_pass,
    verify_identity_card,
    verify_pass,
)
from healthcode.domain.people import mask_name
from healthcode.errors import Detail, NotFound, Unauthorized
from healthcode.services.access import (
    GUARDIAN_PURPOSE,
    VENUE,
    Reader,
    guardian_reader,
    record_reads,
)
from healthcode.services.derivation import Derivation
from healthcode.services.escrow import PersonSecrets
from healthcode.services.pass_refusals import PassRefused, refused
from healthcode.services.place_codes import VenueInfo
from healthcode.services.places_policy import PlacesPolicy
from healthcode.services.trust_lists import IssuerKey, TrustLists, whole_second
from healthcode.store import places as repo
from healthcode.store import registry as registry_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database

VENUE_PURPOSE = "identity_card_check"
_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class IssuedPass:
    text: str
    colour: str
    valid_until: datetime
    masked_name: str
    issuer: str


@dataclass(frozen=True)
class IssuedCard:
    text: str
    masked_name: str
    valid_until: datetime
    issuer: str


@dataclass(frozen=True)
class VenueAnswer:
    """Everything a venue may learn (invariant 7): no reason, rule, evidence or name."""

    colour: str
    valid_until: datetime
    masked_name: str


def masked(display_name: str) -> str:
    return mask_name(display_name) or "*"


class Passes:
    def __init__(
        self,
        db: Database,
        derivation: Derivation,
        trust: TrustLists,
        secrets: PersonSecrets,
        policy: PlacesPolicy,
    ) -> None:
        self._db = db
        self._derivation = derivation
        self._trust = trust
        self._secrets = secrets
        self._policy = policy

    def _person(self, person_key: str) -> tuple[str, str]:
        with self._db.read() as conn:
            found = registry_repo.person(conn, person_key)
            if found is None:
                raise NotFound("person.unknown")
            return masked(found[0]), self._trust.issuer_for_area(conn, found[1])

    def _check_guardian(self, guardian: str | None, person_key: str) -> None:
        if guardian is None:
            return
        with self._db.read() as conn:
            if not staff_repo.is_guardian(conn, guardian, person_key):
                raise Unauthorized("auth.forbidden", Detail("not your dependant"))

    def issue_pass(
        self, person_key: str, now: datetime, *, guardian: str | None = None,
        operator_token: str | None = None,
    ) -> IssuedPass:  # fmt: skip
        """A pass of the person's status computed now (afresh, like every read); one their
        ``guardian`` fetches is a read of their record, recorded (`services/access.py`), made
        with ``operator_token``, the guardian's token's id if the operator issued it."""
        self._check_guardian(guardian, person_key)
        name, issuer = self._person(person_key)
        with self._db.read() as conn:
            status = self._derivation.status_at(conn, person_key, now)
        key = self._trust.issuer_key(issuer, now)
        issued_at = whole_second(now)
        valid_until = min(issued_at + self._policy.pass_lifetime, key.not_after)
        if status.valid_until is not None:
            # Whole seconds, rounded down: a pass never outlives its status.
            valid_until = min(valid_until, whole_second(status.valid_until))
        # A status changing within this very second still gets a one-second pass.
        valid_until = max(valid_until, issued_at + _ONE_SECOND)
        claims = PassClaims(
            colour=Colour(str(status.colour)),
            issuer=issuer,
            masked_name=name,
            person_commitment=random_bytes.token_bytes(32),
            issued_at=issued_at,
            valid_until=valid_until,
        )
        text = issue_pass(claims, key.signing_key, key.key_id)
        if guardian is not None:
            with self._db.write() as conn:
                record_reads(conn, self._secrets, guardian_reader(guardian, operator_token),
                             [person_key], GUARDIAN_PURPOSE, now)  # fmt: skip
        return IssuedPass(text, str(status.colour), valid_until, name, issuer)

    def identity_card(
        self, person_key: str, now: datetime, *, guardian: str | None = None,
        operator_token: str | None = None,
    ) -> IssuedCard:  # fmt: skip
        """The person's printable card: kept while valid and signed by a usable key. One their
        ``guardian`` fetches is a read, recorded with the card's issue or not at all
        (``operator_token`` as for `issue_pass`)."""
        self._check_guardian(guardian, person_key)
        name, issuer = self._person(person_key)
        key = self._trust.issuer_key(issuer, now)
        with self._db.write() as conn:
            card = repo.identity_card(conn, person_key)
            if (
                card is not None
                and card.issuer == issuer
                and card.key_id == key.key_id.hex()
                and card.valid_until > now + self._policy.pass_lifetime
            ):
                issued_at, valid_until, commitment = (
                    card.issued_at,
                    card.valid_until,
                    card.commitment,
                )
            else:
                issued_at = whole_second(now)
                valid_until = min(issued_at + self._policy.card_lifetime, key.not_after)
                commitment = card.commitment if card is not None else random_bytes.token_hex(32)
                repo.save_identity_card(
                    conn,
                    {"person_key": person_key, "commitment": commitment, "issuer": issuer,
                     "key_id": key.key_id.hex(), "issued_at": issued_at, "valid_until": valid_until},
                    new=card is None,
                )  # fmt: skip
            if guardian is not None:
                record_reads(conn, self._secrets, guardian_reader(guardian, operator_token),
                             [person_key], GUARDIAN_PURPOSE, now)  # fmt: skip
        return IssuedCard(
            _card_text(key, name, bytes.fromhex(commitment), issued_at, valid_until),
            name,
            valid_until,
            issuer,
        )

    # --- at a venue ----------------------------------------------------------------------

    def check_pass(self, text: str, now: datetime) -> VenueAnswer:
        """Verify a pass against the current trust list, as an offline device would."""
        published = self._trust.current()
        if published is None:  # nothing was ever issued: no key can be trusted
            raise PassRefused("pass.unknown_key", "no trust list has been published yet")
        try:
            verified = verify_pass(text, published.trust_list, now)
        except PassError as error:
            raise refused(error) from None
        return VenueAnswer(str(verified.colour), verified.valid_until, verified.masked_name)

    def check_card(
        self, venue: VenueInfo, text: str, now: datetime, *, device_token: str | None
    ) -> VenueAnswer:
        """Exchange an identity card for the holder's current colour; the read is recorded,
        and, made with the device token the operator issued (its id, ``device_token``; None
        for a device whose token carries none), logged as made with it
        (services/venue_tokens.py): a token the log does not back refuses the check, nothing
        written."""
        published = self._trust.current()
        if published is None:
            raise PassRefused("pass.unknown_key", "no trust list has been published yet")
        try:
            card = verify_identity_card(text, published.trust_list, now)
        except PassError as error:
            raise refused(error) from None
        with self._db.read() as conn:
            holder = repo.card_holder(conn, card.person_commitment.hex())
            if holder is None or holder.issued_at > now:
                raise NotFound("card.unknown")
            person_key = holder.person_key
            status = self._derivation.status_at(conn, person_key, now)
        valid_until = now + self._policy.pass_lifetime
        if status.valid_until is not None:
            valid_until = min(valid_until, status.valid_until)
        self._record_read(venue, person_key, now, device_token)
        return VenueAnswer(str(status.colour), valid_until, card.masked_name)

    def _record_read(
        self, venue: VenueInfo, person_key: str, now: datetime, device_token: str | None
    ) -> None:
        reader = Reader(venue.id, VENUE, venue.authority_id, frozenset(), device_token)
        with self._db.write() as conn:
            record_reads(conn, self._secrets, reader, [person_key], VENUE_PURPOSE, now)


def _card_text(
    key: IssuerKey, name: str, commitment: bytes, issued_at: datetime, valid_until: datetime
) -> str:
    claims = IdentityClaims(key.issuer, name, commitment, issued_at, valid_until)
    return issue_identity_card(claims, key.signing_key, key.key_id)
