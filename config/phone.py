"""Phone numbers: one canonical form (E.164) for matching, one masked form for eyes.

Twilio sends ``From``/``To`` in E.164, so the roster's numbers are normalised to E.164
at load time and every lookup is an exact string match. People and logs see only the
masked form (country code and last four digits): the design keeps full numbers off the
dashboard and out of log lines.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code (write it as +<country code> ...)",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}

_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
}

BULLETS = "•" * 7
"""A fixed run of bullets, so a masked number does not even reveal its length."""

_E164 = re.compile(r"\+[1-9][0-9]{4,14}")
_MASKED = re.compile(r"(\+[0-9]{0,3})?" + BULLETS + r"[0-9]{0,4}")


def to_e164(raw: str, region: str = "US") -> str:
    """``"+1 (718) 555-0175"`` → ``"+17185550175"``; numbers without ``+`` are read as `region`'s.

    Raises ValueError with a reason a person can act on when the text is not a phone
    number, is too short or long, is not a valid number for its country, or carries an
    extension (an extension cannot be dialled by the service).
    """
    if not isinstance(raw, str):
        raise ValueError(f"expected a phone number as text, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise ValueError("empty phone number")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        raise ValueError(f"{text!r} is not a usable phone number: {reason}") from None
    if number.extension:
        raise ValueError(f"{text!r} has an extension ({number.extension}); the service can only dial a direct number")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise ValueError(f"{text!r} is not a usable phone number: {_POSSIBLE_REASONS.get(possible, 'invalid')}")
    if possible == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise ValueError(f"{text!r} is missing its area code")
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"{text!r} is not a valid phone number for country code +{number.country_code} "
            "(check the area code and the digit count)"
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """``"+17185550175"`` → ``"+1•••••••0175"``: country code and last four digits only.

    Never raises: it is called on whatever a webhook's ``From`` holds. Anything that is
    not E.164 (``anonymous``, ``client:...``, a SIP address) keeps at most its last four
    digits, so no name or address leaks into a log line. A masked number is returned as
    it is: an unknown caller's number is stored masked, and screens mask what they show.
    """
    text = (e164 or "").strip() if isinstance(e164, str) else ""
    if not text:
        return ""
    if _MASKED.fullmatch(text):
        return text
    if _E164.fullmatch(text):
        country = _country_code(text)
        return f"+{country}{BULLETS}{text[-4:]}"
    digits = re.sub(r"[^0-9]", "", text)
    return BULLETS + digits[-4:] if len(digits) >= 8 else BULLETS


@functools.lru_cache(maxsize=1024)  # parsing costs ~35 µs, and every masked log line needs it
def _country_code(e164: str) -> str:
    """The calling code of an E.164 string ('1', '44', '880'); '' if it names no country."""
    try:
        return str(phonenumbers.parse(e164, None).country_code)
    except NumberParseException:
        return ""


__all__ = ["to_e164", "mask", "BULLETS"]
