"""The interpreter's legs: a liaison's whispered offer, and the vendor bridge.

The whisper asks for a key press, so a voicemail greeting (which presses nothing)
never counts as an answer.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Gather, VoiceResponse

from dispatch import urls as paths
from dispatch.routing import OfferReply
from webhooks.deps import arg, ctx, dispatcher, form
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import goodbye, interpreter_conference, say, twiml

bp = Blueprint("voice_interpreters", __name__)
log = logging.getLogger("webhooks.interpreters")

GONE = "This interpretation request is no longer waiting. Thank you."


def _whisper(response: VoiceResponse, request_id: str, offer_id: str, liaison_id: str, lead: str = "") -> VoiceResponse:
    c = ctx()
    rec = c.requests.get(request_id)
    precinct = c.roster.precinct(rec.precinct) if rec else None
    where = precinct.name if precinct else (f"precinct {rec.precinct}" if rec else "")
    gather = Gather(
        action=c.urls(paths.OFFER_ANSWER, r=request_id, o=offer_id, l=liaison_id),
        method="POST",
        num_digits=1,
        timeout=c.settings.whisper_timeout,
    )
    urgent = "Urgent. " if rec and rec.urgent else ""
    text = (
        f"{lead}{urgent}Interpretation request, {rec.language_name if rec else ''}, {where}. "
        "Press 1 to accept, or 2 to decline."
    )
    say(gather, text)
    response.append(gather)
    say(response, "No key was pressed. Goodbye.")
    response.hangup()
    return response


@bp.post(paths.OFFER)
@twilio_only
def offer():
    """A liaison's phone was answered: whisper the request, wait for a key."""
    request_id, offer_id, liaison_id = arg("r"), arg("o"), arg("l")
    response = VoiceResponse()
    if dispatcher().offer_is_current(request_id, offer_id) is None:
        return goodbye(GONE)
    return twiml(_whisper(response, request_id, offer_id, liaison_id))


@bp.post(paths.OFFER_ANSWER)
@twilio_only
def offer_answer():
    request_id, offer_id, liaison_id = arg("r"), arg("o"), arg("l")
    reply = dispatcher().offer_reply(request_id, offer_id, liaison_id, form("Digits"), form("CallSid"))
    response = VoiceResponse()
    if reply == OfferReply.ACCEPTED:
        rec = ctx().requests.get(request_id)
        say(response, "Connecting you to the officer now.")
        return twiml(interpreter_conference(response, rec, ctx().urls))  # type: ignore[arg-type]
    if reply == OfferReply.DECLINED:
        return goodbye("Declined. Thank you.")
    if reply == OfferReply.ASK_AGAIN:
        return twiml(_whisper(response, request_id, offer_id, liaison_id, "Please press 1 or 2. "))
    return goodbye(GONE)


@bp.post(paths.OFFER_STATUS)
@twilio_only
def offer_status():
    dispatcher().offer_call_ended(arg("r"), arg("o"), arg("l"), form("CallSid"), form("CallStatus"))
    return twiml(VoiceResponse())


@bp.post(paths.VENDOR)
@twilio_only
def vendor():
    """The vendor answered (its DTMF already sent): into the officer's room."""
    response = VoiceResponse()
    if dispatcher().vendor_answered(arg("r"), arg("v"), form("CallSid")):
        return twiml(interpreter_conference(response, ctx().requests.get(arg("r")), ctx().urls))  # type: ignore[arg-type]
    response.hangup()
    return twiml(response)


@bp.post(paths.VENDOR_STATUS)
@twilio_only
def vendor_status():
    dispatcher().vendor_call_ended(arg("r"), arg("v"), form("CallSid"), form("CallStatus"))
    return twiml(VoiceResponse())
