"""The `places:` section of the shipped policy data (src/healthcode/data/policy.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from healthcode.services import policy as policy_data

_FIELDS = {
    "code_seconds", "freshness_seconds", "pass_minutes", "card_days", "key_days", "scan_shards",
}  # fmt: skip


@dataclass(frozen=True)
class PlacesPolicy:
    code_interval: timedelta = timedelta(seconds=10)
    freshness: timedelta = timedelta(seconds=5)
    pass_lifetime: timedelta = timedelta(minutes=15)
    card_lifetime: timedelta = timedelta(days=365)
    key_lifetime: timedelta = timedelta(days=730)
    scan_shards: int = 1

    def __post_init__(self) -> None:
        if self.code_interval <= timedelta(0):
            raise ValueError("places.code_seconds must be positive")
        if not timedelta(0) <= self.freshness <= self.code_interval:
            raise ValueError("places.freshness_seconds must be between 0 and code_seconds")
        if not timedelta(0) < self.pass_lifetime <= timedelta(hours=24):
            raise ValueError("places.pass_minutes must be within 24 hours")
        if not timedelta(0) < self.card_lifetime <= timedelta(days=3660):
            raise ValueError("places.card_days must be within 10 years")
        if self.key_lifetime <= timedelta(0):
            raise ValueError("places.key_days must be positive")
        if not 1 <= self.scan_shards <= 4096:
            raise ValueError("places.scan_shards must be 1..4096")


def load_places_policy(data: dict[str, Any]) -> PlacesPolicy:
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"unknown places policy fields: {sorted(unknown)}")
    return PlacesPolicy(
        code_interval=timedelta(seconds=int(data["code_seconds"])),
        freshness=timedelta(seconds=int(data["freshness_seconds"])),
        pass_lifetime=timedelta(minutes=int(data["pass_minutes"])),
        card_lifetime=timedelta(days=int(data["card_days"])),
        key_lifetime=timedelta(days=int(data["key_days"])),
        scan_shards=int(data["scan_shards"]),
    )


def places_policy() -> PlacesPolicy:
    return load_places_policy(policy_data.policy_data()["places"])
