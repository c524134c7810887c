"""When anything fails, the officer still reaches an interpreter.

Three doors lead here: Twilio's fallback URL (it calls it with ErrorCode when our
primary webhook failed), any exception in a voice handler, and Redis being down.
All answer with plain TwiML that dials the vendor directly with its DTMF sequence;
none touches Redis. Status callbacks just get an empty, valid response.

Every door opens only for a request whose Twilio signature was verified: the direct
answer carries the vendor's number, account and PIN. Anything else under the webhook
paths (an unknown path or method, an oversized body, a crash before the signature was
checked) gets a plain HTTP error with nothing in it, logged within the refusal budget.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from dispatch import urls as paths
from webhooks.deps import ctx, form
from webhooks.logsafe import clip
from webhooks.twilio_auth import log_refusal, twilio_only, verified
from webhooks.twiml import direct_vendor, say, twiml

bp = Blueprint("fallback", __name__)
log = logging.getLogger("webhooks.fallback")

_INTERPRETER_LEGS = {paths.OFFER, paths.OFFER_ANSWER, paths.VENDOR, paths.REJOIN, paths.REJOIN_ANSWER}
WEBHOOK_PREFIXES = ("/voice/", "/sms/")
MESSAGE = "Connecting you directly to the interpretation line. Please hold."


def vendor_direct_response(message: str = MESSAGE) -> Response:
    """Direct vendor dial for the language named in the URL if any, else 'unknown'."""
    c = ctx()
    language = request.args.get("lang") or None
    vendor = c.roster.vendor
    code = vendor.unknown_language_code
    if language:
        found = c.catalog.get(language)
        code = vendor.language_codes.get(language) or (found.vendor_code if found else code)
    next_url = c.urls(paths.FALLBACK, step="alternate", lang=language or "")
    return twiml(direct_vendor(vendor, vendor.dtmf_for(code), message, next_url))


@bp.post(paths.FALLBACK)
@twilio_only
def fallback():
    if request.args.get("step") == "alternate":
        if form("DialCallStatus") in ("completed", "answered"):
            response = VoiceResponse()
            response.hangup()
            return twiml(response)
        vendor = ctx().roster.vendor
        code = vendor.unknown_language_code
        return twiml(direct_vendor(vendor, vendor.dtmf_for(code), "", None))
    log.error(
        "Twilio used the fallback URL: ErrorCode=%s for %s", clip(form("ErrorCode"), 20), clip(form("ErrorUrl"), 200)
    )
    return vendor_direct_response()


def safe_answer(exc: BaseException) -> Response:
    """What a webhook answers instead of a 500."""
    path = request.path
    log.exception("webhook %s failed: %s", clip(path), type(exc).__name__, exc_info=exc)
    if path.startswith("/sms/"):
        reply = MessagingResponse()
        reply.message("Sorry, the interpretation service hit a problem. Please call the desk for an interpreter.")
        return Response(str(reply), mimetype="text/xml")
    if path in paths.STATUS_CALLBACKS or not path.startswith("/voice/"):
        return twiml(VoiceResponse())
    if path in _INTERPRETER_LEGS:
        response = VoiceResponse()
        say(response, "Sorry, this request could not be connected. Goodbye.")
        response.hangup()
        return twiml(response)
    if path == paths.HOLD:
        # The caller is already waiting in the request's conference (wait music allows no
        # <Dial>): keep the hold loop going; the request is in Redis and goes on when it is back.
        response = VoiceResponse()
        say(response, "Please stay on the line.")
        response.pause(length=ctx().settings.hold_pause)
        response.redirect(
            ctx().urls(paths.HOLD, r=request.args.get("r", ""), n=request.args.get("n", "1")), method="POST"
        )
        return twiml(response)
    return vendor_direct_response()


def plain_error(exc: HTTPException) -> Response:
    """The HTTP error alone, as text: no TwiML, no page, nothing from the request."""
    code = exc.code or 500
    response = Response(f"{code} {exc.name}\n", status=code, mimetype="text/plain")
    for name, value in exc.get_headers():  # e.g. a 405's Allow
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def install_error_handlers(app: Flask) -> None:
    """Under /voice/ and /sms/: an exception in a verified webhook (Redis down included)
    becomes safe TwiML, never a 500; everything else is a plain HTTP error."""

    @app.errorhandler(Exception)
    def _handle(exc: Exception):  # type: ignore[no-untyped-def]
        if not request.path.startswith(WEBHOOK_PREFIXES):
            if isinstance(exc, HTTPException):
                return exc
            raise exc  # Flask's own answer: logged, a plain 500
        if verified():
            if isinstance(exc, HTTPException) and exc.code in (403, 405, 415):
                return exc
            if current_app.config.get("PROPAGATE_WEBHOOK_ERRORS"):
                raise exc
            return safe_answer(exc)
        if isinstance(exc, HTTPException):
            log_refusal(f"{exc.code} {exc.name}")
            return plain_error(exc)
        # Our own failure before the signature was checked: the sender is unknown, so
        # nothing secret; one bounded line, as a stranger may be able to repeat it.
        log_refusal(f"{type(exc).__name__} before the signature check: {clip(exc)}", logging.ERROR)
        return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")
