"""Matching a DCC's holder to a person (ICAO 9303 names, partial dates of birth, the policy),
and the identity of DCC evidence records."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcode.domain.dcc import (
    HolderIdentity,
    HolderPolicy,
    Requirement,
    check_holder,
    icao_standardise,
    load_holder_policy,
    method_for_test_type,
    outcome_for_test_result,
    record_id_for,
    source_id_for,
)
from healthcode.domain.evidence import RECORD_ID_PATTERN
from healthcode.errors import InputRejected

ERIKA = HolderIdentity("MUSTERMANN", "ERIKA", date(1964, 8, 12))
DEFAULT = HolderPolicy()
WHATS = ("family name", "given name", "date of birth")


@pytest.mark.parametrize(
    ("printed", "standardised"),
    [
        ("Musterfrau-Gößinger", "MUSTERFRAU<GOESSINGER"),
        ("Lövström", "LOEVSTROEM"),
        ("Di Caprio", "DI<CAPRIO"),
        ("Marilù Teresa", "MARILU<TERESA"),
        ("Jørgensen", "JOERGENSEN"),
        ("O'Brien", "OBRIEN"),
        ("  van  der   Berg ", "VAN<DER<BERG"),
        ("Dvořák", "DVORAK"),
        ("Zhang", "ZHANG"),
        ("张", ""),  # not Latin script: the identity provider must hold the passport's spelling
    ],
)
def test_icao_standardisation(printed: str, standardised: str) -> None:
    assert icao_standardise(printed) == standardised


@given(st.text(max_size=40))
def test_standardised_names_are_mrz_characters_only(name: str) -> None:
    assert re.fullmatch(r"([A-Z]+(<[A-Z]+)*)?", icao_standardise(name))


def _check(identity: HolderIdentity | None, fnt: str, gnt: str | None, dob: str,
           policy: HolderPolicy = DEFAULT) -> None:  # fmt: skip
    check_holder(identity, family_name=fnt, given_name=gnt, date_of_birth=dob, policy=policy)


def test_the_holder_matches_on_family_name_given_name_and_date_of_birth() -> None:
    _check(ERIKA, "MUSTERMANN", "ERIKA", "1964-08-12")
    _check(ERIKA, "MUSTERMANN", None, "1964-08-12")  # given name: only when both have one
    _check(ERIKA, "MUSTERMANN", "ERIKA", "1964-08-12T00:00:00")  # schema 1.0 date-times
    _check(ERIKA, "MUSTERMANN", "ERIKA", "1964")  # a partial date that agrees
    _check(ERIKA, "MUSTERMANN", "ERIKA", "1964-08")
    for fnt, gnt, dob in [
        ("MUSTERFRAU", "ERIKA", "1964-08-12"),
        ("MUSTERMANN", "MAX", "1964-08-12"),
        ("MUSTERMANN", "ERIKA", "1964-08-13"),
        ("MUSTERMANN", "ERIKA", "1965"),
        ("MUSTERMANN", "ERIKA", ""),  # the policy requires a date of birth
    ]:
        with pytest.raises(InputRejected) as caught:
            _check(ERIKA, fnt, gnt, dob)
        assert caught.value.code == "dcc.not_holder"
        # The refusal names the attribute, never a value.
        assert caught.value.detail in {f"{what} does not match" for what in WHATS}


def test_the_policy_decides_what_must_match() -> None:
    strict = HolderPolicy(given_name=Requirement.REQUIRED, partial_date_of_birth=False)
    with pytest.raises(InputRejected, match=r"dcc\.not_holder"):
        _check(ERIKA, "MUSTERMANN", None, "1964-08-12", strict)
    with pytest.raises(InputRejected, match=r"dcc\.not_holder"):
        _check(ERIKA, "MUSTERMANN", "ERIKA", "1964", strict)
    lenient = HolderPolicy(date_of_birth=Requirement.IGNORED)
    _check(ERIKA, "MUSTERMANN", "ERIKA", "1999-01-01", lenient)
    for identity, code in [
        (None, "dcc.identity_missing"),
        (HolderIdentity(None, "ERIKA", date(1964, 8, 12)), "dcc.identity_missing"),
        (HolderIdentity("MUSTERMANN", "ERIKA", None), "dcc.identity_missing"),
    ]:
        with pytest.raises(InputRejected) as caught:
            _check(identity, "MUSTERMANN", "ERIKA", "1964-08-12")
        assert caught.value.code == code


def test_the_policy_file_section() -> None:
    assert load_holder_policy(None) == DEFAULT
    loaded = load_holder_policy(
        {"match": {"given_name": "required"}, "partial_date_of_birth": False}
    )
    assert (loaded.given_name, loaded.partial_date_of_birth) == (Requirement.REQUIRED, False)
    for bad in (
        {"match": {"family_name": "maybe"}},
        {"match": {"nickname": "required"}},
        {"colour": "green"},
        {"match": {"family_name": "ignored", "date_of_birth": "if_present"}},  # too weak
    ):
        with pytest.raises(ValueError):
            load_holder_policy(bad)


def test_records_and_sources_of_dccs() -> None:
    ci = "URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W"
    assert record_id_for(ci) == record_id_for(ci) != record_id_for(ci.lower())
    assert re.fullmatch(RECORD_ID_PATTERN, record_id_for(ci))
    assert source_id_for("AT") == "dcc-AT"
    with pytest.raises(ValueError):
        source_id_for("at")
    assert (method_for_test_type("LP217198-3"), outcome_for_test_result("260373001")) == (
        "antigen",
        "positive",
    )
    for bad in (lambda: method_for_test_type("94309-2"), lambda: outcome_for_test_result("1")):
        with pytest.raises(InputRejected, match=r"dcc\.unsupported"):
            bad()
