"""Numbers as JSON holds them, for the fields of signed records and request bodies.

Pydantic's lax mode reads the text ``"2"`` and the flag ``true`` as integers, and ``"false"``,
``"no"``, ``0`` as the flag False: a signed record or a published rulebook would then count as
something other than what it says. Flags are pydantic's ``StrictBool``; integers `JsonInt`, or
with bounds ``Annotated[int, Strict(), Field(ge=1), WHOLE]``: the bounds before `WHOLE`, or
the JSON Schema shows them as ``ge``/``le`` rather than ``minimum``/``maximum``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Strict


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
