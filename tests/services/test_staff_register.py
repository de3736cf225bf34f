"""Registering staff from the operator's file: a flag is a YAML or JSON boolean; the text
"false" is refused (``registry.invalid``) rather than read as one, and nothing is written."""

from __future__ import annotations

import pytest

from healthcode.errors import InputRejected
from tests.counting import counts
from tests.town import Town

MEMBER = {"id": "zz-off-9", "role": "official", "authority": "zz-health", "name": "赵敏"}


@pytest.mark.parametrize("active", ["false", "no", "0", 0, 1])
def test_an_active_flag_that_is_no_boolean_is_refused_and_changes_nothing(
    town: Town, active: object
) -> None:
    before = counts(town.services.db)
    with pytest.raises(InputRejected) as refused:
        town.services.staff.register([{**MEMBER, "active": active}], now=town.clock.now())
    assert refused.value.code == "registry.invalid" and "active" in str(refused.value)
    assert counts(town.services.db) == before


def test_an_active_flag_is_read_as_given(town: Town) -> None:
    town.services.staff.register([{**MEMBER, "active": False}], now=town.clock.now())
    member = town.services.staff.find("zz-off-9")
    assert member is not None and member.active is False
