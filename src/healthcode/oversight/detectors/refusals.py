"""Officials whose refused acts of an abuse's shape keep coming (``refused_acts``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import select

from healthcode.domain.oversight import Finding, refusal_ref
from healthcode.domain.oversight.refusals import ABUSE_CODES, RefusalPolicy, repeated_refusals
from healthcode.oversight.api import DetectorContext
from healthcode.store import tables as t


class RefusedActs:
    name = "refused_acts"
    title_zh = "屡次被拒绝的越权或无据操作"
    title_en = "Repeated refused acts without evidence or authority"

    def __init__(self, policy: RefusalPolicy = RefusalPolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        r = t.refusals
        refused: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row in context.conn.execute(
            select(r.c.actor_id, r.c.id, r.c.code).where(
                r.c.actor_id.is_not(None),  # the condition of `ix_refusals_actor`
                r.c.at >= context.since,
                r.c.at < context.now,
                r.c.code.in_(sorted(ABUSE_CODES)),
            )
        ):
            refused[row.actor_id].append((int(row.id), row.code))
        for found in repeated_refusals(refused, self.policy):
            subject = f"official:{found.official}"
            codes = ", ".join(f"{code} × {n}" for code, n in found.codes)
            yield Finding(
                detector=self.name,
                subject=subject,
                summary_zh=f"{subject} 在此期间有 {found.count} 次操作因缺乏本人证据、越出辖区"
                f"或自行联签等原因被拒绝（{codes}）。",
                summary_en=f"{subject}: {found.count} acts refused in the period for missing or "
                f"someone else's evidence, another jurisdiction or a self co-signature ({codes}).",
                score=float(found.count),
                window_from=context.since,
                window_to=context.now,
                records=tuple(sorted(refusal_ref(i) for i in found.refusals)),
            )
