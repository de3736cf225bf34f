"""Staff registrations: a password reset, a supervisor added beside active ones, a member
brought back and an authority's last supervisor removed are found; an authority's first
supervisors and a re-registration that changes nothing are not."""

from dataclasses import replace
from datetime import UTC, datetime

from healthcode.domain.oversight.staff_registry import flagged_registrations, reasons
from healthcode.domain.staff_registry import StaffRegistration, Standing, password_state

AT = datetime(2026, 6, 1, 8, tzinfo=UTC)
SUPERVISING = Standing("supervisor", "zz-health", True, had_password=True)


def registration(**fields: object) -> StaffRegistration:
    made = StaffRegistration(
        7, "zz-sup-2", "supervisor", "王芳", "zz-health", None, True, "kept", SUPERVISING, 1,
        None, AT,
    )  # fmt: skip
    return replace(made, **fields)  # type: ignore[arg-type]


def test_the_password_state_is_set_kept_or_none() -> None:
    assert password_state(given=True, had=True) == "set"
    assert password_state(given=True, had=False) == "set"
    assert password_state(given=False, had=True) == "kept"
    assert password_state(given=False, had=False) == "none"


def test_a_new_password_on_a_member_who_had_one_is_a_reset() -> None:
    assert reasons(registration(password="set")) == ("password_reset",)
    # A first password (the member had none: tokens only) is not.
    first = replace(SUPERVISING, had_password=False)
    assert reasons(registration(password="set", before=first)) == ()


def test_a_supervisor_added_beside_an_active_one_is_found() -> None:
    assert reasons(registration(before=None, password="none")) == ("supervisor_added",)
    official = Standing("official", "zz-health", True, had_password=True)
    assert reasons(registration(before=official)) == ("supervisor_added",)
    elsewhere = replace(SUPERVISING, authority_id="sh-health")
    assert reasons(registration(before=elsewhere)) == ("supervisor_added",)


def test_an_authoritys_first_supervisor_is_not() -> None:
    assert reasons(registration(before=None, supervisors_before=0)) == ()
    assert reasons(registration(before=None, role="official", supervisors_before=3)) == ()
    assert reasons(registration(before=None, active=False, supervisors_before=3)) == ()


def test_a_re_registration_that_changes_nothing_is_not() -> None:
    assert reasons(registration()) == ()
    assert flagged_registrations([registration(), registration(log_index=9)]) == []


def test_a_member_brought_back_or_the_last_supervisor_removed_is_found() -> None:
    asleep = replace(SUPERVISING, active=False)
    assert reasons(registration(before=asleep, supervisors_before=0)) == ("reactivated",)
    assert reasons(registration(active=False, supervisors_left=0)) == ("last_supervisor_removed",)
    assert reasons(registration(active=False, supervisors_left=1)) == ()


def test_found_in_log_order_with_their_reasons_in_both_languages() -> None:
    found = flagged_registrations([
        registration(
            log_index=9, password="set", before=replace(SUPERVISING, active=False),
            supervisors_before=0,
        ),
        registration(log_index=3, password="set"),
    ])  # fmt: skip
    assert [f.registration.log_index for f in found] == [3, 9]
    assert found[1].reasons == ("password_reset", "reactivated")
    assert "new password" in found[1].text(1) and "新密码" in found[1].text(0)
