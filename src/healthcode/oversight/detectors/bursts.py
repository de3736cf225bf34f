"""Bursts of orders by one official, and of designations by one official or authority."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from healthcode.domain.oversight import Finding, designation_ref, order_ref
from healthcode.domain.oversight.bursts import BurstPolicy, bursts
from healthcode.oversight.api import DetectorContext
from healthcode.oversight.sql import day_label, day_number, day_of, day_start
from healthcode.store import tables as t

DESIGNATION_POLICY = BurstPolicy(min_count=10)


class ActBursts:
    name = "act_bursts"
    title_zh = "命令或风险区划定数量突增"
    title_en = "Bursts of orders or designations"

    def __init__(self, orders: BurstPolicy = BurstPolicy(),
                 designations: BurstPolicy = DESIGNATION_POLICY) -> None:  # fmt: skip
        self.orders = orders
        self.designations = designations

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        yield from self._orders(context)
        yield from self._designations(context)

    def _orders(self, context: DetectorContext) -> Iterator[Finding]:
        o = t.orders
        since = context.since - timedelta(days=self.orders.baseline_days)
        day = day_of(o.c.recorded_at)
        counts = {
            (row.official_id, row.day): row.n
            for row in context.conn.execute(
                select(o.c.official_id, day.label("day"), func.count().label("n"))
                .where(o.c.recorded_at >= since, o.c.recorded_at < context.now)
                .group_by(o.c.official_id, day)
            )
        }
        for burst in bursts(counts, first_day=day_number(context.since), policy=self.orders):
            start = day_start(burst.day)
            ids = context.conn.scalars(
                select(o.c.id).where(
                    o.c.official_id == burst.actor,
                    o.c.recorded_at >= start,
                    o.c.recorded_at < start + timedelta(days=1),
                )
            )
            yield _finding(self.name, f"official:{burst.actor}", "命令", "orders", burst,
                           [order_ref(i) for i in ids])  # fmt: skip

    def _designations(self, context: DetectorContext) -> Iterator[Finding]:
        d = t.designations
        since = context.since - timedelta(days=self.designations.baseline_days)
        actor = func.coalesce(d.c.designated_by, "authority:" + d.c.authority_id)
        day = day_of(d.c.recorded_at)
        counts = {
            (row.actor, row.day): row.n
            for row in context.conn.execute(
                select(actor.label("actor"), day.label("day"), func.count().label("n"))
                .where(d.c.recorded_at >= since, d.c.recorded_at < context.now)
                .group_by(actor, day)
            )
        }
        first = day_number(context.since)
        for burst in bursts(counts, first_day=first, policy=self.designations):
            start = day_start(burst.day)
            ids = context.conn.scalars(
                select(d.c.id).where(
                    actor == burst.actor,
                    d.c.recorded_at >= start,
                    d.c.recorded_at < start + timedelta(days=1),
                )
            )
            subject = burst.actor if ":" in burst.actor else f"official:{burst.actor}"
            yield _finding(self.name, subject, "风险区划定", "designations", burst,
                           [designation_ref(i) for i in ids])  # fmt: skip


def _finding(
    name: str, subject: str, what_zh: str, what_en: str, burst: Any, refs: list[str]
) -> Finding:
    start = day_start(burst.day)
    return Finding(
        detector=name,
        subject=subject,
        summary_zh=f"{subject} 于 {day_label(burst.day)} 共 {burst.count} 条{what_zh}，"
        f"为此前 7 天日均（{burst.baseline:.1f}）的 {burst.score:.1f} 倍。",
        summary_en=f"{subject}: {burst.count} {what_en} on {day_label(burst.day)}, "
        f"{burst.score:.1f} times the daily mean of the 7 days before ({burst.baseline:.1f}).",
        score=burst.score,
        window_from=start,
        window_to=start + timedelta(days=1),
        records=tuple(sorted(refs)),
    )
