"""Numbers and instants as JSON holds them, for the fields of signed records and request bodies.

Pydantic's lax mode reads the text ``"2"`` and the flag ``true`` as integers, and ``"false"``,
``"no"``, ``0`` as the flag False: a signed record or a published rulebook would then count as
something other than what it says. Flags are pydantic's ``StrictBool``; integers `JsonInt`, or
with bounds ``Annotated[int, Strict(), Field(ge=1), WHOLE]``: the bounds before `WHOLE`, or
the JSON Schema shows them as ``ge``/``le`` rather than ``minimum``/``maximum``.

Lax mode reads the number ``1700000000`` (and the text ``"1700000000"``) as a Unix time, too:
an instant is `JsonInstant`, ISO 8601 text with a UTC offset and nothing else, as the API's
schema (``format: date-time``) says.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Strict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError


def _whole_float(value: object) -> object:
    """``2.0`` as 2: it is the same JSON number, and RFC 8785 encodes both as ``2``, so a
    record that sends either signs the same bytes. Anything else is left to the strict check."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


WHOLE = BeforeValidator(_whole_float)
# An integer: never text ("2") nor a flag (true); a whole number written 2.0 is 2, one written
# 2.5 is refused. A validation called with ``strict=False`` (stored records) reads it laxly.
JsonInt = Annotated[int, Strict(), WHOLE]


# A date, then the time: ISO 8601 (RFC 3339) date-time text, never digits alone (a Unix time).
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]")
# Pydantic's own reading of such text, so an instant means what it meant before it was strict.
_FROM_TEXT: TypeAdapter[datetime] = TypeAdapter(datetime)


def _instant_text(value: object) -> object:
    """ISO 8601 date-time text as the instant it writes; the strict check after this refuses
    anything else (a number, a flag, other text), or reads it laxly as before (stored records,
    validated with ``strict=False``). A datetime object, given by code rather than JSON, stays."""
    if type(value) is not str or not _DATE_TIME.match(value):
        return value
    try:
        return _FROM_TEXT.validate_python(value)
    except ValidationError as exc:  # its own type and words, never the value sent
        first = exc.errors()[0]
        raise PydanticCustomError(first["type"], first["msg"]) from None


# An instant in a JSON body: ISO 8601 text with its UTC offset ("Z" or "+08:00"); a number or a
# flag is refused, not read as a Unix time. Validated from Python values (FastAPI and intake
# both do): in JSON mode a strict datetime would still read digits as text. With
# ``strict=False`` for the call (stored records) it reads as lax pydantic always did.
JsonInstant = Annotated[AwareDatetime, Strict(), BeforeValidator(_instant_text)]
