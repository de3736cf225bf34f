"""A member of staff replaces the password the operator set with one of their own
(services/staff_passwords.py): logged as a ``staff_password`` entry with its row, refused with
nothing written otherwise, and checked by the self-check."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, update

from healthcode.domain.log_entries import actor_tag
from healthcode.errors import HealthcodeError, TooManyAttempts
from healthcode.services.orders import staff_secret_key
from healthcode.services.staff_passwords import PasswordState
from healthcode.store import tables as t
from tests.counting import counts
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town

BADGE, FIRST = "zz-off-1", "correct horse 1"  # as tests/town.py registers them
OWN = "only I know this 1"


def change(town: Town, current: str, new: str, **kwargs: object) -> int:
    return town.services.staff_passwords.change(BADGE, current, new, now=town.clock.now(), **kwargs)


def refused(town: Town, code: str, current: str, new: str, **kwargs: object) -> None:
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as caught:
        change(town, current, new, **kwargs)
    assert caught.value.code == code
    after = counts(town.services.db)
    # A wrong current password is a failed sign-in: only the throttle's count grows.
    assert {k: v for k, v in after.items() if k != "sign_in_failures"} == {
        k: v for k, v in before.items() if k != "sign_in_failures"
    }


def test_the_change_is_logged_and_the_new_password_signs_in(town: Town) -> None:
    town.register_staff()
    passwords = town.services.staff_passwords
    assert passwords.state(BADGE) == PasswordState(operator_knows=True, last_change=None)
    assert not passwords.state("zz-sup-1").operator_knows  # no password: tokens only
    size = log_size(town)
    index = change(town, FIRST, OWN)
    [(at, kind, body)] = entries_after(town, size)
    assert (at, kind) == (index, "staff_password")
    data = json.loads(body)["data"]
    secret = town.services.secrets.secret(staff_secret_key(BADGE))
    assert data == {
        "staff": actor_tag(secret, index), "role": "official", "authority": "zz-health",
        "proven_by": "current_password", "changed_at": data["changed_at"],
    }  # fmt: skip
    assert BADGE not in body.decode() and "argon2" not in body.decode()
    state = passwords.state(BADGE)
    assert not state.operator_knows and state.last_change is not None
    assert (state.last_change.log_index, state.last_change.staff_id) == (index, BADGE)
    town.services.staff.sign_in(BADGE, OWN, now=town.clock.now())
    with pytest.raises(HealthcodeError):
        town.services.staff.sign_in(BADGE, FIRST, now=town.clock.now())
    # The operator sets one again: theirs once more, and the self-check still agrees.
    town.services.staff.register(
        [{"id": BADGE, "role": "official", "authority": "zz-health", "name": "张伟",
          "password": "the operator's 2"}], now=town.clock.now(),
    )  # fmt: skip
    assert passwords.state(BADGE).operator_knows
    assert town.services.self_check.run(now=town.clock.now(), halt=False).problems == []


def test_refused_with_nothing_written(town: Town) -> None:
    town.register_staff()
    refused(town, "staff_password.operator_token", FIRST, OWN, operator_token="f" * 32)
    refused(town, "staff_password.invalid", FIRST, "short")
    refused(town, "staff_password.invalid", FIRST, FIRST)
    refused(town, "staff_password.invalid", FIRST, "x" * 201)
    refused(town, "staff_password.current_wrong", "not the password", OWN)
    with pytest.raises(HealthcodeError) as caught:
        town.services.staff_passwords.change("zz-sup-1", "anything 1", OWN, now=town.clock.now())
    assert caught.value.code == "staff_password.current_wrong"  # no password to prove


def test_a_wrong_current_password_counts_as_a_failed_sign_in(town: Town) -> None:
    town.register_staff()
    for _ in range(town.services.staff.throttle.policy.per_badge):
        with pytest.raises(HealthcodeError):
            change(town, "a wrong guess", OWN)
    with pytest.raises(TooManyAttempts):  # the right one is refused too, while throttled
        change(town, FIRST, OWN)
    with pytest.raises(TooManyAttempts):
        town.services.staff.sign_in(BADGE, FIRST, now=town.clock.now())


def test_the_self_check_catches_an_edited_or_deleted_change(town: Town) -> None:
    town.register_staff()
    change(town, FIRST, OWN)
    c = t.staff_password_changes
    with town.services.db.write() as conn:
        conn.execute(update(c).values(role="supervisor"))
    found = town.services.self_check.run(now=town.clock.now(), halt=False).problems
    assert any("(staff_password) does not match the record it logs" in p for p in found)
    with town.services.db.write() as conn:
        conn.execute(delete(c))
    found = town.services.self_check.run(now=town.clock.now(), halt=False).problems
    assert any("(staff_password) has no stored record" in p for p in found)


def test_each_sign_in_with_the_password_is_logged_and_listed(town: Town) -> None:
    town.register_staff()
    size = log_size(town)
    town.services.staff.sign_in(BADGE, FIRST, now=town.clock.now())
    [(index, kind, body)] = entries_after(town, size)
    assert kind == "staff_sign_in"
    secret = town.services.secrets.secret(staff_secret_key(BADGE))
    data = json.loads(body)["data"]
    assert data == {
        "staff": actor_tag(secret, index), "role": "official", "authority": "zz-health",
        "with": "password", "at": data["at"],
    }  # fmt: skip
    assert BADGE not in body.decode()
    with pytest.raises(HealthcodeError):  # a failed one is the throttle's, not the log's
        town.services.staff.sign_in(BADGE, "wrong", now=town.clock.now())
    assert log_size(town) == index + 1
    town.services.staff.sign_in(BADGE, FIRST, now=town.clock.now())
    latest = town.services.staff.sign_ins(BADGE)
    assert [s.log_index for s in latest] == [index + 1, index]
    assert town.services.staff.sign_ins("zz-sup-1") == []
    assert town.services.self_check.run(now=town.clock.now(), halt=False).problems == []
    with town.services.db.write() as conn:
        conn.execute(delete(t.staff_sign_ins).where(t.staff_sign_ins.c.log_index == index))
    found = town.services.self_check.run(now=town.clock.now(), halt=False).problems
    assert any(f"entry {index} (staff_sign_in) has no stored record" in p for p in found)
