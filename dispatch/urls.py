"""The webhook paths Twilio is told to call: the contract between dispatch/ and webhooks/.

Routing code places calls whose TwiML and status callbacks live at these paths;
the blueprints register the same paths. Query parameters carry the request and
offer tokens, so a callback for an old offer is recognised as old.
"""
from __future__ import annotations

from urllib.parse import urlencode

INCOMING = "/voice/incoming"
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


class Urls:
    """Absolute callback URLs under the public base URL Twilio reaches us at."""

    def __init__(self, public_base_url: str):
        self.base = public_base_url.rstrip("/")

    def __call__(self, path: str, **params: str) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return f"{self.base}{path}" + (f"?{query}" if query else "")
