"""The interpreter's legs: a liaison's whispered offer, and the vendor bridge.

The whisper asks for a key press, so a voicemail greeting (which presses nothing)
never counts as an answer.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from twilio.twiml.voice_response import VoiceResponse

from dispatch import urls as paths
from dispatch.offer_outcomes import OfferReply
from dispatch.records import RequestRecord
from webhooks.deps import arg, ctx, form, settings, wiring
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import ask, goodbye, hang_up, interpreter_conference, say, twiml

bp = Blueprint("voice_interpreters", __name__)
log = logging.getLogger("webhooks.interpreters")

GONE = "This interpretation request is no longer waiting. Thank you."
TAKEN = "Another interpreter has taken this request. Thank you."


def _gone(request_id: str, liaison_id: str) -> Response:
    """Goodbye to a liaison whose offer is over: taken by another interpreter, or gone."""
    return goodbye(TAKEN if wiring().offer_outcomes.taken_by_another(request_id, liaison_id) else GONE)


def _whisper(
    response: VoiceResponse, rec: RequestRecord, offer_id: str, liaison_id: str, lead: str = ""
) -> VoiceResponse:
    c = ctx()
    precinct = c.roster.precinct(rec.precinct)
    where = precinct.name if precinct else f"precinct {rec.precinct}"
    urgent = "Urgent. " if rec.urgent else ""
    ask(
        response,
        c.urls(paths.OFFER_ANSWER, request=rec.id, offer=offer_id, liaison=liaison_id),
        f"{lead}{urgent}Interpretation request, {rec.language_name}, {where}. Press 1 to accept, or 2 to decline.",
        settings().whisper_timeout,
        num_digits=1,
    )
    return hang_up(response, "No key was pressed. Goodbye.")


@bp.post(paths.OFFER)
@twilio_only
def offer():
    """A liaison's phone was answered: whisper the request, wait for a key."""
    request_id, offer_id, liaison_id = arg("request"), arg("offer"), arg("liaison")
    rec = wiring().offer_outcomes.offer_answered(request_id, offer_id, liaison_id)
    if rec is None:
        return _gone(request_id, liaison_id)
    return twiml(_whisper(VoiceResponse(), rec, offer_id, liaison_id))


@bp.post(paths.OFFER_ANSWER)
@twilio_only
def offer_answer():
    request_id, offer_id, liaison_id = arg("request"), arg("offer"), arg("liaison")
    answer = wiring().offer_outcomes.offer_reply(request_id, offer_id, liaison_id, form("Digits"), form("CallSid"))
    response = VoiceResponse()
    if answer.reply == OfferReply.ACCEPTED and answer.record is not None:
        say(response, "Connecting you to the officer now.")
        return twiml(interpreter_conference(response, answer.record, ctx().urls))
    if answer.reply == OfferReply.DECLINED:
        return goodbye("Declined. Thank you.")
    if answer.reply == OfferReply.ASK_AGAIN and answer.record is not None:
        return twiml(_whisper(response, answer.record, offer_id, liaison_id, "Please press 1 or 2. "))
    return _gone(request_id, liaison_id)


@bp.post(paths.OFFER_STATUS)
@twilio_only
def offer_status():
    wiring().offer_outcomes.offer_call_ended(
        arg("request"), arg("offer"), arg("liaison"), form("CallSid"), form("CallStatus")
    )
    return twiml(VoiceResponse())


@bp.post(paths.VENDOR)
@twilio_only
def vendor():
    """The vendor answered (its DTMF already sent): into the officer's room."""
    response = VoiceResponse()
    rec = wiring().vendor.vendor_answered(arg("request"), arg("dial"), form("CallSid"))
    if rec is not None:
        return twiml(interpreter_conference(response, rec, ctx().urls))
    response.hangup()
    return twiml(response)


@bp.post(paths.VENDOR_STATUS)
@twilio_only
def vendor_status():
    wiring().vendor.vendor_call_ended(arg("request"), arg("dial"), form("CallSid"), form("CallStatus"))
    return twiml(VoiceResponse())
