"""The writes of a crash trial, posted over HTTP, and what must hold of them after the crash.

Two kinds of write, mixed at random among the writer threads:

- evidence batches: signed batches of test results, idempotent by source and batch id;
- chains, one per Zhengzhou resident picked: a signed batch with the person's positive test,
  then the official's order citing it (case isolation, ``POST /api/v1/orders``), then the
  person's appeal against that order (``POST /api/v1/me/appeals``), the order and the appeal
  each with an ``Idempotency-Key`` of its own.

A write is acknowledged when its answer arrived. After the restart every write is sent again,
acknowledged or not, with the same key and body, and the chains a second time: each retry of
an order or appeal must answer with the status and body of the first answer (an appeal's
``time_left_seconds`` aside, which the clock moves). Then, in the store, ``check`` finds every
batch with exactly its records, and for every chain exactly one order citing its evidence and
exactly one appeal against that order, the ones acknowledged (if they were) and the ones its
idempotency keys name.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Connection, text

from healthcode.domain.batches import sign_batch
from healthcode.services.tokens import PERSON_AUDIENCE, Tokens
from healthcode.sim import geography
from healthcode.store import keyfiles

SOURCE = "lab-410100"  # the demo's Zhengzhou lab: signs test results for Zhengzhou residents
OFFICIAL = "410100-official"  # the demo's Zhengzhou official: orders for Zhengzhou's evidence
SEED = 7  # the demo's seed, from which its sources' keys are derived
RECORDS = 4  # records per batch
CHAINS = 8  # at most; under the two-person rule's threshold of 20 people a day
BATCHES, ORDERS, APPEALS = "/api/v1/evidence/batches", "/api/v1/orders", "/api/v1/me/appeals"


@dataclass
class Chain:
    """A positive test, the order citing it and the person's appeal against that order."""

    person: str
    batch: dict[str, Any]
    order: dict[str, Any]  # the order's body
    order_key: str
    appeal_key: str
    order_answer: dict[str, Any] | None = None  # the first answer, before the crash or after
    appeal_answer: dict[str, Any] | None = None
    order_acked: bool = False  # answered before the crash
    appeal_acked: bool = False

    @property
    def evidence(self) -> tuple[str, str]:
        return SOURCE, str(self.batch["records"][0]["record_id"])

    def appeal(self) -> dict[str, Any] | None:
        """The appeal's body, once the order's id is known; None for a pending order (only an
        order in force can be appealed)."""
        if self.order_answer is None or self.order_answer["pending"]:
            return None
        return {
            "target": "order",
            "ref": self.order_answer["orders"][0]["id"],
            "ground": "not_there",
        }


Task = dict[str, Any] | Chain  # an evidence batch, or a chain


def _same_appeal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {**a, "time_left_seconds": None} == {**b, "time_left_seconds": None}


