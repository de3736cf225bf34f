"""A member of staff signing in with their password, as the log states it. No I/O, no clock.

Whoever knows a member's password signs in as them: the operator who set it and never saw it
replaced (domain/staff_passwords.py), or anyone it leaked to. Each sign-in is a
``staff_sign_in`` entry: the member by a staff tag (openable by oversight), their role and
authority, and when; never the password, the address or the token. The member's own page lists
theirs (``/staff/account``), so a sign-in they did not make is one they can see, and no row of
the list can be deleted without the self-check finding its entry unmatched.
"""

from __future__ import annotations

from datetime import datetime

from healthcode.domain.log_entries import actor_tag, encode_entry, instant_text


def staff_sign_in_entry(
    *, index: int, staff_secret: bytes, role: str, authority_id: str | None, at: datetime
) -> bytes:
    """The member whose secret is ``staff_secret`` (of ``role``, at ``authority_id``) signed in
    with their password at ``at``."""
    return encode_entry(
        "staff_sign_in",
        {
            "staff": actor_tag(staff_secret, index),
            "role": role,
            "authority": authority_id,
            "with": "password",
            "at": instant_text(at),
        },
    )
