"""How an EU Digital COVID Certificate becomes evidence: whose it is, who issued it, what it says.

Pure decisions over plain values (the HCERT verifier in ``credentials.hcert`` has already
checked the signature, the schema, the signer's key usage and the expiry):

- **Holder.** A DCC names its holder by the ICAO 9303 standardised Latin name (``nam.fnt``,
  ``nam.gnt``) and a date of birth that may be partial. It counts for a person only if these
  agree with what the identity provider holds for that person, as the policy (``policy.yaml``,
  ``dcc.match``) requires.
- **Attribution.** Evidence from a DCC is attributed to one registered source per issuing
  country (``dcc-<country>``), belonging to the ``dcc`` authority. Its area is ``DCC_AREA``, a
  registered area standing for "abroad": the event happened outside every local jurisdiction,
  so no local official's jurisdiction covers it and no area statistics count it as local.
- **Identity of the record.** The record id is a hash of the certificate identifier (``ci``),
  so submitting the same certificate again changes nothing.
- **Meaning.** The DCC value sets (test type, test result) map onto the evidence kinds.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from healthcode.domain.evidence import TestMethod, TestOutcome
from healthcode.errors import InputRejected

DCC_AUTHORITY = "dcc"
DCC_AUTHORITY_NAMES = ("欧盟数字新冠证书签发国", "EU Digital COVID Certificate issuing countries")
# GB/T 2260 has no province 99: the code stands for "outside the country" and nothing else.
DCC_AREA = "990000"
DCC_AREA_NAMES = ("境外（数字新冠证书签发国）", "Abroad (DCC issuing countries)")
COUNTRY_PATTERN = r"^[A-Z]{2}$"
_COUNTRY = re.compile(COUNTRY_PATTERN)

# The disease the value set `disease-agent-targeted` names COVID-19 by (SNOMED CT).
COVID_19 = "840539006"
# eHN value sets `covid-19-lab-test-type` and `covid-19-lab-result` (LOINC, SNOMED CT).
TEST_TYPES = {"LP6464-4": TestMethod.PCR, "LP217198-3": TestMethod.ANTIGEN}
TEST_RESULTS = {"260415000": TestOutcome.NEGATIVE, "260373001": TestOutcome.POSITIVE}


def is_country(code: str) -> bool:
    return bool(_COUNTRY.match(code))


def source_id_for(country: str) -> str:
    """The registered source DCC evidence of an issuing country is attributed to."""
    if not is_country(country):
        raise ValueError(f"not an ISO 3166-1 alpha-2 code: {country!r}")
    return f"dcc-{country}"


def record_id_for(certificate_id: str) -> str:
    """The evidence record id of a certificate: its identifier (UVCI) may hold any character."""
    return "dcc-" + hashlib.sha256(certificate_id.encode()).hexdigest()[:32]


def method_for_test_type(test_type: str) -> TestMethod:
    try:
        return TEST_TYPES[test_type]
    except KeyError:
        raise InputRejected("dcc.unsupported", "test type outside the value set") from None


def outcome_for_test_result(result: str) -> TestOutcome:
    try:
        return TEST_RESULTS[result]
    except KeyError:
        raise InputRejected("dcc.unsupported", "test result outside the value set") from None


# --- the holder --------------------------------------------------------------------------

# ICAO Doc 9303 Part 3, section 6, "Transliterations recommended for use by States": the
# letters that do not simply lose their diacritic.
_ICAO = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS", "Þ": "TH",
    "Ð": "D", "Đ": "D", "Ħ": "H", "Ĳ": "IJ", "Ł": "L", "Œ": "OE", "Ŋ": "N", "Ŧ": "T", "ı": "I",
}  # fmt: skip
_FILLER = re.compile(r"<+")


def icao_standardise(name: str) -> str:
    """A Latin-script name as ICAO 9303 writes it in the machine-readable zone (and DCCs in
    ``fnt``/``gnt``): A-Z, with ``<`` for spaces and hyphens; apostrophes are dropped."""
    out: list[str] = []
    for char in name.upper():
        if char in _ICAO:
            out.append(_ICAO[char])
        elif char in "'’`":
            continue
        else:
            base = unicodedata.normalize("NFKD", char)
            letters = "".join(c for c in base if "A" <= c <= "Z")
            out.append(letters if letters else "<")
    return _FILLER.sub("<", "".join(out)).strip("<")


class Requirement(StrEnum):
    REQUIRED = "required"  # present on both sides and equal
    IF_PRESENT = "if_present"  # equal whenever both sides have it
    IGNORED = "ignored"


@dataclass(frozen=True)
class HolderPolicy:
    """How a DCC is matched to the person who submits it (``policy.yaml``, ``dcc``)."""

    family_name: Requirement = Requirement.REQUIRED
    given_name: Requirement = Requirement.IF_PRESENT
    date_of_birth: Requirement = Requirement.REQUIRED
    # A DCC may give only the year, or year and month, of birth: accept it when they agree.
    partial_date_of_birth: bool = True


def load_holder_policy(data: dict[str, Any] | None) -> HolderPolicy:
    """The ``dcc`` section of the policy file; anything unknown is refused."""
    data = data or {}
    match = data.get("match") or {}
    unknown = (set(data) - {"match", "partial_date_of_birth"}) | (
        set(match) - {"family_name", "given_name", "date_of_birth"}
    )
    if unknown:
        raise ValueError(f"unknown dcc policy settings: {sorted(unknown)}")
    try:
        policy = HolderPolicy(
            **{name: Requirement(value) for name, value in match.items()},
            partial_date_of_birth=bool(data.get("partial_date_of_birth", True)),
        )
    except ValueError as exc:
        raise ValueError(f"dcc policy: {exc}") from None
    if Requirement.REQUIRED not in (policy.family_name, policy.date_of_birth):
        # Given names alone are too common to tell people apart.
        raise ValueError("dcc policy: the family name or the date of birth must be required")
    return policy


@dataclass(frozen=True)
class HolderIdentity:
    """What the identity provider holds about a person for matching: the Latin-script name
    (ICAO standardised) and the date of birth."""

    family_name: str | None
    given_name: str | None
    birth_date: date | None


def _date_parts(text: str) -> tuple[int, ...] | None:
    """A DCC date of birth as (year[, month[, day]]); schema 1.0 allowed a time after it."""
    parts = text[:10].split("-") if text else []
    if not parts or not all(part.isdigit() for part in parts) or len(parts) > 3:
        return None
    return tuple(int(part) for part in parts)


def _same_name(registered: str | None, on_certificate: str | None) -> bool | None:
    """None when a side lacks the name; else whether they are the same standardised name."""
    ours = icao_standardise(registered) if registered else ""
    theirs = icao_standardise(on_certificate) if on_certificate else ""
    if not ours or not theirs:
        return None
    return ours == theirs


def check_holder(
    identity: HolderIdentity | None,
    *,
    family_name: str | None,
    given_name: str | None,
    date_of_birth: str,
    policy: HolderPolicy,
) -> None:
    """Raise unless the certificate's holder is the person, as the policy requires.

    The error names the attribute that differs, never a value.
    """
    if identity is None:
        raise InputRejected("dcc.identity_missing")
    parts = _date_parts(date_of_birth)
    if parts is not None and len(parts) < 3 and not policy.partial_date_of_birth:
        parts = None
    registered_dob = identity.birth_date
    dob_same = (
        None
        if parts is None or registered_dob is None
        else parts == (registered_dob.year, registered_dob.month, registered_dob.day)[: len(parts)]
    )
    checks = (
        ("family name", policy.family_name, identity.family_name is None,
         _same_name(identity.family_name, family_name)),
        ("given name", policy.given_name, identity.given_name is None,
         _same_name(identity.given_name, given_name)),
        ("date of birth", policy.date_of_birth, registered_dob is None, dob_same),
    )  # fmt: skip
    for what, requirement, ours_missing, same in checks:
        if requirement is Requirement.IGNORED:
            continue
        if requirement is Requirement.REQUIRED and ours_missing:
            raise InputRejected("dcc.identity_missing", f"no registered {what}")
        if same is False or (requirement is Requirement.REQUIRED and same is None):
            raise InputRejected("dcc.not_holder", f"{what} does not match")
