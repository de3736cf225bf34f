"""Mapping errors to answers: ``{"code", "message": {"zh", "en"}}`` with the catalogue's status.

Refused writes are recorded in the refusal table (code, route, source; never the content).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from healthcode.errors import CATALOGUE, HealthcodeError, InputRejected, Unauthorized

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)


def _record(request: Request, error: HealthcodeError) -> None:
    if request.method not in _WRITES:
        return
    services = request.app.state.services
    source_id = request.state.__dict__.get("source_id")
    if error.code == "source.unknown":
        source_id = None  # an unregistered name is the caller's text, not ours to keep
    services.refusals.record(
        error, route=_route(request), source_id=source_id, now=services.clock.now()
    )


def error_response(error: HealthcodeError) -> JSONResponse:
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if isinstance(error, Unauthorized) and error.spec.http_status == 401
        else None
    )
    return JSONResponse(error.as_body(), status_code=error.spec.http_status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(HealthcodeError)
    async def _healthcode(request: Request, error: HealthcodeError) -> JSONResponse:
        _record(request, error)
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        code = (
            "batch.malformed"
            if _route(request).startswith("/api/v1/evidence")
            else "request.malformed"
        )
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        refused = InputRejected(code, f"{where}: {first.get('type', 'invalid')}")
        _record(request, refused)
        return error_response(refused)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            body = {"code": "not_found", "message": {"zh": "未找到。", "en": "Not found."}}
        elif error.status_code == 405:
            body = {
                "code": "method_not_allowed",
                "message": {"zh": "不支持该请求方法。", "en": "Method not allowed."},
            }
        else:
            body = {"code": "http_error", "message": {"zh": "请求失败。", "en": str(error.detail)}}
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def documented_codes() -> set[str]:
    """Every code an answer may carry: the catalogue and the framework's own three."""
    return set(CATALOGUE) | {"not_found", "method_not_allowed", "http_error"}
