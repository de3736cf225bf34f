"""Pseudonymous person keys and the masked names venues may see."""

from __future__ import annotations

import hashlib
import hmac
import re

PERSON_KEY_PATTERN = r"^[0-9a-f]{32}$"
_PERSON_KEY = re.compile(PERSON_KEY_PATTERN)


def person_key_for(identity_id: str, pseudonym_secret: bytes) -> str:
    """The key healthcode knows a person by: a keyed hash of the identity provider's id.

    The clear id (a national ID number) never reaches the store; without the secret the key
    cannot be turned back into it, nor computed from a list of ids.
    """
    digest = hmac.new(pseudonym_secret, b"person:" + identity_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def is_person_key(value: str) -> bool:
    return bool(_PERSON_KEY.match(value))


def mask_name(name: str) -> str:
    """Mask a name the way health codes show it: 王*明, 李*, J*** D**."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
