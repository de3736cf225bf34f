"""Prometheus metrics at ``GET /metrics`` (prometheus_client): requests, ingest, the log's
sequencer and oversight's detectors. ``docs/operations.md`` lists every metric.

Per process, on purpose: ``healthcode serve`` runs one uvicorn process (the sequencer, the
scheduler and the detectors run in it, once), so prometheus_client's multiprocess mode, with
its files on disk shared by workers, buys nothing here. If the app is ever served by several
workers, each keeps its own counters and a scrape sees one of them. The log's gauges (size,
signed size, backlog, checkpoint age) are read from the store at each scrape, so they are the
same whichever process answers.

Every app gets a registry of its own rather than the library's global one: tests build many
apps in one process, and a metric registered twice in one registry is an error. Label values
are route templates, detector names and fixed words, never anything a caller sends.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from healthcode.services.clock import Clock
from healthcode.services.oversight import RunSummary
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.web.auth import PUBLIC

# Requests that bring evidence in, by route template: counted as ingest too, by outcome.
INGEST = {
    ("POST", "/api/v1/evidence/batches"): "evidence_batch",
    ("POST", "/api/v1/scans"): "scan",
    ("POST", "/me/scan"): "scan",  # the person page's scan form
    ("POST", "/api/v1/me/dcc"): "dcc",
}
# Seconds: a request is a few milliseconds, a slow one a second or more.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds from an entry's commit to the first signed checkpoint holding it: the sequencer
# runs every HEALTHCODE_SEQUENCER_SECONDS (0.25 s by default).
MERGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
DETECTOR_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def _outcome(status: int) -> str:
    return "accepted" if status < 400 else "refused" if status < 500 else "failed"


class _LogGauges(Collector):
    """The transparency log's state, read from the store at each scrape."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        with self._db.read() as conn:
            size = log_bundles.stored_end(conn)
            latest = log_repo.latest_checkpoint(conn)
            halted = bool(log_repo.halts(conn))
        signed = latest.size if latest else 0
        yield GaugeMetricFamily(
            "healthcode_log_halted",
            "1 once the self-check found the store and the log disagreeing: nothing is signed"
            " any more (the reason is on /public/log).",
            int(halted),
        )
        yield GaugeMetricFamily("healthcode_log_entries", "Entries committed to the log.", size)
        yield GaugeMetricFamily(
            "healthcode_log_signed_entries",
            "Entries in the latest signed checkpoint (its tree size).",
            signed,
        )
        yield GaugeMetricFamily(
            "healthcode_log_sequencer_backlog",
            "Committed entries not yet in a signed checkpoint.",
            size - signed,
        )
        if latest is not None:
            age = (self._clock.now() - latest.signed_at).total_seconds()
            yield GaugeMetricFamily(
                "healthcode_log_checkpoint_age_seconds",
                "Seconds since the latest checkpoint was signed.",
                max(age, 0.0),
            )


class Metrics:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.registry.register(_LogGauges(db, clock))
        registry = self.registry
        self.requests = Counter(
            "healthcode_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "healthcode_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"], buckets=REQUEST_BUCKETS, registry=registry,
        )  # fmt: skip
        self.ingest = Counter(
            "healthcode_ingest_requests",
            "Requests bringing evidence in (evidence_batch, scan, dcc), by outcome "
            "(accepted, refused, failed).",
            ["kind", "outcome"], registry=registry,
        )  # fmt: skip
        self.merge_delay = Histogram(
            "healthcode_log_merge_delay_seconds",
            "Seconds from an entry's commit to the signed checkpoint that first holds it.",
            buckets=MERGE_BUCKETS, registry=registry,
        )  # fmt: skip
        self.checkpoints = Counter(
            "healthcode_log_checkpoints_signed",
            "Checkpoints this process signed.",
            registry=registry,
        )
        self.witness_conflicts = Counter(
            "healthcode_log_witness_conflicts",
            "Witness refusals (409) proving the log misbehaved, by conflict: split_view (the "
            "witness cosigned another checkpoint of the same size), rollback (a larger one).",
            ["conflict"], registry=registry,
        )  # fmt: skip
        for conflict in ("split_view", "rollback"):  # at 0 from the start, to alert on a rise
            self.witness_conflicts.labels(conflict)
        self.detector_runs = Counter(
            "healthcode_oversight_detector_runs",
            "Runs of oversight's detectors, by outcome (ok, failed).",
            ["outcome"], registry=registry,
        )  # fmt: skip
        self.detector_seconds = Histogram(
            "healthcode_oversight_detector_run_duration_seconds",
            "Seconds one run of every registered detector took.",
            buckets=DETECTOR_BUCKETS, registry=registry,
        )  # fmt: skip
        self.findings = Gauge(
            "healthcode_oversight_findings",
            "Findings each detector reported in its latest run.",
            ["detector"], registry=registry,
        )  # fmt: skip
        self.cases_opened = Counter(
            "healthcode_oversight_cases_opened",
            "Cases opened for new findings, by detector.",
            ["detector"], registry=registry,
        )  # fmt: skip
        self._db = db
        self._signed_size: int | None = None  # the tree size this process last saw signed
        # Entries committed before the process started waited for it to start, not for the
        # sequencer (and a demo build's entries carry their simulated times): not observed.
        self._since = clock.now()

    # --- requests ------------------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        kind = INGEST.get((method, route))
        if kind is not None:
            self.ingest.labels(kind, _outcome(status)).inc()

    # --- the sequencer ---------------------------------------------------------------------

    def checkpoint_signed(self, size: int, now: datetime) -> None:
        """The sequencer signed a checkpoint of ``size`` entries at ``now``: observe the merge
        delay of every entry it newly holds."""
        with self._db.read() as conn:
            start = self._signed_size
            if start is None:  # the first checkpoint this process signed: where did it start?
                before = t.log_checkpoints.c.size
                start = conn.scalar(select(func.max(before)).where(before < size)) or 0
            heads = log_bundles.entry_heads(conn, start, size) if start < size else []
        self._signed_size = size
        self.checkpoints.inc()
        for _index, _kind, _length, recorded_at in heads:
            if recorded_at >= self._since:
                self.merge_delay.observe(max((now - recorded_at).total_seconds(), 0.0))

    def witness_conflict(self, conflict: str) -> None:
        """A witness's 409 proved a ``split_view`` or a ``rollback`` of the log."""
        self.witness_conflicts.labels(conflict).inc()

    # --- oversight -------------------------------------------------------------------------

    @contextmanager
    def detector_run(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except Exception:
            self.detector_runs.labels("failed").inc()
            raise
        finally:
            self.detector_seconds.observe(time.perf_counter() - start)
        self.detector_runs.labels("ok").inc()

    def detectors_found(self, summary: RunSummary) -> None:
        for detector in summary.detectors:
            self.findings.labels(detector.name).set(detector.findings)
            if detector.new_cases:
                self.cases_opened.labels(detector.name).inc(len(detector.new_cases))

    # --- the endpoint ------------------------------------------------------------------------

    def render(self, accept: str) -> tuple[bytes, str]:
        """The exposition in the format the scraper asked for (Prometheus text by default,
        OpenMetrics when its Accept header says so)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


def serve_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Add ``GET /metrics``. Anyone may read it (it holds counts, route templates and detector
    names, no record of a person); a deployment may still keep it to its scrapers at the
    proxy. It is left out of the OpenAPI document: it is for operations, not the API."""

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(PUBLIC)])
    def prometheus_metrics(request: Request) -> Response:
        body, content_type = metrics.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)
