"""Mapping errors to answers: ``{"code", "message": {"zh", "en"}}`` with the catalogue's status.

Refused writes are recorded in the refusal table (code, route, source, and the staff member
whose act it was; never the content).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from healthcode.errors import (
    CATALOGUE,
    HealthcodeError,
    InputRejected,
    TooManyAttempts,
    Unauthorized,
)
from healthcode.web.api.schemas import ErrorBody, has_nul
from healthcode.web.auth import PageForbidden
from healthcode.web.bodies import BodyTooLarge, route_limit
from healthcode.web.pages.rendering import error_message, render
from healthcode.web.routes import all_routes

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)


def _record(request: Request, error: HealthcodeError) -> None:
    if request.method not in _WRITES:
        return
    services = request.app.state.services
    # `getattr`: Starlette's `State` keeps its attributes in a dict of its own, not `__dict__`.
    source_id = getattr(request.state, "source_id", None)
    if error.code == "source.unknown":
        source_id = None  # an unregistered name is the caller's text, not ours to keep
    services.refusals.record(
        error, route=_route(request), source_id=source_id, now=services.clock.now(),
        by=getattr(request.state, "refused_staff", None),  # set by `auth.authenticate`
    )  # fmt: skip


def error_response(error: HealthcodeError) -> JSONResponse:
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if isinstance(error, Unauthorized) and error.spec.http_status == 401
        else None
    )
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    return JSONResponse(error.as_body(), status_code=error.spec.http_status, headers=headers)


async def refuse_nul(request: Request) -> None:
    """Every route's first dependency: a NUL in the path or the query is refused before any
    lookup (PostgreSQL cannot compare text holding one; SQLite would answer "not found"), the
    same on both stores. Request bodies are checked by ``schemas.Closed``. ``async``: it only
    looks at the request, and FastAPI would otherwise hand it to a worker thread, a cost
    every request paid."""
    query = request.query_params.multi_items()
    if has_nul(request.scope.get("path", "")) or has_nul(query):
        raise InputRejected("request.malformed", "a NUL character")


def install(app: FastAPI) -> None:
    """Before any router is included: the routes included later inherit ``refuse_nul``."""
    app.router.dependencies.insert(0, Depends(refuse_nul))

    @app.exception_handler(HealthcodeError)
    async def _healthcode(request: Request, error: HealthcodeError) -> JSONResponse:
        _record(request, error)
        return error_response(error)

    @app.exception_handler(PageForbidden)
    async def _page_forbidden(request: Request, forbidden: PageForbidden) -> HTMLResponse:
        # Recorded like the API's refusal of a write; a page, as the caller came for one.
        refusal = forbidden.refusal
        _record(request, refusal)
        return render(
            request, "forbidden.html", status_code=refusal.spec.http_status, code=refusal.code,
            message=error_message(request, refusal),
        )  # fmt: skip

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
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        headers = error.headers
        if error.status_code == 400:
            # The framework could not read the body (not UTF-8, not JSON, a broken form): the
            # same stable code, and the same refusal record, as any other malformed request.
            refused = InputRejected("request.malformed", f"body: {error.detail}")
            _record(request, refused)
            return error_response(refused)
        if isinstance(error, BodyTooLarge):  # counted while it arrived (web/bodies.py)
            refused = InputRejected(
                "request.too_large", f"at most {route_limit(request.scope)} bytes"
            )
            _record(request, refused)
            return error_response(refused)
        if error.status_code == 404 and _browsing(request):
            return render(
                request, "page_missing.html", status_code=404,
                message=error_message(request, HealthcodeError("not_found")),
            )  # fmt: skip
        if error.status_code in (404, 405):
            # No route, or no such method on it: not declared on an operation (an operation
            # is a method the path has); 405 says which it has (RFC 9110, Allow).
            body = HealthcodeError(
                "not_found" if error.status_code == 404 else "method_not_allowed"
            ).as_body()
            if error.status_code == 405:
                headers = {**(headers or {}), "Allow": _allowed(request)}
        else:
            body = {"code": "http_error", "message": {"zh": "请求失败。", "en": str(error.detail)}}
        return JSONResponse(body, status_code=error.status_code, headers=headers)

    document(app)


def _browsing(request: Request) -> bool:
    """A browser opening an address that is no page (a mistyped link): it asks for HTML, and
    the address is not the API's or the log's, whose clients read the JSON refusal."""
    return (
        request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
        and not request.url.path.startswith(("/api/", "/log/"))
    )


def _allowed(request: Request) -> str:
    """Every method of the path, not only those of the first route that matched it: a path's
    GET and POST often live in different routers (RFC 9110: Allow lists them all)."""
    methods: set[str] = set()
    for route in all_routes(request.app):
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def document(app: FastAPI) -> None:
    """Make /openapi.json say what the handlers above answer: every error is an ``ErrorBody``
    in JSON (a route answering text or a picture still refuses in JSON), and every operation
    may be refused as ``request.malformed`` (422): its parameters or body, or a NUL in its query
    (``refuse_nul``); an operation with a body may be refused as ``request.too_large`` (413)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _bearer(_errors_in_json(build()), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _bearer(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Declare the bearer token on every operation whose policy is not public, so a client (and
    the fuzzer's ``ignored_auth`` check) knows the operation refuses a request without one."""
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    for route in all_routes(app):
        policies = [getattr(dep.call, "policy", None) for dep in route.dependant.dependencies]
        if not any(p is not None and p.scope not in ("public", "source") for p in policies):
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{"bearer": []}]
    return schema


def _errors_in_json(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components.setdefault("ErrorBody", error_schema)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("422", {"description": "Malformed request"})
            if "requestBody" in operation:  # over its size limit (web/bodies.py)
                responses.setdefault("413", {"description": "Request body too large"})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = dict(error)
    # FastAPI's own validation error shape is never sent (``_validation`` answers ErrorBody).
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def documented_codes() -> set[str]:
    """Every code an answer may carry: the catalogue, and any other framework refusal."""
    return set(CATALOGUE) | {"http_error"}
