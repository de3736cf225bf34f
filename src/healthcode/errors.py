"""The one exception tree of healthcode, with stable codes and bilingual messages.

Every refusal a person or a client can see is an ``HealthcodeError`` carrying a code from
``CATALOGUE`` (``data/errors.yaml``: the HTTP status and the message in Chinese and English of
each code); the web layer maps the code to its HTTP status, and ``docs/errors.md`` lists every
code (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml


@dataclass(frozen=True)
class ErrorSpec:
    http_status: int
    zh: str
    en: str


def _load_catalogue() -> dict[str, ErrorSpec]:
    loaded = yaml.safe_load(resources.files("healthcode.data").joinpath("errors.yaml").read_text())
    return {
        code: ErrorSpec(spec["status"], spec["zh"], spec["en"]) for code, spec in loaded.items()
    }


CATALOGUE: dict[str, ErrorSpec] = _load_catalogue()


class Detail(str):
    """A refusal's detail that a person reads: an English template with named parameters
    (``Detail("at most %(days)d days", days=14)``), so that a page in Chinese shows it from
    the page catalogue (``make messages`` extracts the template; the parameters are filled
    in after translation). As a ``str`` it is the English text, which is what the API's
    ``detail`` and the server's log carry. A detail that is a plain ``str`` is for operators
    and clients (a field name, a record's reference) and only the English page shows it."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> Detail:
        made = super().__new__(cls, template % params if params else template)
        made.template = template
        made.params = params
        return made


class HealthcodeError(Exception):
    """Base of every error healthcode raises on purpose."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in CATALOGUE:
            raise KeyError(f"error code {code!r} is not in the catalogue")
        self.code = code
        # ``detail`` is for operators and clients (field names, limits); never personal data.
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def spec(self) -> ErrorSpec:
        return CATALOGUE[self.code]

    def as_body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "code": self.code,
            "message": {"zh": self.spec.zh, "en": self.spec.en},
        }
        if self.detail:
            body["detail"] = self.detail
        return body


class InputRejected(HealthcodeError):
    """Input that is malformed, unsigned, out of scope or otherwise refused; nothing is written."""


class NotFound(HealthcodeError):
    """A named thing does not exist."""


class Unauthorized(HealthcodeError):
    """The caller is not authenticated or not allowed."""


class TooManyAttempts(HealthcodeError):
    """Too many failed sign-ins: refused for ``retry_after`` seconds (a ``Retry-After``)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("auth.too_many_attempts", f"retry after {retry_after} seconds")
        self.retry_after = retry_after


class StoreFault(HealthcodeError):
    """The store lacks what it must hold (a log tile it lost): the server's fault, not the
    caller's, so a 5xx."""


class HostFault(HealthcodeError):
    """The host lacks what the server needs to answer (a font to print cards with): the
    operator's fault, not the caller's, so a 5xx that names what to install."""
