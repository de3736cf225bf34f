"""Staff registrations that reset a password or hand out a supervisor's power (``staff_registry``)."""

from __future__ import annotations

from collections.abc import Iterator

from healthcode.domain.log_entries import instant_text
from healthcode.domain.oversight import Finding, staff_registration_ref
from healthcode.domain.oversight.staff_registry import flagged_registrations
from healthcode.oversight.api import DetectorContext
from healthcode.store import staff_registrations as registrations_repo


class StaffRegistry:
    name = "staff_registry"
    title_zh = "运营方重置密码或变动主管的工作人员登记"
    title_en = "Staff registrations that reset a password or change an authority's supervisors"

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        found = registrations_repo.recorded_between(context.conn, context.since, context.now)
        for flagged in flagged_registrations(found):
            registration = flagged.registration
            subject = f"official:{registration.staff_id}"
            at = instant_text(registration.recorded_at)
            where = registration.authority_id or "—"
            yield Finding(
                detector=self.name,
                subject=subject,
                summary_zh=f"{subject}（{registration.role}，机构 {where}）于 {at} 由运营方登记："
                f"{flagged.text(0)}。",
                summary_en=f"{subject} ({registration.role}, authority {where}) registered by "
                f"the operator at {at}: {flagged.text(1)}.",
                score=float(len(flagged.reasons)),
                window_from=context.since,
                window_to=context.now,
                records=(staff_registration_ref(registration.log_index),),
            )
