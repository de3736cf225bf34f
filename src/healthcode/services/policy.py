"""Loading the shipped policy data: the legal-basis catalogue, the order limits, appeal
deadlines, DCC matching, retention and how long a source key change waits."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from typing import Any

import yaml

from healthcode.domain.appeals import AppealPolicy, load_appeal_policy
from healthcode.domain.dcc import HolderPolicy, load_holder_policy
from healthcode.domain.legal import LegalBasis, OrderPolicy, load_catalogue, load_order_policy
from healthcode.domain.retention import RetentionPolicy, load_retention_policy


def _data(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        resources.files("healthcode.data").joinpath(name).read_text()
    )
    return loaded


def legal_bases() -> dict[str, LegalBasis]:
    return load_catalogue(_data("legal_bases.yaml"))


def policy_data() -> dict[str, Any]:
    return _data("policy.yaml")


def dcc_holder_policy() -> HolderPolicy:
    return load_holder_policy(policy_data().get("dcc"))


def order_policy() -> OrderPolicy:
    return load_order_policy({"orders": policy_data()["orders"]})


def appeal_policy() -> AppealPolicy:
    return load_appeal_policy(policy_data()["appeals"])


def retention_policy() -> RetentionPolicy:
    return load_retention_policy(policy_data()["retention"])


def key_change_lifetime() -> timedelta:
    """How long a proposed source key change waits for its co-signature."""
    days = policy_data()["sources"]["key_change_days"]
    if not isinstance(days, int) or not 1 <= days <= 90:
        raise ValueError("policy.yaml: sources.key_change_days must be 1 to 90")
    return timedelta(days=days)
