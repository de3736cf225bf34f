"""Staff tokens the operator issued that were used to act (``operator_tokens``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import func, select

from healthcode.domain.log_entries import instant_text
from healthcode.domain.oversight import Finding, staff_token_ref
from healthcode.domain.oversight.staff_tokens import IssuedToken, TokenPolicy, used_tokens
from healthcode.oversight.api import DetectorContext
from healthcode.store import tables as t


class OperatorTokens:
    name = "operator_tokens"
    title_zh = "运营方签发的工作人员令牌被用于操作"
    title_en = "Staff tokens issued by the operator, used to act"

    def __init__(self, policy: TokenPolicy = TokenPolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        u, k = t.staff_token_uses, t.staff_tokens
        acts: dict[str, dict[str, int]] = defaultdict(dict)
        for row in context.conn.execute(
            select(u.c.token_id, u.c.act, func.count())
            .where(u.c.at >= context.since, u.c.at < context.now)
            .group_by(u.c.token_id, u.c.act)
        ):
            acts[row.token_id][row.act] = int(row[2])
        if not acts:
            return
        tokens = [
            IssuedToken(row.token_id, row.staff_id, row.role, row.valid_from, row.valid_until,
                        acts[row.token_id])
            for row in context.conn.execute(select(k).where(k.c.token_id.in_(sorted(acts))))
        ]  # fmt: skip
        for token in used_tokens(tokens, self.policy):
            subject = f"official:{token.staff_id}"
            window = f"{instant_text(token.valid_from)} – {instant_text(token.valid_until)}"
            yield Finding(
                detector=self.name,
                subject=subject,
                summary_zh=f"{subject}（{token.role}）的一个令牌由运营方签发，而非本人登录所得"
                f"（有效期 {window}），被用于 {token.count} 项操作（{token.acts_text()}）。",
                summary_en=f"{subject} ({token.role}): a token the operator issued, not their "
                f"own sign-in (valid {window}), was used for {token.count} acts "
                f"({token.acts_text()}).",
                score=float(token.count),
                window_from=context.since,
                window_to=context.now,
                records=(staff_token_ref(token.token_id),),
            )
