"""The FastAPI application factory: routers, error mapping, pages and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from healthcode.bootstrap import Services
from healthcode.web import errors
from healthcode.web.api import evidence, person, public
from healthcode.web.pages import person as person_pages

log = logging.getLogger("healthcode.web")


async def _run_scheduler(services: Services) -> None:
    """Record time-driven status changes as they fall due, for as long as the server runs."""
    while True:
        await asyncio.sleep(services.settings.scheduler_interval_seconds)
        try:
            changes = await asyncio.to_thread(services.ticker.tick, now=services.clock.now())
            if changes:
                log.info("scheduler recorded %d status changes", changes)
        except Exception:  # keep the scheduler alive; the failure is logged, not swallowed
            log.exception("scheduler tick failed")


def create_app(services: Services, *, run_scheduler: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_run_scheduler(services)) if run_scheduler else None
        try:
            yield
        finally:
            if task is not None:
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
    errors.install(app)
    app.include_router(evidence.router)
    app.include_router(public.router)
    app.include_router(person.router)
    app.include_router(person_pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
