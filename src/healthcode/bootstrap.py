"""The composition root: settings -> adapters -> services. Nothing happens at import time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from healthcode.domain.batches import BatchPolicy
from healthcode.errors import InputRejected
from healthcode.services import policy as policy_data
from healthcode.services.access import Access
from healthcode.services.appeals import Appeals
from healthcode.services.clock import Clock, SystemClock
from healthcode.services.cosigning import Cosigning, parse_witnesses
from healthcode.services.dcc_intake import DccIntake
from healthcode.services.dcc_trust import DccTrust
from healthcode.services.derivation import Derivation
from healthcode.services.designations import Designations
from healthcode.services.entry_opening import EntryOpening
from healthcode.services.escrow import PersonSecrets
from healthcode.services.explain import Explanations
from healthcode.services.guardianships import Guardianships
from healthcode.services.identity import LocalIdentityProvider
from healthcode.services.intake import Intake
from healthcode.services.jurisdiction_changes import JurisdictionChanges
from healthcode.services.log_reader import LogReader
from healthcode.services.notifications import Outbox
from healthcode.services.order_refusals import OrderRefusals
from healthcode.services.orders import Orders
from healthcode.services.oversight import Oversight
from healthcode.services.passes import Passes
from healthcode.services.person_tokens import PersonTokens
from healthcode.services.places import Places
from healthcode.services.places_setup import build_place_services
from healthcode.services.public_stats import PublicStatistics
from healthcode.services.reference import ReferenceCache
from healthcode.services.refusals import Refusals
from healthcode.services.registry import Registry
from healthcode.services.retention import Retention
from healthcode.services.rulebook_proposals import RulebookProposals
from healthcode.services.rulebooks import Rulebooks
from healthcode.services.scheduler import Ticker
from healthcode.services.selfcheck import SelfCheck
from healthcode.services.sequencer import Sequencer
from healthcode.services.sign_in_throttle import SignInThrottle
from healthcode.services.source_keys import SourceKeys
from healthcode.services.sources import Sources
from healthcode.services.staff import Staff
from healthcode.services.staff_passwords import StaffPasswords
from healthcode.services.tokens import Tokens
from healthcode.services.trust_lists import TrustLists
from healthcode.services.venue_tokens import VenueTokens
from healthcode.settings import Settings
from healthcode.store import keyfiles
from healthcode.store import log as log_repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database
from healthcode.store.migrate import upgrade
from healthcode.tlog import Ed25519Signer


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    rulebooks: Rulebooks
    derivation: Derivation
    intake: Intake
    designations: Designations
    registry: Registry
    explanations: Explanations
    refusals: Refusals
    identity: LocalIdentityProvider
    guardianships: Guardianships
    tokens: Tokens
    ticker: Ticker
    sequencer: Sequencer
    log: LogReader
    secrets: PersonSecrets
    self_check: SelfCheck
    cosigning: Cosigning
    orders: Orders
    order_refusals: OrderRefusals
    staff: Staff
    staff_passwords: StaffPasswords
    person_tokens: PersonTokens
    venue_tokens: VenueTokens
    access: Access
    sources: Sources
    source_keys: SourceKeys
    jurisdiction_changes: JurisdictionChanges
    proposals: RulebookProposals
    dcc_trust: DccTrust
    dcc: DccIntake
    appeals: Appeals
    notices: Outbox
    public_stats: PublicStatistics
    trust_lists: TrustLists
    places: Places
    passes: Passes
    oversight: Oversight
    entry_opening: EntryOpening
    retention: Retention


def _revoked(db: Database, jti: str) -> bool:
    with db.read_statements() as conn:
        return staff_repo.token_revoked(conn, jti)


def _revoked_among(db: Database, jtis: Sequence[str]) -> set[str]:
    with db.read_statements() as conn:
        return staff_repo.tokens_revoked(conn, jtis)


def _revoke(db: Database, jti: str, at: datetime) -> bool:
    with db.write() as conn:
        return staff_repo.revoke_token(conn, jti, at)


def _server_keys(key_dir: Path, db: Database) -> keyfiles.ServerKeys:
    """The key files, made on first start, but never for a store that has signed under others:
    new keys would sign a second history, and the self-check, finding no entry it can
    recompute, would halt the log for good (a store restored without its key files)."""
    absent = keyfiles.missing(key_dir)
    if absent:
        with db.read() as conn:
            signed = log_repo.latest_checkpoint(conn) is not None
        if signed:
            raise InputRejected("keys.missing", f"{key_dir}: no {', '.join(absent)}")
    return keyfiles.load_or_create(key_dir)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    migrate: bool = True,
) -> Services:
    """Wire the services; ``db`` and ``clock`` may be handed in (tests, simulations)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = db or Database(settings.database_url)
    if migrate:
        upgrade(db)
    keys = _server_keys(settings.data_dir / "keys", db)
    clock = clock or SystemClock()
    rulebooks = Rulebooks(db)
    log_signer = Ed25519Signer(settings.log_origin, keys.log_signing_seed)
    log_reader = LogReader(db, log_signer.verifier(), settings.log_origin)
    tokens = Tokens(
        keys.token_signing,
        is_revoked=lambda jti: _revoked(db, jti),
        revoked_among=lambda jtis: _revoked_among(db, jtis),
        revoke=lambda jti, at: _revoke(db, jti, at),
    )
    secrets = PersonSecrets(keys.person_secret_master, keys.oversight_public)
    outbox = Outbox(db)
    derivation = Derivation(rulebooks, secrets, outbox)
    legal_bases = policy_data.legal_bases()
    explanations = Explanations(db, derivation, log_reader, legal_bases, rulebooks)
    order_policy = policy_data.order_policy()
    batch_policy = BatchPolicy(
        max_records=settings.batch_max_records,
        future_skew=timedelta(seconds=settings.future_skew_seconds),
    )
    orders = Orders(db, derivation, secrets, legal_bases, order_policy, outbox)
    appeals = Appeals(
        db, derivation, secrets, orders, log_reader, policy_data.appeal_policy(), outbox
    )
    dcc_trust = DccTrust(db)
    dcc = DccIntake(
        db,
        derivation,
        dcc_trust,
        schemas=settings.dcc_schemas,
        policy=policy_data.dcc_holder_policy(),
        future_skew=batch_policy.future_skew,
    )
    retention = Retention(db, rulebooks, policy_data.retention_policy())
    access = Access(db, explanations, secrets)
    guardianships = Guardianships(db, secrets, outbox)
    staff = Staff(db, tokens, SignInThrottle(db, keys.pseudonym_secret), secrets)
    place_services = build_place_services(
        db, derivation, rulebooks, log_reader, secrets, keys.places_master
    )
    return Services(
        notices=outbox,
        public_stats=PublicStatistics(db, settings.timezone, appeals.policy.min_cell),
        settings=settings,
        db=db,
        clock=clock,
        rulebooks=rulebooks,
        derivation=derivation,
        intake=Intake(db, derivation, batch_policy, ReferenceCache(rulebooks)),
        designations=Designations(db, derivation, rulebooks, secrets, order_policy),
        registry=Registry(db, policy_data.key_change_lifetime()),
        explanations=explanations,
        refusals=Refusals(db),
        identity=LocalIdentityProvider(db, keys.pseudonym_secret, guardianships),
        guardianships=guardianships,
        tokens=tokens,
        ticker=Ticker(
            db, derivation, rulebooks, lapse_appeals=appeals.lapse_due, purge=retention.purge_due
        ),
        sequencer=Sequencer(db, log_signer, settings.log_origin),
        log=log_reader,
        secrets=secrets,
        self_check=SelfCheck(db, secrets, log_signer.verifier(), settings.log_origin),
        cosigning=Cosigning(db, log_reader, parse_witnesses(settings.witnesses), clock=clock),
        orders=orders,
        order_refusals=OrderRefusals(db, secrets, outbox),
        staff=staff,
        staff_passwords=StaffPasswords(db, secrets, staff),
        person_tokens=PersonTokens(db, tokens, secrets, outbox),
        venue_tokens=VenueTokens(db, tokens),
        access=access,
        sources=Sources(db, derivation),
        source_keys=SourceKeys(db, secrets, policy_data.key_change_lifetime()),
        jurisdiction_changes=JurisdictionChanges(db, secrets),
        proposals=RulebookProposals(db, rulebooks, secrets),
        dcc_trust=dcc_trust,
        dcc=dcc,
        appeals=appeals,
        trust_lists=place_services.trust_lists,
        places=place_services.places,
        passes=place_services.passes,
        oversight=Oversight(db, secrets, log_reader),
        entry_opening=EntryOpening(db, access),
        retention=retention,
    )
