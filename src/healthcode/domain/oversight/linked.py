"""Linked-person propagation (A4): orders or evidence reaching several members of one household
or one contact group, none of whom had an exposure of their own.

A close-contact record is *unexposed* when its person has no visit in the record's area within
a day of it and no member of their household had a positive test in the fortnight before it
(a household contact's exposure is the household). The detector gathers unexposed records with
the orders citing them; this module groups them. A household with ``min_household`` unexposed
members, or a contact group (case reference) with ``min_group`` unexposed contacts, is a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LinkedPolicy:
    min_household: int = 2
    min_group: int = 3


@dataclass(frozen=True)
class Unexposed:
    person: str
    household: str | None
    case_ref: str | None
    ref: str  # the evidence reference
    orders: tuple[str, ...] = ()  # order references citing it


@dataclass
class LinkedGroup:
    kind: str  # household | contact_group
    key: str
    members: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)


def linked_groups(
    items: Iterable[Unexposed], policy: LinkedPolicy = LinkedPolicy()
) -> list[LinkedGroup]:
    groups: dict[tuple[str, str], LinkedGroup] = {}
    for item in items:
        for kind, key in (("household", item.household), ("contact_group", item.case_ref)):
            if key is None:
                continue
            group = groups.setdefault((kind, key), LinkedGroup(kind, key))
            group.members.add(item.person)
            group.records.update((item.ref, *item.orders))
    needed = {"household": policy.min_household, "contact_group": policy.min_group}
    return [
        group for _, group in sorted(groups.items()) if len(group.members) >= needed[group.kind]
    ]
