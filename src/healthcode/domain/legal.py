"""The closed catalogue of legal bases for orders, and the policy limits orders must keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healthcode.domain.evidence import MATCHABLE, Evidence, EvidenceKind
from healthcode.domain.orders import OrderKind
from healthcode.domain.rulebook import Reason


class CatalogueError(ValueError):
    """A legal-basis catalogue or policy file that cannot be used."""


@dataclass(frozen=True)
class Requirement:
    kind: EvidenceKind
    match: tuple[tuple[str, object], ...]

    def met_by(self, item: Evidence) -> bool:
        return item.kind == self.kind and all(getattr(item, k) == v for k, v in self.match)


@dataclass(frozen=True)
class LegalBasis:
    id: str
    title: Reason
    orders: dict[OrderKind, tuple[Requirement, ...]]


@dataclass(frozen=True)
class OrderPolicy:
    max_duration: dict[OrderKind, timedelta]
    bulk_threshold_people: int
    bulk_window: timedelta


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _RequirementIn(_Strict):
    evidence: EvidenceKind
    match: dict[str, str | bool] = Field(default_factory=dict)


class _OrderIn(_Strict):
    requires: list[_RequirementIn] = Field(min_length=1)


class _TitleIn(_Strict):
    zh: str
    en: str


class _BasisIn(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]{3,64}$")
    title: _TitleIn
    orders: dict[OrderKind, _OrderIn] = Field(min_length=1)


class _CatalogueIn(_Strict):
    version: int
    bases: list[_BasisIn] = Field(min_length=1)


class _OrdersPolicyIn(_Strict):
    max_days: dict[OrderKind, int]
    bulk_threshold_people: int = Field(ge=1)
    bulk_window_hours: int = Field(ge=1)


class _PolicyIn(_Strict):
    orders: _OrdersPolicyIn


def load_catalogue(source: dict[str, Any]) -> dict[str, LegalBasis]:
    try:
        spec = _CatalogueIn.model_validate(source)
    except ValidationError as exc:
        raise CatalogueError(str(exc.errors()[0])) from None
    bases: dict[str, LegalBasis] = {}
    for basis in spec.bases:
        orders: dict[OrderKind, tuple[Requirement, ...]] = {}
        for kind, order in basis.orders.items():
            requirements = []
            for need in order.requires:
                allowed = MATCHABLE[need.evidence]
                if any(k not in allowed or v not in allowed[k] for k, v in need.match.items()):
                    raise CatalogueError(
                        f"{basis.id}: cannot match {need.match} on {need.evidence}"
                    )
                requirements.append(Requirement(need.evidence, tuple(sorted(need.match.items()))))
            orders[kind] = tuple(requirements)
        bases[basis.id] = LegalBasis(basis.id, Reason(basis.title.zh, basis.title.en), orders)
    return bases


def load_order_policy(source: dict[str, Any]) -> OrderPolicy:
    try:
        spec = _PolicyIn.model_validate(source).orders
    except ValidationError as exc:
        raise CatalogueError(str(exc.errors()[0])) from None
    missing = set(OrderKind) - set(spec.max_days)
    if missing:
        raise CatalogueError(f"no maximum duration for {sorted(missing)}")
    return OrderPolicy(
        max_duration={kind: timedelta(days=days) for kind, days in spec.max_days.items()},
        bulk_threshold_people=spec.bulk_threshold_people,
        bulk_window=timedelta(hours=spec.bulk_window_hours),
    )
