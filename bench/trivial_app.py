"""The peer of ``bench/http_load.py``: a bare FastAPI app answering a tiny JSON.

``python -m bench.trivial_app --port N`` serves it with exactly the uvicorn call of
``healthcode serve`` (one process, the same loop, HTTP parser and access log), so what the
benchmark compares is our request path against the framework's own cost. Two endpoints: an
``async def`` one, the framework's ceiling (the peer the goals are measured against), and a
plain ``def`` one, which FastAPI runs in its thread pool as it runs every healthcode endpoint.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI(title="trivial")


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/ping-sync")
def ping_sync() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.trivial_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
