"""A small registered town for tests: areas, an authority, signing sources and venues."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from healthcode.bootstrap import Services
from healthcode.domain.batches import sign_batch
from healthcode.domain.designations import RiskLevel
from healthcode.services.clock import FixedClock
from healthcode.services.designations import DesignationRequest
from healthcode.services.intake import IntakeReceipt
from healthcode.services.rulebooks import default_edition_source
from healthcode.services.tokens import SIGN_IN_AUDIENCE

ZHONGYUAN, ERQI, ZHENGZHOU, PUDONG = "410102", "410103", "410100", "310115"
SOURCE_KINDS = {
    "lab-1": ["test_result", "recovery"],
    "scan-1": ["venue_visit"],
    "cdc-1": ["close_contact", "quarantine_completed"],
    "border-1": ["border_entry"],
}


def _public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@dataclass
class Town:
    services: Services
    clock: FixedClock
    keys: dict[str, Ed25519PrivateKey]
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def register(cls, services: Services, clock: FixedClock) -> Town:
        keys = {
            name: Ed25519PrivateKey.from_private_bytes(bytes([n + 1]) * 32)
            for n, name in enumerate(SOURCE_KINDS)
        }
        with services.db.write() as conn:
            services.rulebooks.publish(conn, default_edition_source(), now=clock.now())
        services.registry.load(
            {
                "areas": [
                    {"code": "410000", "zh": "河南省", "en": "Henan"},
                    {"code": ZHENGZHOU, "zh": "郑州市", "en": "Zhengzhou"},
                    {"code": ZHONGYUAN, "zh": "中原区", "en": "Zhongyuan"},
                    {"code": ERQI, "zh": "二七区", "en": "Erqi"},
                    {"code": "310000", "zh": "上海市", "en": "Shanghai"},
                    {"code": "310100", "zh": "上海市辖区", "en": "Shanghai districts"},
                    {"code": PUDONG, "zh": "浦东新区", "en": "Pudong"},
                ],
                "authorities": [
                    {"id": "zz-health", "zh": "郑州市卫健委", "en": "Zhengzhou Health Commission", "jurisdiction": [ZHENGZHOU]},
                    {"id": "sh-health", "zh": "上海市卫健委", "en": "Shanghai Health Commission", "jurisdiction": ["310100"]},
                ],
                "sources": [
                    {"id": name, "authority": "zz-health", "name": name, "public_key": _public(keys[name]),
                     "kinds": kinds, "area": ZHENGZHOU}
                    for name, kinds in SOURCE_KINDS.items()
                ],
                "venues": [
                    {"id": "station", "zh": "郑州站", "en": "Zhengzhou Station", "area": ERQI, "authority": "zz-health"},
                    {"id": "market", "zh": "中原菜市场", "en": "Zhongyuan Market", "area": ZHONGYUAN, "authority": "zz-health"},
                    {"id": "mall", "zh": "浦东商场", "en": "Pudong Mall", "area": PUDONG, "authority": "sh-health"},
                ],
            },
            now=clock.now(),
        )  # fmt: skip
        return cls(services, clock, keys)

    def register_staff(self) -> None:
        self.services.staff.register(
            [
                {"id": "zz-off-1", "role": "official", "authority": "zz-health", "name": "张伟", "password": "correct horse 1"},
                {"id": "zz-sup-1", "role": "supervisor", "authority": "zz-health", "name": "李娜"},
                {"id": "zz-sup-2", "role": "supervisor", "authority": "zz-health", "name": "王芳"},
                {"id": "sh-off-1", "role": "official", "authority": "sh-health", "name": "陈静"},
                {"id": "sh-sup-1", "role": "supervisor", "authority": "sh-health", "name": "刘洋"},
                {"id": "hl-erqi", "role": "hotline", "authority": "zz-health", "area": ERQI, "name": "热线一"},
                {"id": "hl-pudong", "role": "hotline", "authority": "sh-health", "area": PUDONG, "name": "热线二"},
                {"id": "auditor-1", "role": "auditor", "name": "监督员"},
            ],
            now=self.clock.now(),
        )  # fmt: skip

    def token(self, subject: str, role: str, **delta: float) -> str:
        from datetime import timedelta

        return self.services.tokens.mint(
            subject, role=role, now=self.clock.now() + timedelta(**delta), ttl=timedelta(minutes=15)
        )

    def link(self, person: str) -> str:
        """The token of a person's sign-in link (/login takes it once; it is no bearer token)."""
        from datetime import timedelta

        return self.services.tokens.mint(
            person, role="person", audience=SIGN_IN_AUDIENCE, now=self.clock.now(),
            ttl=timedelta(minutes=15),
        )  # fmt: skip

    def person(
        self,
        name: str,
        home: str = ZHONGYUAN,
        *,
        latin_name: tuple[str, str | None] | None = None,
        birth_date: date | None = None,
    ) -> str:
        return self.services.identity.register(
            f"id-{name}", name, home, now=self.clock.now(), latin_name=latin_name,
            birth_date=birth_date,
        )  # fmt: skip

    def batch(
        self, source: str, records: list[dict[str, Any]], batch_id: str | None = None
    ) -> dict[str, Any]:
        body = {
            "source": source,
            "batch_id": batch_id or f"b{next(self.counter)}",
            "records": records,
        }
        return sign_batch(body, self.keys[source].sign)

    def submit(self, source: str, records: list[dict[str, Any]]) -> IntakeReceipt:
        return self.services.intake.submit(self.batch(source, records), now=self.clock.now())

    def record(self, kind: str, person: str, at: datetime, **fields: Any) -> dict[str, Any]:
        area = fields.pop("area", ZHONGYUAN)
        return {"record_id": f"r{next(self.counter)}", "kind": kind, "person": person, "area": area,
                "occurred_at": at.isoformat(), **fields}  # fmt: skip

    def test(self, person: str, at: datetime, result: str) -> IntakeReceipt:
        return self.submit(
            "lab-1", [self.record("test_result", person, at, method="pcr", result=result)]
        )

    def visit(
        self, person: str, at: datetime, venue: str = "station", presence: str = "proven"
    ) -> IntakeReceipt:
        area = {"station": ERQI, "market": ZHONGYUAN}[venue]
        return self.submit(
            "scan-1",
            [self.record("venue_visit", person, at, area=area, venue_id=venue, presence=presence)],
        )

    def designate(
        self,
        area: str,
        level: RiskLevel,
        start: datetime,
        end: datetime | None,
        *,
        id: str,
        venue: str | None = None,
    ) -> int:
        return self.services.designations.designate(
            DesignationRequest(id=id, area=area, level=level, valid_from=start, valid_to=end,
                               authority_id="zz-health", case_count=5, basis="5 cases", venue_id=venue),
            now=self.clock.now(),
        )  # fmt: skip

    def history(self, person: str) -> list[tuple[str, str, datetime, str]]:
        with self.services.db.read() as conn:
            from healthcode.store import status as status_repo

            return [
                (str(c.colour), c.rule_id, c.effective_at, c.cause)
                for c in status_repo.history(conn, person)
            ]

    def status(self, person: str) -> tuple[str, str]:
        status = self.services.explanations.explain(person, now=self.clock.now()).status
        return (str(status.colour), status.rule_id)


def days(n: float) -> timedelta:
    return timedelta(days=n)
