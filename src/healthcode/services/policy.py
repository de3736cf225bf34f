"""Loading the shipped policy data: the legal-basis catalogue, the order limits, appeal
deadlines, DCC matching and retention."""

from __future__ import annotations

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
