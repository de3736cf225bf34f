"""A member of staff choosing their own password, as the log states it. No I/O, no clock.

The operator registers staff with their first password (``healthcode admin load``), so until
a member changes it the operator knows it and can sign in as them: every act and co-signature
they make could be the operator's. A member changes it by giving the current one
(services/staff_passwords.py), and each change is a ``staff_password`` entry: the member by a
staff tag (as in an operator's staff token, openable by oversight), their role and authority,
and when. Never the password or its hash. So the log shows, member by member, whether the
password in use is still the one the operator set (`operator_knows`), and a reset by the
operator after it (a ``registry`` entry with ``password: set``) reads as one.
"""

from __future__ import annotations

from datetime import datetime

from healthcode.domain.log_entries import actor_tag, encode_entry, instant_text

# The bounds of the operator's first password (services/staff.py), a member's own alike.
SHORTEST = 8
LONGEST = 200


def staff_password_entry(
    *, index: int, staff_secret: bytes, role: str, authority_id: str | None, changed_at: datetime
) -> bytes:
    """The member whose secret is ``staff_secret`` (of ``role``, at ``authority_id``) replaced
    their password with one of their own, proving the one they had."""
    return encode_entry(
        "staff_password",
        {
            "staff": actor_tag(staff_secret, index),
            "role": role,
            "authority": authority_id,
            "proven_by": "current_password",
            "changed_at": instant_text(changed_at),
        },
    )


def operator_knows(
    has_password: bool, last_set_by_operator: int | None, last_changed: int | None
) -> bool:
    """Whether the member's password is one the operator set: they have one, and made no
    change of their own since the last registration that set one (the log indices of both;
    None: none. A member registered before migration 0024 has no registration rows, and
    their password, too, was the operator's)."""
    if not has_password:
        return False
    if last_changed is None:
        return True
    return last_set_by_operator is not None and last_changed < last_set_by_operator
