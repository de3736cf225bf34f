"""Authorities whose appeals lapse unanswered, or are overturned, far more often than others'."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import func, select

from healthcode.domain.oversight import Finding, appeal_ref
from healthcode.domain.oversight.appeal_rates import (
    AppealRatePolicy,
    AuthorityOutcomes,
    rate_anomalies,
)
from healthcode.oversight.api import DetectorContext
from healthcode.store import tables as t

_WORDS = {"lapsed": ("逾期未答复", "lapsed unanswered"), "overturned": ("被撤销", "overturned")}


class AppealOutcomes:
    name = "appeal_outcomes"
    title_zh = "申诉逾期或撤销率异常的机关"
    title_en = "Authorities with unusual appeal lapse or overturn rates"

    def __init__(self, policy: AppealRatePolicy = AppealRatePolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        a = t.appeals
        in_window = (a.c.filed_at >= context.since, a.c.filed_at < context.now)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in context.conn.execute(
            select(a.c.authority_id, a.c.status, func.count().label("n"))
            .where(*in_window, a.c.status != "open")
            .group_by(a.c.authority_id, a.c.status)
        ):
            counts[row.authority_id][row.status] += row.n
        outcomes = {
            authority: AuthorityOutcomes(
                decided=sum(by.values()), lapsed=by["lapsed"], overturned=by["overturned"]
            )
            for authority, by in counts.items()
        }
        for found in rate_anomalies(outcomes, self.policy):
            ids = context.conn.scalars(
                select(a.c.id).where(
                    *in_window,
                    a.c.authority_id == found.authority_id,
                    a.c.status == found.outcome,
                )
            )
            zh, en = _WORDS[found.outcome]
            yield Finding(
                detector=self.name,
                subject=f"authority:{found.authority_id}",
                summary_zh=f"{found.authority_id} 已决的 {found.decided} 件申诉中有 {found.count} 件"
                f"{zh}，其他机关的比率为 {found.expected_rate:.1%}（精确二项检验 p = {found.p_value:.2g}）。",
                summary_en=f"{found.authority_id}: {found.count} of {found.decided} decided "
                f"appeals {en}, against {found.expected_rate:.1%} at other authorities "
                f"(exact binomial p = {found.p_value:.2g}).",
                score=found.count / found.decided,
                window_from=context.since,
                window_to=context.now,
                records=tuple(sorted(appeal_ref(i) for i in ids)),
            )
