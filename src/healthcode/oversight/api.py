"""The extension point: what a detector is, what it is given, and how detectors are found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection

from healthcode.domain.oversight import Finding

GROUP = "healthcode.detectors"


@dataclass(frozen=True)
class DetectorContext:
    """A read-only connection to the store and the period to look at.

    Detectors only read: they run inside a read transaction, and what they return is recorded
    by the oversight service (a finding changes no colour, order or record).
    """

    conn: Connection
    now: datetime
    window: timedelta

    @property
    def since(self) -> datetime:
        return self.now - self.window


@runtime_checkable
class Detector(Protocol):
    name: str
    title_zh: str
    title_en: str

    def run(self, context: DetectorContext) -> Iterable[Finding]: ...


def detector_names() -> list[str]:
    """The names registered in the group, none of them loaded: the API's closed list of them."""
    return sorted({point.name for point in entry_points(group=GROUP)})


def load_detectors(names: Sequence[str] | None = None) -> list[Detector]:
    """Every detector registered in the ``healthcode.detectors`` group (or only ``names``),
    instantiated, by name; an entry point that is not a detector is an error, not skipped."""
    found: list[Detector] = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        if names is not None and point.name not in names:
            continue
        detector = point.load()()
        if not isinstance(detector, Detector) or detector.name != point.name:
            raise TypeError(f"entry point {point.name!r} is not a detector named so")
        found.append(detector)
    if names is not None and len(found) != len(set(names)):
        missing = sorted(set(names) - {d.name for d in found})
        raise LookupError(f"no such detector: {', '.join(missing)}")
    return found


@cache
def detector_titles() -> Mapping[str, tuple[str, str]]:
    """Each registered detector's title, Chinese and English, by name: what the pages call a
    finding's detector. Read once (the entry points do not change while the process runs);
    a finding of a detector not registered here (a test's, a retired one) has only its name."""
    return MappingProxyType({d.name: (d.title_zh, d.title_en) for d in load_detectors()})
