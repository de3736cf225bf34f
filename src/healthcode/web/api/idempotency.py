"""The ``Idempotency-Key`` request header (the IETF httpapi draft's) of issuing orders and of
filing appeals: a retry with the same key and body answers as the first request did and writes
nothing (services/idempotency.py). Its rule is in /openapi.json; the service enforces it, with a
code of its own (``idempotency.key_invalid``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from healthcode.services.idempotency import HEADER_PATTERN, KEY_RULE


def _schema(schema: dict[str, Any]) -> None:
    """A header is a string or absent, never null: one string schema, with the key's rule."""
    schema.pop("anyOf", None)
    schema.update(type="string", pattern=HEADER_PATTERN)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            f"Optional: {KEY_RULE}, chosen by the client for this write (a UUID, say). A retry "
            "with the same key and the same body answers as the first request did and writes "
            "nothing; the same key with another body is refused (`idempotency.key_reused`)."
        ),
        json_schema_extra=_schema,
    ),
]
