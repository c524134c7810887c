"""The webhook paths Twilio is told to call: the contract between dispatch/ and webhooks/.

Routing code places calls whose TwiML and status callbacks live at these paths;
the blueprints register the same paths. Query parameters carry the request and the token
of the offer, dial, drop or call-back, so a callback for an old one is recognised as old,
and the menu's state (tries so far, urgent, the precinct a PIN caller keyed). Every URL is
signed by Twilio as given, so these names are read back exactly (webhooks/deps.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

INCOMING = "/voice/incoming"
INCOMING_PRECINCT = "/voice/incoming/precinct"  # an unregistered phone: its precinct ...
INCOMING_PIN = "/voice/incoming/pin"  # ... and the unit PIN
INCOMING_LANGUAGE = "/voice/incoming/language"  # the language: keypad code, speech, 0, 9
INCOMING_CONFIRM = "/voice/incoming/confirm"  # "You selected Spanish. Press 1 ..."
INCOMING_CHOOSE = "/voice/incoming/choose"  # a short list for an ambiguous name
INCOMING_INCIDENT = "/voice/incoming/incident"  # at the read-back, 5: the incident number keyed
INTERPRETER_ID = "/voice/interpreter-id"  # after the interpreter left: their ID number keyed
CALL_STATUS = "/voice/status"
FALLBACK = "/voice/fallback"
SMS_INCOMING = "/sms/incoming"
OFFER = "/voice/offer"
OFFER_ANSWER = "/voice/offer/answer"
OFFER_STATUS = "/voice/offer/status"
VENDOR = "/voice/vendor"
VENDOR_STATUS = "/voice/vendor/status"
HOLD = "/voice/hold"
CONFERENCE_STATUS = "/voice/conference"
AFTER_CONFERENCE = "/voice/after"
DROPPED = "/voice/dropped"
FAILED = "/voice/failed"
RETRY = "/voice/retry"
CALLBACK = "/voice/callback"
CALLBACK_STATUS = "/voice/callback/status"
REJOIN = "/voice/rejoin"  # the interpreter, after the officer's leg ended
REJOIN_ANSWER = "/voice/rejoin/answer"  # ... their key (1: call the officer back)
REJOIN_OFFICER = "/voice/rejoin/officer"  # the officer answered the call-back
REJOIN_OFFICER_ANSWER = "/voice/rejoin/officer/answer"  # ... their key (1: rejoin)
REJOIN_OFFICER_STATUS = "/voice/rejoin/officer/status"  # how the call-back ended
REJOIN_MENU = "/voice/rejoin/menu"  # the officer called in again: their first key

# Reports from the phone network that nobody waits on (Twilio ignores the answer). They may
# be served by processes of their own, so a burst of them never delays a caller's webhook.
STATUS_CALLBACKS = frozenset(
    {CALL_STATUS, OFFER_STATUS, VENDOR_STATUS, CONFERENCE_STATUS, CALLBACK_STATUS, REJOIN_OFFICER_STATUS}
)


class Urls:
    """Absolute callback URLs under the public base URL Twilio reaches us at; status
    callbacks under the status base URL (the same unless configured apart)."""

    def __init__(self, public_base_url: str, status_base_url: str = ""):
        self.base = public_base_url.rstrip("/")
        self.status_base = (status_base_url or public_base_url).rstrip("/")

    def base_for(self, path: str) -> str:
        return self.status_base if path in STATUS_CALLBACKS else self.base

    def __call__(self, path: str, **params: str) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return f"{self.base_for(path)}{path}" + (f"?{query}" if query else "")
