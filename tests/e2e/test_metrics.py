"""``GET /metrics``: valid Prometheus text (and OpenMetrics on request) holding the named
metrics after a few requests, labelled by route template, never by anything a caller sent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from healthcode.web.app import _oversee, _sequence, create_app
from tests.town import ERQI, Town

NAMED = {
    "healthcode_http_requests": "counter",
    "healthcode_http_request_duration_seconds": "histogram",
    "healthcode_ingest_requests": "counter",
    "healthcode_log_merge_delay_seconds": "histogram",
    "healthcode_log_checkpoints_signed": "counter",
    "healthcode_log_entries": "gauge",
    "healthcode_log_signed_entries": "gauge",
    "healthcode_log_sequencer_backlog": "gauge",
    "healthcode_log_checkpoint_age_seconds": "gauge",
    "healthcode_log_witness_conflicts": "counter",
    "healthcode_oversight_detector_runs": "counter",
    "healthcode_oversight_detector_run_duration_seconds": "histogram",
    "healthcode_oversight_findings": "gauge",
    "process_cpu_seconds": "counter",
}


def bearer(town: Town, subject: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.token(subject, role)}"}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def served(town: Town) -> tuple[Town, TestClient, str]:
    """A few requests of every kind: scans (one refused), a batch, status reads, a 404."""
    town.register_staff()
    app = create_app(town.services, run_scheduler=False)
    client = TestClient(app)
    person = town.person("度量", home=ERQI)
    me = bearer(town, person, "person")
    code = client.get("/api/v1/venue/place-code", headers=bearer(town, "station", "venue"))
    assert client.post("/api/v1/scans", json={"code": code.json()["text"]}, headers=me).is_success
    refused = client.post("/api/v1/scans", json={"code": "HCV1:nonsense"}, headers=me)
    assert refused.status_code in (400, 401, 422)
    body = town.batch("lab-1", [town.record("test_result", person, town.clock.now(),
                                            method="pcr", result="negative")])  # fmt: skip
    assert client.post("/api/v1/evidence/batches", json=body).status_code == 200
    for _ in range(3):
        assert client.get("/api/v1/me/status", headers=me).status_code == 200
    assert client.get(f"/no/such/{person}").status_code == 404
    assert client.request("BREW", "/healthz").status_code == 405
    # Two seconds pass before the sequencer signs: each new entry waited that long.
    town.clock.advance(seconds=2)
    _sequence(town.services, app.state.metrics)
    _oversee(town.services, app.state.metrics)
    return town, client, person


def test_metrics_are_prometheus_text_with_the_named_metrics(
    served: tuple[Town, TestClient, str],
) -> None:
    _, client, person = served
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f.type for f in text_string_to_metric_families(answer.text)}
    for name, kind in NAMED.items():
        assert families.get(name) == kind, name
    got = samples(answer.text)

    def value(name: str, **labels: str) -> float:
        return got.get((name, frozenset(labels.items())), 0.0)

    scans = {"method": "POST", "route": "/api/v1/scans"}
    assert value("healthcode_http_requests_total", **scans, status="200") == 1
    assert value("healthcode_http_request_duration_seconds_count", **scans) == 2
    status = {"method": "GET", "route": "/api/v1/me/status", "status": "200"}
    assert value("healthcode_http_requests_total", **status) == 3
    assert value("healthcode_ingest_requests_total", kind="scan", outcome="accepted") == 1
    assert value("healthcode_ingest_requests_total", kind="scan", outcome="refused") == 1
    assert value("healthcode_ingest_requests_total", kind="evidence_batch", outcome="accepted") == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value("healthcode_http_requests_total", **unmatched) == 1
    # The sequencer signed everything: no backlog. Every entry it took waited the 2 s, but
    # the scan batch, sealed by that same run (its entry is committed then).
    assert value("healthcode_log_sequencer_backlog") == 0
    assert value("healthcode_log_signed_entries") == value("healthcode_log_entries") > 0
    merged = value("healthcode_log_merge_delay_seconds_count")
    assert merged > 1
    assert value("healthcode_log_merge_delay_seconds_sum") == pytest.approx(2 * (merged - 1))
    assert value("healthcode_log_merge_delay_seconds_bucket", le="1.0") == 1
    assert value("healthcode_log_merge_delay_seconds_bucket", le="2.0") == merged
    assert value("healthcode_oversight_detector_runs_total", outcome="ok") == 1
    assert value("healthcode_oversight_detector_run_duration_seconds_count") == 1
    # Label values are templates and fixed words: the person's key is nowhere, and a method
    # of the caller's own is OTHER.
    assert person not in answer.text
    assert "BREW" not in answer.text
    assert value("healthcode_http_requests_total", method="OTHER", route="/healthz", status="405")


def test_metrics_answer_openmetrics_when_asked(served: tuple[Town, TestClient, str]) -> None:
    _, client, _ = served
    answer = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    names = {family.name for family in openmetrics(answer.text)}
    assert {"healthcode_http_requests", "healthcode_log_sequencer_backlog"} <= names


def test_every_answer_carries_a_request_id(served: tuple[Town, TestClient, str]) -> None:
    _, client, _ = served
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_checkpoint_age_follows_the_clock(served: tuple[Town, TestClient, str]) -> None:
    town, client, _ = served
    town.clock.advance(minutes=1)
    got = samples(client.get("/metrics").text)
    assert got[("healthcode_log_checkpoint_age_seconds", frozenset())] == pytest.approx(60)
