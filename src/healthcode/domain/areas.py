"""GB/T 2260-style administrative area codes: province > city > district, six digits each."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

_CODE = re.compile(r"^[1-9][0-9]{5}$")


class AreaLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"


def is_area_code(code: str) -> bool:
    return bool(_CODE.match(code))


def level_of(code: str) -> AreaLevel:
    """The level a code names by its shape: ``xx0000`` province, ``xxyy00`` city, else district."""
    if not is_area_code(code):
        raise ValueError(f"not a six-digit area code: {code!r}")
    if code.endswith("0000"):
        return AreaLevel.PROVINCE
    if code.endswith("00"):
        return AreaLevel.CITY
    return AreaLevel.DISTRICT


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level is AreaLevel.PROVINCE:
        return None
    if level is AreaLevel.CITY:
        return code[:2] + "0000"
    return code[:4] + "00"


# Cached: status derivation asks it for every visit under every designation, and there are
# only so many area codes (at most 900,000 six-digit ones; far fewer in practice).
@functools.lru_cache(maxsize=65_536)
def prefix(code: str) -> str:
    """The leading digits every code inside ``code`` shares (so ``LIKE prefix%`` finds them)."""
    level = level_of(code)
    if level is AreaLevel.PROVINCE:
        return code[:2]
    if level is AreaLevel.CITY:
        return code[:4]
    return code


def contains(outer: str, inner: str) -> bool:
    """Whether area ``outer`` is ``inner`` or one of its ancestors."""
    return inner.startswith(prefix(outer))


def contained_in_any(areas: frozenset[str] | set[str] | tuple[str, ...], code: str) -> bool:
    return any(contains(area, code) for area in areas)


@dataclass(frozen=True)
class Area:
    code: str
    name_zh: str
    name_en: str

    @property
    def level(self) -> AreaLevel:
        return level_of(self.code)

    @property
    def parent(self) -> str | None:
        return parent_of(self.code)
