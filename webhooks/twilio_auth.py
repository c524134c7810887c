"""Only Twilio (or whoever holds the auth token) may drive the phone webhooks.

The signature covers the URL Twilio called, so behind a TLS-terminating proxy the
URL is rebuilt from the configured public (or status-callback) base URL, not from
what the proxy forwarded to us. A request that passed is marked verified (`verified()`):
only then may an error answer carry anything secret (the vendor's DTMF, a number).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
from typing import Any, Callable

from flask import Response, current_app, g, request
from twilio.request_validator import RequestValidator

from webhooks.logsafe import RefusalLog, clip

log = logging.getLogger("webhooks.auth")


def public_urls() -> list[str]:
    """The URL Twilio signed: the base URL it was given for this path (public, or the status
    base for status callbacks) + path + query string; then the other base, for a number whose
    status URL was set up on the public host."""
    urls = current_app.extensions["dispatch_context"].urls  # the very URLs we hand to Twilio
    query = request.query_string.decode()
    tail = request.path + (f"?{query}" if query else "")
    first = urls.base_for(request.path)
    other = urls.status_base if first == urls.base else urls.base
    return [first + tail] if other == first else [first + tail, other + tail]


class Signer:
    """Twilio's default webhook signature (HMAC-SHA1 over the URL, then each parameter's
    name and value in name order, base64) with the key schedule done once, not per request.

    `RequestValidator.compute_signature` gives the same answer for a plain dict; it re-keys
    the HMAC and copies the string once per parameter on every call.
    """

    def __init__(self, auth_token: str):
        self._keyed = hmac.new(auth_token.encode("utf-8"), digestmod=hashlib.sha1)

    def sign(self, url: str, params: dict[str, str]) -> str:
        mac = self._keyed.copy()
        mac.update((url + "".join([name + params[name] for name in sorted(params)])).encode("utf-8"))
        return base64.b64encode(mac.digest()).decode("ascii")


def signature_ok() -> bool:
    validator: RequestValidator = current_app.extensions["twilio_validator"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    # Every field a handler can read must be signed: a multipart body's fields land in
    # request.form too, so they are validated whatever the content type.
    params = request.form.to_dict(flat=True)
    urls = public_urls()
    # Fast path: one HMAC over exactly the URL Twilio was given. `validate` always computes
    # two (the URL with and without its port) plus URL parsing, ~175 µs a webhook; it still
    # decides every request this one HMAC does not accept.
    expected = current_app.extensions["twilio_signer"].sign(urls[0], params)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return any(validator.validate(url, params, signature) for url in urls)


def verified() -> bool:
    """Whether this request's Twilio signature was checked and good."""
    return bool(g.get("twilio_verified"))


def log_refusal(reason: str, level: int = logging.INFO) -> None:
    """One short line for a refused request, within this process's refusal budget."""
    refusals: RefusalLog = current_app.extensions["refusals"]
    refusals.refused(
        level,
        "refused %s %s from %s: %s",
        clip(request.method, 10),
        clip(request.path),
        clip(request.remote_addr or "-", 50),
        reason,
    )


def twilio_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403, nothing changed) a request without a valid X-Twilio-Signature; mark
    the others verified before the view runs."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signature_ok():
            # WARNING: a real Twilio request refused here means PUBLIC_BASE_URL or the token is wrong.
            log_refusal("missing or bad X-Twilio-Signature", logging.WARNING)
            return Response("Forbidden: invalid Twilio signature\n", status=403, mimetype="text/plain")
        g.twilio_verified = True
        return view(*args, **kwargs)

    wrapper.twilio_only = True  # type: ignore[attr-defined]  # what the route audit looks for
    return wrapper
