"""Credentials presented at a lane: the plate read by a camera and the PIN typed at a keypad.

Plates
    ``normalise_plate`` turns what a camera, a clerk or a load file wrote into one comparable
    form: Unicode NFC, upper case, separators (spaces, hyphens and other dashes, dots) removed,
    Greek and Cyrillic capitals that look like Latin ones folded to Latin. The folding matters
    for security, not only comfort: a permit typed on a Greek keyboard as ``ΑΒ-123-ΓΔ`` must not
    silently fail to match a camera that reads ``AB123..`` in Latin, and a look-alike must not
    create a second, distinct plate. A normalised plate holds 2 to 10 Latin letters (accented
    letters such as Ä Ö Ü Å Æ Ø allowed, for German and Nordic plates) or ASCII digits in any
    mix (personalised plates may be all letters): see ``PLATE_RULE``.

PINs
    Manchester's city-centre bollards ask for a 6-digit PIN typed at a keypad that must match the
    plate read by the camera (domain.md section 3). PINs are stored as salted scrypt hashes
    (``hashlib.scrypt``, RFC 7914) in a self-describing string ``scrypt$n$r$p$salt$hash`` so the
    cost can be raised later without breaking stored hashes; comparison is constant-time
    (``hmac.compare_digest``). A 4-8 digit PIN has at most 10^8 values: no hash makes it
    resistant to an offline search, so the hash buys time, the database still has to stay
    secret, and the daemon has to rate-limit keypad attempts.

Written by hand because no maintained library normalises European plates; hashing is stdlib.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata

__all__ = [
    "PIN_RULE",
    "PLATE_RULE",
    "InvalidPinError",
    "InvalidPlateError",
    "hash_pin",
    "is_valid_pin",
    "normalise_plate",
    "verify_pin",
]

PLATE_MIN_LENGTH = 2
PLATE_MAX_LENGTH = 10
PLATE_RULE = (
    f"{PLATE_MIN_LENGTH}-{PLATE_MAX_LENGTH} Latin letters (accents allowed) or digits "
    "after removing spaces, dashes and dots"
)
PIN_RULE = "4 to 8 digits"
_PIN_PATTERN = re.compile(r"[0-9]{4,8}")

# Separators people and cameras put between plate groups. Unicode dashes (category Pd) are
# handled separately, so an en dash pasted from a word processor is removed too.
_SEPARATORS = frozenset(" \t\u00a0\u202f.\u00b7_")

# Greek and Cyrillic capitals that are drawn like a Latin capital on plates. Greek plates use
# only these Greek letters precisely because they read as Latin; Bulgarian, Serbian and
# Ukrainian plates do the same with Cyrillic.
_LOOKALIKE_TO_LATIN = str.maketrans(
    {
        # Greek
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
        # Cyrillic
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "У": "Y",
        "Х": "X",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
    }
)


class InvalidPlateError(ValueError):
    """A plate that is not plausible after normalisation; the message names the value."""


class InvalidPinError(ValueError):
    """A PIN that is not 4 to 8 digits."""


def _is_latin_letter(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def normalise_plate(raw: str) -> str:
    """Return the comparable form of a licence plate, or raise ``InvalidPlateError``.

    >>> normalise_plate("ab-123 cd")
    'AB123CD'
    >>> normalise_plate("M-ÄÖ 1234")
    'MÄÖ1234'

    Parameters
    ----------
    raw:
        The plate as read by a camera or typed by a person.

    Raises
    ------
    InvalidPlateError
        When the result is not ``PLATE_RULE``: the message quotes the raw value.
    """
    if not isinstance(raw, str):
        raise InvalidPlateError(f"plate {raw!r} is not text; expected {PLATE_RULE}")
    text = unicodedata.normalize("NFC", raw).upper().translate(_LOOKALIKE_TO_LATIN)
    kept = "".join(
        char
        for char in text
        if char not in _SEPARATORS and unicodedata.category(char) != "Pd" and not char.isspace()
    )
    if not PLATE_MIN_LENGTH <= len(kept) <= PLATE_MAX_LENGTH:
        raise InvalidPlateError(
            f"plate {raw!r} has {len(kept)} characters after normalisation; expected {PLATE_RULE}"
        )
    for char in kept:
        if not ("0" <= char <= "9" or _is_latin_letter(char)):
            raise InvalidPlateError(
                f"plate {raw!r} contains {char!r} ({unicodedata.name(char, 'unnamed')}); "
                f"expected {PLATE_RULE}"
            )
    return kept


def is_valid_pin(pin: str) -> bool:
    """Tell whether ``pin`` is ``PIN_RULE`` (ASCII digits only)."""
    return isinstance(pin, str) and _PIN_PATTERN.fullmatch(pin) is not None


# scrypt cost: n=2**14, r=8, p=1 is the interactive-login setting of the scrypt paper and takes
# about 65 ms on a 2024 laptop core; 16 MiB of memory per hash.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str, *, n: int = _SCRYPT_N, salt: bytes | None = None) -> str:
    """Hash a PIN with scrypt and a random 16-byte salt.

    Returns ``"scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>"``; store that, never the PIN.
    ``n`` (CPU/memory cost, a power of two) may be lowered in tests only.
    """
    if not is_valid_pin(pin):
        raise InvalidPinError(f"PIN is not {PIN_RULE}")
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(
        pin.encode("ascii"),
        salt=salt,
        n=n,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=128 * n * _SCRYPT_R * 2,
        dklen=_HASH_BYTES,
    )
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """Tell whether ``pin`` matches a hash made by ``hash_pin`` (constant-time comparison).

    A malformed stored hash returns False rather than raising: a keypad must never open on an
    error path.
    """
    if not is_valid_pin(pin):
        return False
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = stored.split("$")
        if scheme != "scrypt":
            return False
        n, r, p = int(n_text), int(r_text), int(p_text)
        expected = _unb64(digest_text)
        actual = hashlib.scrypt(
            pin.encode("ascii"),
            salt=_unb64(salt_text),
            n=n,
            r=r,
            p=p,
            maxmem=128 * n * r * 2,
            dklen=len(expected),
        )
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(actual, expected)
