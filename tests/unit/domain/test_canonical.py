"""The fast canonical encoder gives exactly the bytes of the reference RFC 8785 implementation."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.domain.canonical import canonical, canonical_each

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8), inner, max_size=5),
    ),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(values)
def test_fast_path_equals_the_reference(value: object) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_escapes_and_unicode() -> None:
    for text in ["\x00\x1f\x7f", '\b\f\n\r\t"\\/', "王*明", "\u2028\u2029", "😀", "\ue000"]:
        record = {"z": text, "a": [1, True, None], "é": 1, "😀": 2, "\ue000": 3}
        assert canonical(record) == rfc8785.dumps(record)


def test_a_batch_is_signed_over_its_whole_canonical_encoding() -> None:
    from healthcode.domain.batches import signing_input

    batch = {
        "source": "lab-1",
        "batch_id": "b1",
        "records": [{"b": "王", "a": 1}, {"x": [True, None]}],
        "signature": "s",
    }
    unsigned = {k: v for k, v in batch.items() if k != "signature"}
    assert signing_input(batch) == rfc8785.dumps(unsigned)


# Records as batches carry them: flat objects of text, booleans and nulls, with text that
# holds what the encoding of a list of records is cut at (``,{"``), quotes, backslashes,
# braces, controls and non-ASCII characters; some records empty, some keys non-ASCII.
tricky_text = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(['},{"', ',{"', '{"', '\\"', "\\", '"}', "{", "}", ",", "\x00\x1f", "王"]),
)
flat_records = st.dictionaries(
    st.one_of(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), tricky_text),
    st.one_of(st.none(), st.booleans(), tricky_text),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(flat_records, max_size=8))
def test_records_encoded_at_once_equal_each_encoded_alone(records: list[dict[str, object]]) -> None:
    expected = [rfc8785.dumps(record) for record in records]
    assert canonical_each(records) == expected
    assert canonical_each(records) == [canonical(record) for record in records]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(flat_records, values), max_size=6))
def test_any_values_encoded_at_once_equal_each_encoded_alone(items: list[object]) -> None:
    assert canonical_each(items) == [rfc8785.dumps(item) for item in items]


def test_values_the_reference_refuses_are_refused_at_once_too() -> None:
    for items in ([{"a": "\ud800"}], [{"a": "x"}, {"b": "\udfff"}], [{"a": "x"}, {1: "y"}]):
        with pytest.raises(Exception) as at_once:
            canonical_each(items)
        with pytest.raises(Exception) as alone:
            [canonical(item) for item in items]
        assert type(at_once.value) is type(alone.value)
