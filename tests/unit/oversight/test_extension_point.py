"""Detectors are found through the `healthcode.detectors` entry points, as a third party's are."""

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from healthcode.domain.oversight import Finding
from healthcode.oversight import api
from healthcode.oversight.api import GROUP, DetectorContext, load_detectors

BUILT_IN = {
    "act_bursts", "appeal_outcomes", "guardianships", "impossible_travel", "linked_persons",
    "operator_tokens", "refused_acts", "remote_scans", "source_reach", "staff_registry",
    "unsupported_designations",
}  # fmt: skip


class ThirdParty:
    name = "third_party"
    title_zh = "第三方检测器"
    title_en = "A third party's detector"

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        yield from ()


class NotADetector:
    name = "not_a_detector"


def test_the_built_in_detectors_are_registered_entry_points() -> None:
    assert {d.name for d in load_detectors()} == BUILT_IN
    assert [d.name for d in load_detectors(["remote_scans"])] == ["remote_scans"]
    with pytest.raises(LookupError, match="no_such"):
        load_detectors(["no_such"])


def _points(monkeypatch: pytest.MonkeyPatch, *points: tuple[str, str]) -> None:
    made = [EntryPoint(name, f"{__name__}:{target}", GROUP) for name, target in points]
    monkeypatch.setattr(api, "entry_points", lambda group: made if group == GROUP else [])


def test_a_third_party_detector_is_loaded_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    _points(monkeypatch, ("third_party", "ThirdParty"))
    [found] = load_detectors()
    assert isinstance(found, ThirdParty)


def test_an_entry_point_that_is_not_a_detector_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _points(monkeypatch, ("not_a_detector", "NotADetector"))
    with pytest.raises(TypeError):
        load_detectors()


def test_a_finding_names_record_references() -> None:
    from datetime import UTC, datetime

    at = datetime(2022, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        Finding("d", "venue:v1", "zh", "en", 1.0, at, at, records=())
    with pytest.raises(ValueError):
        Finding("d", "venue:v1", "zh", "en", 1.0, at, at, records=("person:someone",))
    one = Finding("d", "venue:v1", "zh", "en", 1.0, at, at, records=("evidence:s/1", "order:o"))
    again = Finding("d", "venue:v1", "zh2", "en2", 2.0, at, at, records=("order:o", "evidence:s/1"))
    assert one.fingerprint == again.fingerprint
