"""Structured logs: one JSON object a line, and never personal data in it.

``HEALTHCODE_LOG_FORMAT=json`` (``Settings.log_format``) turns them on in the server. Each line
holds the time, level, logger and message, and, for a line written while a request is served,
the request's id, method, route *template* (``/api/v1/persons/{person_key}/status``, never the
path it was called with), status and duration. Nothing else of a request is ever written: no
path, query string, header, cookie, token or body, so no person key, name or sign-in link can
reach the log through the request. Only the fields named here are written, whatever ``extra``
a caller passes; an exception is written as its type and frames, without its message (a
message may quote the input that caused it). As a second fence, anything in a message shaped
like a person key (32 hex digits) or a JWT is replaced by ``[redacted]``.

Uvicorn's own access log writes the raw path with its query string (``/login?token=...``), so
in JSON mode it is switched off and ``healthcode.access`` (web/instrument.py) writes one line a
request instead; the HTTP clients' INFO lines (every URL fetched) are dropped for the same
reason.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

ACCESS = "healthcode.access"
FORMATS = ("text", "json")
QUIETED = ("httpx", "httpx2", "httpcore", "httpcore2")  # below WARNING in JSON mode

# A person key (domain/people.py: 32 lowercase hex digits) or a JWT (three base64url parts, the
# first one a JSON object: "eyJ"), wherever they stand in a message.
_PERSONAL = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])|eyJ[\w-]+\.[\w-]+\.[\w-]*", re.ASCII
)
REDACTED = "[redacted]"
UNMATCHED = "<unmatched>"  # no route matched (a 404): the path itself is never written


def route_template(scope: Mapping[str, Any]) -> str | None:
    """The template of the route that matched (set in the scope by routing), if any yet."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


@dataclass
class RequestContext:
    """What a log line may say about the request being served; filled in as it is known."""

    request_id: str
    method: str
    scope: Mapping[str, Any]  # read for the route template only, once routing has matched
    status: int | None = None
    duration_ms: float | None = None

    @property
    def route(self) -> str | None:
        return route_template(self.scope)


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


def redact(text: str) -> str:
    return _PERSONAL.sub(REDACTED, text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with only the whitelisted fields (module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        # The access line passes its context explicitly (it is written after the request's
        # context is gone); any other line written while serving a request gets that request's.
        context = getattr(record, "request", None) or current_request.get()
        if isinstance(context, RequestContext):
            line["request_id"] = context.request_id
            line["method"] = context.method
            line["route"] = context.route or UNMATCHED
            if context.status is not None:
                line["status"] = context.status
            if context.duration_ms is not None:
                line["duration_ms"] = context.duration_ms
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])
            line["stack"] = [f"{f.filename}:{f.lineno} {f.name}" for f in frames]
        return json.dumps(line, ensure_ascii=False)


_HANDLER_NAME = "healthcode-json"


def configure(log_format: str, stream: TextIO | None = None) -> None:
    """Install the JSON lines on the root logger (``json``), or leave logging as it is
    (``text``). Runs at the server's start-up, after uvicorn has configured its loggers, and
    may run again (the handler is replaced, not added twice)."""
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: one of {', '.join(FORMATS)}")
    if log_format == "text":
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Uvicorn's loggers write through the root, in JSON, instead of their own text handlers.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Its access lines carry the raw path and query string: replaced by healthcode.access.
    logging.getLogger("uvicorn.access").disabled = True
    # The HTTP clients log every URL they fetch, query string and all, at INFO (the server
    # fetches only witnesses; their warnings still come through).
    for name in QUIETED:
        logging.getLogger(name).setLevel(logging.WARNING)
