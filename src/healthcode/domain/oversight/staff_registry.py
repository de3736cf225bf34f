"""Staff registrations that hand the operator, or someone new, a supervisor's power (A5, A8).

The operator registers staff. A load that sets a new password on a member who had one (the
operator now knows it, signs in as them and meets every two-person rule alone), that adds a
supervisor to an authority whose supervisors were already active (a co-signer none of them
knows of), that brings a deactivated member back, or that removes an authority's last active
supervisor (no one is left to co-sign, or to refuse) is logged like any other registration;
each is a finding about the member, naming the registration. The first supervisors of an
authority, set up in one load, and a re-registration that changes nothing are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from healthcode.domain.staff_registry import StaffRegistration

# Why a registration is a finding, each with its text in Chinese and English.
REASONS = {
    "password_reset": (
        "运营方为一名已有密码的工作人员设置了新密码（运营方可以本人身份登录）",
        "the operator set a new password for a member who already had one (the operator can "
        "sign in as them)",
    ),
    "supervisor_added": (
        "在已有在职主管的机构新增一名主管（联签不再只由原有主管完成）",
        "a supervisor was added to an authority that already had an active supervisor (a "
        "co-signer the others did not appoint)",
    ),
    "reactivated": (
        "一名已停用的工作人员被重新启用",
        "a deactivated member was made active again",
    ),
    "last_supervisor_removed": (
        "机构的最后一名在职主管被停用或调离（再无人可以联签）",
        "the authority's last active supervisor was deactivated or moved (no one is left to "
        "co-sign)",
    ),
}


@dataclass(frozen=True)
class FlaggedRegistration:
    registration: StaffRegistration
    reasons: tuple[str, ...]  # keys of REASONS, in their order there

    def text(self, language: int) -> str:
        """The reasons joined, in Chinese (0) or English (1)."""
        return ("；" if language == 0 else "; ").join(REASONS[r][language] for r in self.reasons)


def reasons(registration: StaffRegistration) -> tuple[str, ...]:
    """Why this registration hands out or takes away a supervisor's power; () if it does not."""
    before = registration.before
    found = []
    if before is not None and before.had_password and registration.password == "set":
        found.append("password_reset")
    if (
        registration.supervises
        and (registration.supervisors_before or 0) > 0
        and not (before is not None and before.supervises(registration.authority_id))
    ):
        found.append("supervisor_added")
    if before is not None and not before.active and registration.active:
        found.append("reactivated")
    if registration.supervisors_left == 0:
        found.append("last_supervisor_removed")
    return tuple(found)


def flagged_registrations(
    registrations: Sequence[StaffRegistration],
) -> list[FlaggedRegistration]:
    """Each registration with a reason, in log order."""
    flagged = []
    for registration in sorted(registrations, key=lambda r: r.log_index):
        why = reasons(registration)
        if why:
            flagged.append(FlaggedRegistration(registration, why))
    return flagged
