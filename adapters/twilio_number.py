"""The service number's webhooks on Twilio: what they must be, what they are, the change.

Set by hand in the Twilio console, a webhook on the wrong host (an old deployment, http
instead of https, a typo) fails only when an officer calls. Here they follow from the
settings: the voice, fallback and SMS URLs under PUBLIC_BASE_URL, the call status callback
under STATUS_CALLBACK_BASE_URL (the public URL when unset), all POST, and no TwiML App
attached (an application's URLs would be used instead of the number's). The number is found
by its PhoneNumber in the account's IncomingPhoneNumbers and updated through the twilio SDK
(`flask --app wsgi twilio check|configure`, webhooks/twilio_cli.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twilio.rest import Client

from dispatch import urls as paths
from dispatch.urls import Urls


@dataclass(frozen=True)
class Webhook:
    """One of the number's settings: its URL field and method field in the SDK (and the API)."""

    label: str
    url_field: str
    method_field: str | None
    path: str | None  # under the service's URLs; None: must be empty


WEBHOOKS = (
    Webhook("Voice: a call comes in", "voice_url", "voice_method", paths.INCOMING),
    Webhook("Voice: primary handler fails", "voice_fallback_url", "voice_fallback_method", paths.FALLBACK),
    Webhook("Voice: call status changes", "status_callback", "status_callback_method", paths.CALL_STATUS),
    Webhook("Messaging: a message comes in", "sms_url", "sms_method", paths.SMS_INCOMING),
    Webhook("Voice: TwiML App (replaces the voice URLs)", "voice_application_sid", None, None),
    Webhook("Messaging: TwiML App (replaces the SMS URL)", "sms_application_sid", None, None),
)
METHOD = "POST"


@dataclass(frozen=True)
class Change:
    webhook: Webhook
    old: tuple[str, str]  # (method, URL or sid); "" where unset
    new: tuple[str, str]

    def describe(self, width: int = 44) -> str:
        return f"{self.webhook.label:<{width}} {_show(self.old)} → {_show(self.new)}"


class NumberNotFound(Exception):
    """The number is not one of this account's IncomingPhoneNumbers."""


def _show(value: tuple[str, str]) -> str:
    method, target = value
    if not target:
        return "(none)"
    return f"{method} {target}" if method else target


def wanted(urls: Urls) -> dict[Webhook, tuple[str, str]]:
    return {w: (METHOD if w.method_field else "", urls(w.path) if w.path else "") for w in WEBHOOKS}


def current(number: Any) -> dict[Webhook, tuple[str, str]]:
    """What the number's resource (an IncomingPhoneNumberInstance) says now."""
    out = {}
    for w in WEBHOOKS:
        target = getattr(number, w.url_field, None) or ""
        method = (getattr(number, w.method_field, None) or "").upper() if w.method_field and target else ""
        out[w] = (method, target)
    return out


def changes(number: Any, urls: Urls) -> list[Change]:
    """The settings that differ from what the service needs, in WEBHOOKS's order."""
    now, want = current(number), wanted(urls)
    return [Change(w, now[w], want[w]) for w in WEBHOOKS if now[w] != want[w]]


def find(client: Client, phone_number: str) -> Any:
    """The account's IncomingPhoneNumber whose number is `phone_number` (E.164)."""
    for number in client.incoming_phone_numbers.list(phone_number=phone_number, limit=20):
        if number.phone_number == phone_number:
            return number
    raise NumberNotFound(f"{phone_number} is not a phone number of account {client.account_sid}")


def apply(number: Any, to_make: list[Change]) -> Any:
    """Update the number with `to_make` in one request; returns the updated resource."""
    fields: dict[str, str] = {}
    for change in to_make:
        method, target = change.new
        fields[change.webhook.url_field] = target
        if change.webhook.method_field:
            fields[change.webhook.method_field] = method
    return number.update(**fields)
