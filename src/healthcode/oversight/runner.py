"""Run detectors over the store: each in the same read transaction, so they see one state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from healthcode.domain.oversight import Finding
from healthcode.oversight.api import Detector, DetectorContext, load_detectors

DEFAULT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DetectorRun:
    detector: Detector
    findings: list[Finding]


def run_detectors(
    conn: Connection,
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    detectors: Sequence[Detector] | None = None,
) -> list[DetectorRun]:
    """Every registered detector (or those given) over ``[now - window, now]``."""
    context = DetectorContext(conn=conn, now=now, window=window)
    runs = []
    for detector in load_detectors() if detectors is None else detectors:
        findings = sorted(detector.run(context), key=lambda f: (f.subject, f.window_from))
        runs.append(DetectorRun(detector, findings))
    return runs
