"""Every route of the app, flattened (FastAPI keeps included routers as nested objects)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute


def _walk(routes: Iterable[object]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _walk(nested.routes)


def all_routes(app: FastAPI) -> list[APIRoute]:
    return list(_walk(app.routes))