@dataclass
class Writes:
    batches: list[dict[str, Any]]
    chains: list[Chain]
    official: str  # the official's bearer token
    persons: dict[str, str]  # person key -> bearer token
    acked: set[str] = field(default_factory=set)  # batch ids answered before the crash
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def plan(cls, people: list[str], rng: random.Random, data_dir: Path) -> Writes:
        key = next(s.key for s in geography.sources(SEED) if s.id == SOURCE)
        at = datetime.now(UTC) - timedelta(hours=1)

        def batch(batch_id: str, persons: list[str], results: tuple[str, ...]) -> dict[str, Any]:
            records = [
                {"record_id": f"{batch_id}-{i}", "kind": "test_result", "person": person,
                 "area": "410102", "occurred_at": at.isoformat(), "method": "pcr",
                 "result": rng.choice(results)}
                for i, person in enumerate(persons)
            ]  # fmt: skip
            body = {"source": SOURCE, "batch_id": batch_id, "records": records}
            signed: dict[str, Any] = sign_batch(body, key.sign)
            return signed

        batches = [
            batch(f"crash-{n}", [rng.choice(people) for _ in range(RECORDS)],
                  ("negative", "negative", "positive"))
            for n in range(rng.randrange(40, 120))
        ]  # fmt: skip
        until = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0).isoformat()
        chains = []
        for n, person in enumerate(rng.sample(people, min(CHAINS, len(people)))):
            tested = batch(f"crash-chain-{n}", [person], ("positive",))
            order = {
                "kind": "case_isolation", "legal_basis": "idl-art-39-isolation",
                "persons": [{"person": person, "evidence": [f"{SOURCE}/crash-chain-{n}-0"]}],
                "valid_until": until,
            }  # fmt: skip
            chains.append(Chain(person, tested, order, f"crash-order-{n}", f"crash-appeal-{n}"))
        minted = Tokens(keyfiles.load_or_create(data_dir / "keys").token_signing)
        now, ttl = datetime.now(UTC), timedelta(hours=2)
        official = minted.mint(OFFICIAL, role="official", now=now, ttl=ttl)
        persons = {
            c.person: minted.mint(c.person, role="person", audience=PERSON_AUDIENCE, now=now, ttl=ttl)
            for c in chains
        }  # fmt: skip
        return cls(batches, chains, official, persons)

    def tasks(self, rng: random.Random) -> list[Task]:
        todo: list[Task] = [*self.batches, *self.chains]
        rng.shuffle(todo)
        return todo

    def summary(self) -> str:
        orders = sum(c.order_acked for c in self.chains)
        appeals = sum(c.appeal_acked for c in self.chains)
        return (
            f"{len(self.acked)}/{len(self.batches) + len(self.chains)} batches, "
            f"{orders}/{len(self.chains)} orders, "
            f"{appeals} appeals acknowledged"
        )

    # --- posting (raises httpx2.HTTPError when the server is gone) -------------------------

    def post(self, client: httpx2.Client, task: Task, *, before_crash: bool) -> None:
        if isinstance(task, Chain):
            self.chain(client, task, before_crash=before_crash)
        else:
            self.batch(client, task, before_crash=before_crash)

    def batch(self, client: httpx2.Client, batch: dict[str, Any], *, before_crash: bool) -> bool:
        answer = client.post(BATCHES, json=batch)
        if answer.status_code != 200:
            self.problems.append(f"batch refused: {answer.status_code} {answer.text[:300]}")
            return False
        if before_crash:
            with self.lock:
                self.acked.add(batch["batch_id"])
        return True

    def chain(self, client: httpx2.Client, chain: Chain, *, before_crash: bool) -> None:
        if not self.batch(client, chain.batch, before_crash=before_crash):
            return
        auth = {"Authorization": f"Bearer {self.official}", "Idempotency-Key": chain.order_key}
        answer = client.post(ORDERS, json=chain.order, headers=auth)
        if answer.status_code != 200:
            self.problems.append(f"order refused: {answer.status_code} {answer.text[:300]}")
            return
        if chain.order_answer is None:
            chain.order_answer, chain.order_acked = answer.json(), before_crash
        elif answer.json() != chain.order_answer:
            self.problems.append(f"order {chain.order_key} answered differently on a retry")
        body = chain.appeal()
        if body is None:
            return
        auth = {"Authorization": f"Bearer {self.persons[chain.person]}",
                "Idempotency-Key": chain.appeal_key}  # fmt: skip
        answer = client.post(APPEALS, json=body, headers=auth)
        if answer.status_code != 201:
            self.problems.append(f"appeal refused: {answer.status_code} {answer.text[:300]}")
        elif chain.appeal_answer is None:
            chain.appeal_answer, chain.appeal_acked = answer.json(), before_crash
        elif not _same_appeal(answer.json(), chain.appeal_answer):
            self.problems.append(f"appeal {chain.appeal_key} answered differently on a retry")

    def resend(self, base: str) -> None:
        """A client retrying everything it sent, acknowledged or not, with the same keys; the
        chains twice, so the second retry replays what the first one made, if it made it."""
        with httpx2.Client(base_url=base, timeout=30) as client:
            tasks: list[Task] = [*self.batches, *self.chains, *self.chains]
            for task in tasks:
                self.post(client, task, before_crash=False)

    # --- the checks -------------------------------------------------------------------------

    def check(self, conn: Connection) -> None:
        self.check_batches(conn)
        self.check_chains(conn)

    def check_batches(self, conn: Connection) -> None:
        """Every acknowledged (and, after the retries, every sent) batch is stored, each with
        exactly its records."""
        stored: dict[str, int] = dict(
            conn.execute(
                text("SELECT batch_id, record_count FROM evidence_batches WHERE source_id = :s"),
                {"s": SOURCE},
            ).all()
        )
        rows: dict[str, int] = dict(
            conn.execute(
                text("SELECT batch_id, count(*) FROM evidence WHERE source_id = :s "
                     "GROUP BY batch_id"), {"s": SOURCE},
            ).all()
        )  # fmt: skip
        lost = sorted(self.acked - set(stored))
        if lost:
            self.problems.append(f"acknowledged batches lost: {lost[:5]}")
        sent = {b["batch_id"] for b in self.batches} | {c.batch["batch_id"] for c in self.chains}
        missing = sorted(sent - set(stored))
        if missing:
            self.problems.append(f"batches missing after the retries: {missing[:5]}")
        wrong = {b: (n, rows.get(b)) for b, n in stored.items() if rows.get(b) != n}
        if wrong or set(rows) - set(stored):
            self.problems.append(f"records not matching their batches: {list(wrong.items())[:5]}")

    def check_chains(self, conn: Connection) -> None:
        """Exactly one order cites each chain's evidence and exactly one appeal contests that
        order: the acknowledged ones, and the ones the idempotency keys name."""
        for chain in self.chains:
            source, record = chain.evidence
            orders = conn.execute(
                text("SELECT o.id, o.request_id FROM order_evidence e JOIN orders o "
                     "ON o.id = e.order_id WHERE e.source_id = :s AND e.record_id = :r"),
                {"s": source, "r": record},
            ).all()  # fmt: skip
            if len(orders) != 1 or chain.order_answer is None:
                self.problems.append(f"{chain.order_key}: {len(orders)} orders cite its evidence")
                continue
            [(order_id, request_id)] = orders
            if request_id != chain.order_answer["request_id"]:
                lost = "acknowledged order lost" if chain.order_acked else "order not the answer's"
                self.problems.append(f"{chain.order_key}: {lost}")
            self.check_key(conn, chain.order_key, OFFICIAL, request_id)
            if chain.appeal() is None:
                continue
            appeals = conn.execute(
                text("SELECT id FROM appeals WHERE order_id = :o"), {"o": order_id}
            ).all()
            if len(appeals) != 1 or chain.appeal_answer is None:
                self.problems.append(f"{chain.appeal_key}: {len(appeals)} appeals of its order")
                continue
            if appeals[0][0] != chain.appeal_answer["id"]:
                lost = "acknowledged appeal lost" if chain.appeal_acked else "not the answer's"
                self.problems.append(f"{chain.appeal_key}: {lost}")
            self.check_key(conn, chain.appeal_key, chain.person, appeals[0][0])

    def check_key(self, conn: Connection, key: str, actor: str, result: str) -> None:
        found = conn.execute(
            text('SELECT result_id FROM idempotency_keys WHERE actor_id = :a AND "key" = :k'),
            {"a": actor, "k": key},
        ).all()
        if [row[0] for row in found] != [result]:
            self.problems.append(f"{key}: the key names {found}, not {result}")
