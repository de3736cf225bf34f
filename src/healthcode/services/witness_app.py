"""The witness's HTTP interface: C2SP tlog-witness ``POST /add-checkpoint`` and a status page."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from healthcode.services.witness import Witness
from healthcode.services.witness_protocol import (
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    WitnessError,
    format_cosignatures,
)

__all__ = ["create_witness_app"]


def _refusal(error: WitnessError) -> Response:
    if error.latest_size is not None:
        # Set the header by hand: Starlette would append "; charset=utf-8" to a text/*
        # media type, and the spec names the Content-Type exactly.
        return Response(
            f"{error.latest_size}\n",
            status_code=error.status,
            headers={"Content-Type": SIZE_CONTENT_TYPE},
        )
    return PlainTextResponse(f"{error.message}\n", status_code=error.status)


def create_witness_app(witness: Witness) -> FastAPI:
    """A FastAPI app serving ``witness`` at the root of its submission prefix."""
    app = FastAPI(title="healthcode witness", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST_BYTES:
                return PlainTextResponse("request body too large\n", status_code=400)
        try:
            # The witness blocks on its lock and an fsync; keep that off the event loop.
            lines = await run_in_threadpool(witness.handle, bytes(body))
        except WitnessError as exc:
            return _refusal(exc)
        return PlainTextResponse(format_cosignatures(lines))

    @app.get("/")
    def status() -> JSONResponse:
        return JSONResponse(witness.status())

    return app
