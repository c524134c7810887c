"""What a stranger must never read in an answer: every phone number in the roster file
(in the ways it could be written), the vendor's account and PIN, the units' PINs.

Read straight from the YAML file the settings point at, not through config.roster, so a
bug in the loader cannot hide a secret from the check.
"""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
import yaml

from config.settings import Settings

PHONE_KEYS = {"number", "alternate", "lines", "cell", "phone"}


def _walk(node: object, key: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)
    else:
        yield key, node


def roster_secrets(settings: Settings) -> set[str]:
    """Every form of every secret in the roster at `settings.roster_file`."""
    with open(settings.roster_file, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    secrets: set[str] = set()
    for key, value in _walk(doc):
        if key in PHONE_KEYS and value:
            raw = str(value)
            parsed = phonenumbers.parse(raw, "US")
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            secrets |= {raw, e164, e164.lstrip("+"), str(parsed.national_number)}
    vendor = doc["vendor"]
    secrets |= {str(vendor["account"]), str(vendor["pin"])}
    secrets |= {str(p["pin"]) for p in doc["precincts"]}
    assert len(secrets) > 40, "the roster's secrets were not found"
    return secrets


def leaked(secrets: set[str], text: str) -> list[str]:
    """The secrets that appear in `text` (also percent- or XML-escaped forms of a '+')."""
    variants = (text, text.replace("%2B", "+").replace("&#43;", "+"))
    return sorted(s for s in secrets if any(s in v for v in variants))
