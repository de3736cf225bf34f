"""The FastAPI application factory: routers, error mapping, pages, the scheduler, metrics
and logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from healthcode.bootstrap import Services
from healthcode.web import errors, logs
from healthcode.web.api import appeals, evidence, officials, person, public, records, staff_auth
from healthcode.web.api import cohort as cohort_api
from healthcode.web.api import dcc as dcc_api
from healthcode.web.api import jurisdiction_changes as jurisdiction_changes_api
from healthcode.web.api import log as log_api
from healthcode.web.api import oversight as oversight_api
from healthcode.web.api import passes as passes_api
from healthcode.web.api import places as places_api
from healthcode.web.api import source_keys as source_keys_api
from healthcode.web.auth import PUBLIC
from healthcode.web.bodies import BodyLimit
from healthcode.web.instrument import Instrument
from healthcode.web.metrics import Metrics, serve_metrics
from healthcode.web.pages import appeals as appeal_pages
from healthcode.web.pages import cohort as cohort_pages
from healthcode.web.pages import official as official_pages
from healthcode.web.pages import oversight as oversight_pages
from healthcode.web.pages import person as person_pages
from healthcode.web.pages import places as place_pages
from healthcode.web.pages import public as public_pages
from healthcode.web.pages import staff_account as staff_account_pages

log = logging.getLogger("healthcode.web")


async def _every(seconds: float, what: str, job: Callable[[], object]) -> None:
    """Run ``job`` in a worker thread every ``seconds``, for as long as the server runs."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:  # keep the loop alive; the failure is logged, not swallowed
            log.exception("%s failed", what)


def _self_check(services: Services) -> None:
    """At start-up: a disagreement between rows and log halts signing (and is logged)."""
    report = services.self_check.run(now=services.clock.now())
    if report.ok:
        log.info("log self-check passed: %d entries", report.entries)
    else:
        log.error("log self-check FAILED, signing halted: %s", "; ".join(report.problems[:5]))


def _sequence(services: Services, metrics: Metrics) -> None:
    """Seal the scan batches of past seconds and sign a checkpoint over new entries. The
    witnesses are asked by ``_cosign``, a task of its own: signing never waits for one."""
    services.places.seal_due(services.clock.now())
    signed = services.sequencer.integrate(now=services.clock.now())
    if signed is not None:
        metrics.checkpoint_signed(signed.size, services.clock.now())


def _cosign(services: Services, metrics: Metrics) -> None:
    """Have the witnesses cosign the latest checkpoint: on every period, not only when one is
    new, so a quiet log is cosigned by a witness that was down or is new (each witness's own
    backoff keeps one that is down from being asked every period)."""
    services.cosigning.collect(on_conflict=metrics.witness_conflict)


def _tick(services: Services) -> None:
    changes = services.ticker.tick(now=services.clock.now())
    if changes:
        log.info("scheduler recorded %d status changes", changes)


def _oversee(services: Services, metrics: Metrics) -> None:
    """Run every registered detector; each new finding opens a case for the auditors."""
    with metrics.detector_run():
        summary = services.oversight.run(services.clock.now())
    metrics.detectors_found(summary)
    if summary.new_cases:
        log.info("oversight opened %d cases", len(summary.new_cases))


def create_app(services: Services, *, run_scheduler: bool = True) -> FastAPI:
    metrics = Metrics(services.db, services.clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Here, not earlier: uvicorn configures its loggers after the app is made.
        logs.configure(services.settings.log_format)
        tasks = []
        if run_scheduler:
            # Held with the others: a task nothing refers to may be collected before it ends.
            tasks.append(asyncio.create_task(asyncio.to_thread(_self_check, services)))
            settings = services.settings
            tasks += [
                asyncio.create_task(
                    _every(
                        settings.scheduler_interval_seconds,
                        "status scheduler",
                        lambda: _tick(services),
                    )
                ),
                asyncio.create_task(
                    _every(
                        settings.sequencer_interval_seconds,
                        "log sequencer",
                        lambda: _sequence(services, metrics),
                    )
                ),
                asyncio.create_task(
                    _every(
                        settings.sequencer_interval_seconds,
                        "witness cosigning",
                        lambda: _cosign(services, metrics),
                    )
                ),
                asyncio.create_task(
                    _every(
                        settings.oversight_interval_seconds,
                        "oversight detectors",
                        lambda: _oversee(services, metrics),
                    )
                ),
            ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="healthcode",
        version="0.1.0",
        description="Health codes derived from signed evidence under published rules.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics = metrics
    errors.install(app)
    app.add_middleware(Instrument, metrics=metrics)
    app.add_middleware(BodyLimit)  # every body, chunked or not, before it is parsed
    serve_metrics(app, metrics)
    app.include_router(evidence.router)
    app.include_router(public.router)
    app.include_router(person.router)
    # A request is matched against the routes in the order they were included, router by
    # router: the persons' scan route (POST /api/v1/scans, the busiest write) comes early.
    # No path of another router is one of its paths (tests/e2e/test_authorization_matrix.py
    # calls every route).
    app.include_router(places_api.person_router)
    app.include_router(passes_api.pass_router)
    app.include_router(officials.router)
    app.include_router(source_keys_api.router)
    app.include_router(jurisdiction_changes_api.router)
    app.include_router(records.router)
    app.include_router(staff_auth.router)
    app.include_router(log_api.router)
    app.include_router(dcc_api.router)
    app.include_router(person_pages.router)
    app.include_router(official_pages.router)
    app.include_router(staff_account_pages.router)
    for router in (places_api.venue_router, passes_api.trust_router, place_pages.router,
                   public_pages.router):  # fmt: skip
        app.include_router(router)
    for router in (appeals.person_router, appeals.officials_router, appeals.oversight_router,
                   appeals.public_router, appeal_pages.router):  # fmt: skip
        app.include_router(router)
    app.include_router(oversight_api.router)
    app.include_router(oversight_pages.router)
    app.include_router(cohort_pages.router)
    app.include_router(cohort_api.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", tags=["operations"], dependencies=[Depends(PUBLIC)])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
