"""Rendering pages: one Jinja2 environment, the request's language and the local time zone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.routing import Match

from healthcode.errors import Detail, HealthcodeError
from healthcode.web.auth import SIGNED_OUT
from healthcode.web.i18n import LANG_COOKIE, gettext_for, local_time, pick_language

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def error_message(request: Request, error: HealthcodeError) -> str:
    """A refusal as a page shows it: the catalogue's message in the page's language, with its
    detail. A `Detail` (why, a limit) is shown in the page's language; any other detail (a
    field name, a record's reference) is written for operators and clients, so only the
    English page adds it and the Chinese page stays Chinese."""
    detail = error.detail
    if language(request) == "zh":
        if not isinstance(detail, Detail):
            return error.spec.zh
        translated = gettext_for("zh")(detail.template)
        said = translated % detail.params if detail.params else translated
        return f"{error.spec.zh.removesuffix('。')}（{said}）。"
    return f"{error.spec.en} ({detail})" if detail else error.spec.en


def language_link(request: Request, other: str) -> str:
    """Where the language switch leads: this page again in the other language, its other
    query parameters kept. A page that answers a form (a scan, a pass check, a refused appeal)
    has no address a browser can open again: there the switch leads to the nearest page above
    it that has one (``/me/scan`` to ``/me``, ``/venue/check`` to ``/venue``), rather than to
    a "method not allowed"."""
    if request.method in {"GET", "HEAD"}:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        return "?" + urlencode([*kept, ("lang", other)])
    path = request.url.path.rstrip("/")
    while path and not _opens(request, path):
        path = path.rsplit("/", 1)[0]
    return f"{quote(path or '/')}?lang={other}"


def _opens(request: Request, path: str) -> bool:
    scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


def hours_minutes(left: timedelta | None) -> tuple[int, int]:
    """Whole hours and minutes of a time left (for "5 h 12 min"); nothing left is zero."""
    seconds = max(0, int(left.total_seconds())) if left is not None else 0
    return seconds // 3600, seconds % 3600 // 60


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    timezone = request.app.state.services.settings.timezone
    body = _env.get_template(template).render(
        _=gettext_for(lang),
        lang=lang,
        other_lang="en" if lang == "zh" else "zh",
        language_href=language_link(request, "en" if lang == "zh" else "zh"),
        path=request.url.path,
        when=lambda value: local_time(value, timezone),
        timezone=timezone,
        signed_in=any(cookie in request.cookies for cookie in SIGNED_OUT.values()),
        **context,
    )
    response = HTMLResponse(body, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
