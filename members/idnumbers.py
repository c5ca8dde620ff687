"""National ID numbers (居民身份证号码): validation, encryption at rest, keyed hashing, masking.

The number is personal information of a sensitive kind (PIPL Art. 28), so it is
- validated with python-stdnum's `cn.ric` (GB 11643: 18 characters, ISO 7064 MOD 11-2 check
  character, a real birth date and a region code valid in the birth year);
- stored only encrypted (Fernet: AES-128-CBC with HMAC-SHA256, from `cryptography`), under the keys in
  `ID_NUMBER_KEYS` — several keys, newest first, so that keys can be rotated (README, "Key rotation");
- found and kept unique through an HMAC-SHA256 of the number under `ID_NUMBER_HASH_KEY`, so the
  database never needs the clear number to search;
- shown masked (first 3 and last 4 characters) except to roles that need it in full.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


def normalize(raw: str) -> str:
    """Drop spaces and hyphens anywhere (as typed or pasted), upper-case the check character."""
    return re.sub(r"[\s\-]", "", raw or "").upper()


def validate_id_number(raw: str) -> str:
    """The normalized number, or a ValidationError that says what is wrong with it."""
    number = normalize(raw)
    try:
        return ric.validate(number)
    except InvalidLength:
        message = _("An ID number has 18 characters; this one has %(n)d.") % {"n": len(number)}
    except InvalidFormat:
        message = _("The first 17 characters of an ID number are digits.")
    except InvalidChecksum:
        message = _("The check character (the last one) does not match: the number has a typo.")
    except InvalidComponent:
        message = _("The birth date or region code in this ID number does not exist.")
    raise ValidationError(message, code="invalid_id_number")


def birth_date_of(number: str) -> date:
    return ric.get_birth_date(number)


def sex_of(number: str) -> str:
    """'M' or 'F': the 17th character is odd for men, even for women."""
    return "M" if int(number[16]) % 2 else "F"


def with_check_character(first17: str) -> str:
    """Complete 17 digits into a valid number (demo data and tests)."""
    return first17 + ric.calc_check_digit(first17 + "0")


def mask(number: str) -> str:
    return f"{number[:3]}{'*' * 11}{number[-4:]}"


@cache
def _fernet() -> MultiFernet:
    keys = settings.ID_NUMBER_KEYS
    if not keys:
        raise ImproperlyConfigured("ID_NUMBER_KEYS must hold at least one Fernet key.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(number: str) -> str:
    return _fernet().encrypt(number.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (a no-op in meaning, a change in bytes)."""
    return _fernet().rotate(token.encode()).decode()


def encrypt_bytes(content: bytes) -> bytes:
    """Other personal data at rest (a roster waiting to be checked), under the same keys."""
    return _fernet().encrypt(content)


def decrypt_bytes(token: bytes) -> bytes:
    return _fernet().decrypt(bytes(token))


def lookup_hash(number: str) -> str:
    key = settings.ID_NUMBER_HASH_KEY.encode()
    return hmac.new(key, normalize(number).encode(), hashlib.sha256).hexdigest()


def forget_keys() -> None:
    """For tests that change the keys."""
    _fernet.cache_clear()
