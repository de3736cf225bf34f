"""How the HTTP tests call the API: a caller's bearer token in a header."""

from __future__ import annotations

from tests.town import Town


def bearer(town: Town, subject: str, role: str = "person") -> dict[str, str]:
    return {"Authorization": f"Bearer {town.token(subject, role)}"}
