"""Orders or evidence spreading through households and contact groups."""

from healthcode.domain.oversight.linked import Unexposed, linked_groups


def test_two_unexposed_members_of_one_household_are_found_with_their_orders() -> None:
    items = [
        Unexposed("mother", "hh-1", "case-a", "evidence:cdc/1", ("order:o1",)),
        Unexposed("daughter", "hh-1", "case-b", "evidence:cdc/2", ("order:o2",)),
    ]
    [group] = linked_groups(items)
    assert (group.kind, group.key, group.members) == ("household", "hh-1", {"mother", "daughter"})
    assert group.records == {"evidence:cdc/1", "evidence:cdc/2", "order:o1", "order:o2"}


def test_one_member_per_household_and_small_contact_groups_are_not() -> None:
    items = [
        Unexposed("a", "hh-1", "case-x", "evidence:cdc/1"),
        Unexposed("b", "hh-2", "case-x", "evidence:cdc/2"),  # a contact group of two
        Unexposed("c", None, None, "evidence:cdc/3"),
    ]
    assert linked_groups(items) == []


def test_a_contact_group_of_three_unexposed_people_is_found() -> None:
    items = [Unexposed(p, None, "case-made-up", f"evidence:cdc/{p}") for p in "abc"]
    [group] = linked_groups(items)
    assert group.kind == "contact_group" and len(group.members) == 3
