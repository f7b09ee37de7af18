"""Plate normalisation and PIN hashing (rempart.access.plates)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.access.plates import (
    InvalidPinError,
    InvalidPlateError,
    hash_pin,
    is_valid_pin,
    normalise_plate,
    verify_pin,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB-123-CD", "AB123CD"),  # France, SIV
        ("ab 123 cd", "AB123CD"),
        ("  ab-123–cd ", "AB123CD"),  # en dash from a word processor
        ("M-ÄÖ 1234", "MÄÖ1234"),  # Germany, umlauts
        ("lö-ab 12", "LÖAB12"),  # lower-case umlaut upper-cased
        ("ABC 123", "ABC123"),
        ("AB·123·CD", "AB123CD"),  # middle dots
        ("ΑΒ-123-ΕΖ", "AB123EZ"),  # Greek look-alikes folded to Latin
        ("А123ВС77", "A123BC77"),  # Cyrillic look-alikes folded to Latin
        ("A\u0308B 1", "ÄB1"),  # decomposed umlaut composed (NFC)
        ("ÅÆØ 12", "ÅÆØ12"),  # Nordic letters
        ("12", "12"),
        ("ABCDEFGHIJ", "ABCDEFGHIJ"),  # 10 characters: the maximum
    ],
)
def test_normalise_plate(raw: str, expected: str) -> None:
    assert normalise_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("A", "1 characters"),
        ("", "0 characters"),
        (" - - ", "0 characters"),
        ("ABCDEFGHIJK", "11 characters"),
        ("AB*123", "'*'"),
        ("AB/123", "'/'"),
        ("京A12345", "CJK"),
        ("ΔΣ-123", "GREEK"),  # Greek letters that do not look Latin are refused
        ("AB²3", "SUPERSCRIPT"),
    ],
)
def test_implausible_plates_are_refused_with_the_value(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidPlateError) as caught:
        normalise_plate(raw)
    message = str(caught.value)
    assert repr(raw) in message
    assert fragment in message
    assert "\n" not in message


def test_non_text_plate_is_refused() -> None:
    with pytest.raises(InvalidPlateError, match="not text"):
        normalise_plate(12345)  # type: ignore[arg-type]


@given(st.text(alphabet="ABCDEFGHJKLMNPQRSTVWXYZ0123456789 -", min_size=2, max_size=14))
def test_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = normalise_plate(raw)
    except InvalidPlateError:
        return
    assert normalise_plate(once) == once
    assert " " not in once and "-" not in once


@pytest.mark.parametrize("pin", ["1234", "123456", "00000000"])
def test_valid_pins(pin: str) -> None:
    assert is_valid_pin(pin)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "١٢٣٤", "", " 1234"])
def test_invalid_pins(pin: str) -> None:
    assert not is_valid_pin(pin)
    with pytest.raises(InvalidPinError):
        hash_pin(pin, n=2**4)


def test_hash_pin_round_trip_with_default_cost() -> None:
    stored = hash_pin("482913")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "482913" not in stored
    assert verify_pin("482913", stored)
    assert not verify_pin("482914", stored)


def test_hashes_are_salted() -> None:
    assert hash_pin("482913", n=2**4) != hash_pin("482913", n=2**4)


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "scrypt$x$8$1$AAAA$BBBB", "bcrypt$16$8$1$AAAA$BBBB", "scrypt$16$8$1$!!$??"],
)
def test_malformed_stored_hash_never_verifies(stored: str) -> None:
    assert verify_pin("482913", stored) is False


def test_invalid_pin_never_verifies() -> None:
    stored = hash_pin("482913", n=2**4)
    assert verify_pin("48291", stored) is False
