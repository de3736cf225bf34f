"""The composition root: settings -> adapters -> services. Nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from healthcode.domain.batches import BatchPolicy
from healthcode.services import policy as policy_data
from healthcode.services.access import Access
from healthcode.services.clock import Clock, SystemClock
from healthcode.services.cosigning import Cosigning, parse_witnesses
from healthcode.services.derivation import Derivation
from healthcode.services.designations import Designations
from healthcode.services.escrow import PersonSecrets
from healthcode.services.explain import Explanations
from healthcode.services.identity import LocalIdentityProvider
from healthcode.services.intake import Intake
from healthcode.services.log_reader import LogReader
from healthcode.services.orders import Orders
from healthcode.services.refusals import Refusals
from healthcode.services.registry import Registry
from healthcode.services.rulebook_proposals import RulebookProposals
from healthcode.services.rulebooks import Rulebooks
from healthcode.services.scheduler import Ticker
from healthcode.services.selfcheck import SelfCheck
from healthcode.services.sequencer import Sequencer
from healthcode.services.sources import Sources
from healthcode.services.staff import Staff
from healthcode.services.tokens import Tokens
from healthcode.settings import Settings
from healthcode.store import keyfiles
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
    tokens: Tokens
    ticker: Ticker
    sequencer: Sequencer
    log: LogReader
    secrets: PersonSecrets
    self_check: SelfCheck
    cosigning: Cosigning
    orders: Orders
    staff: Staff
    access: Access
    sources: Sources
    proposals: RulebookProposals


def _revoked(db: Database, jti: str) -> bool:
    with db.read() as conn:
        return staff_repo.token_revoked(conn, jti)


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
    keys = keyfiles.load_or_create(settings.data_dir / "keys")
    clock = clock or SystemClock()
    rulebooks = Rulebooks(db)
    log_signer = Ed25519Signer(settings.log_origin, keys.log_signing_seed)
    log_reader = LogReader(db, log_signer.verifier(), settings.log_origin)
    tokens = Tokens(keys.token_signing, is_revoked=lambda jti: _revoked(db, jti))
    secrets = PersonSecrets(keys.person_secret_master, keys.oversight_public)
    derivation = Derivation(rulebooks, secrets)
    legal_bases = policy_data.legal_bases()
    explanations = Explanations(db, derivation, log_reader, legal_bases)
    order_policy = policy_data.order_policy()
    batch_policy = BatchPolicy(
        max_records=settings.batch_max_records,
        future_skew=timedelta(seconds=settings.future_skew_seconds),
    )
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        rulebooks=rulebooks,
        derivation=derivation,
        intake=Intake(db, derivation, batch_policy),
        designations=Designations(db, derivation, secrets, order_policy),
        registry=Registry(db),
        explanations=explanations,
        refusals=Refusals(db),
        identity=LocalIdentityProvider(db, keys.pseudonym_secret),
        tokens=tokens,
        ticker=Ticker(db, derivation),
        sequencer=Sequencer(db, log_signer, settings.log_origin),
        log=log_reader,
        secrets=secrets,
        self_check=SelfCheck(db, secrets, log_signer.verifier(), settings.log_origin),
        cosigning=Cosigning(db, log_reader, parse_witnesses(settings.witnesses)),
        orders=Orders(db, derivation, secrets, legal_bases, order_policy),
        staff=Staff(db, tokens),
        access=Access(db, explanations, secrets),
        sources=Sources(db, derivation),
        proposals=RulebookProposals(db, rulebooks, secrets),
    )
