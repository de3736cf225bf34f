"""Staff tokens the operator issued: one used to act is found, one left unused is not."""

from datetime import UTC, datetime, timedelta

from healthcode.domain.oversight.staff_tokens import IssuedToken, TokenPolicy, used_tokens

START = datetime(2026, 6, 1, 8, tzinfo=UTC)


def token(token_id: str, **acts: int) -> IssuedToken:
    return IssuedToken(
        token_id, "zz-sup-1", "supervisor", START, START + timedelta(minutes=15), acts
    )


def test_a_token_used_to_act_is_found_with_its_acts() -> None:
    [found] = used_tokens([token("b", order_cosign=2, order_refusal=1), token("a")])
    assert found.token_id == "b" and found.count == 3
    assert found.acts_text() == "order_cosign × 2, order_refusal × 1"


def test_one_left_unused_is_not() -> None:
    assert used_tokens([token("a"), token("b")]) == []
    assert used_tokens([token("a", rulebook=1)], TokenPolicy(min_acts=2)) == []
