"""The single exception tree the HCERT decoder/verifier raises, one subclass per stage."""

from __future__ import annotations


class HcertError(Exception):
    """A malformed, untrusted or invalid HCERT, with a stable code and bilingual messages."""

    def __init__(self, code: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh


class StageError(HcertError):
    """Base for the per-stage errors, whose code is fixed by the class."""

    code_for_stage = "dcc.error"

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(self.code_for_stage, message_en, message_zh)


class PrefixError(StageError):
    """The text does not start with the `HC1:` context identifier."""

    code_for_stage = "dcc.prefix"


class Base45Error(StageError):
    """The text after the prefix is not valid Base45 (RFC 9285)."""

    code_for_stage = "dcc.base45"


class ZlibError(StageError):
    """The Base45-decoded bytes are not one complete ZLIB stream."""

    code_for_stage = "dcc.zlib"


class TooLargeError(StageError):
    """An input or a decompressed payload exceeds its size limit (e.g. a zip bomb)."""

    code_for_stage = "dcc.too_large"


class CoseError(StageError):
    """The decompressed bytes are not a well-formed COSE_Sign1 message."""

    code_for_stage = "dcc.cose"


class CborError(StageError):
    """The COSE payload is not a well-formed CWT carrying an HCERT claim."""

    code_for_stage = "dcc.cbor"


class SchemaError(StageError):
    """The DCC payload does not validate against the schema of its declared version."""

    code_for_stage = "dcc.schema"


class UnknownSignerError(StageError):
    """No document signer in the trust list has the message's key identifier."""

    code_for_stage = "dcc.unknown_signer"


class SignatureError(StageError):
    """The signature does not verify with any document signer carrying the kid."""

    code_for_stage = "dcc.signature"


class KeyUsageError(StageError):
    """The signer's extended key usage does not allow this kind of certificate."""

    code_for_stage = "dcc.key_usage"


class SignerValidityError(StageError):
    """The CWT's issued-at..expiry period falls outside the signer certificate's validity."""

    code_for_stage = "dcc.signer_validity"


class ExpiredError(StageError):
    """The validation instant is after the CWT expiry."""

    code_for_stage = "dcc.expired"


class NotYetValidError(StageError):
    """The validation instant is before the CWT issued-at time."""

    code_for_stage = "dcc.not_yet_valid"


class TrustListError(StageError):
    """A document signer certificate given to the trust list cannot be used."""

    code_for_stage = "dcc.trust_list"
