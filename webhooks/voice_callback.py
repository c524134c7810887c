"""The call back for a texted request: the supervisor's phone rings, they answer, and
they wait in the request's conference exactly like an officer who called in.

POST /voice/callback?r=<id>          the called-back phone answered
POST /voice/callback/status?r=<id>   how the call back ended (unanswered → the request fails)
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from twilio.twiml.voice_response import VoiceResponse

from dispatch import urls as paths
from dispatch.sms import service
from dispatch.states import State
from webhooks.deps import arg, ctx, dispatcher, form
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import caller_conference, say, twiml

bp = Blueprint("voice_callback", __name__)
log = logging.getLogger("webhooks.callback")

CLOSED = (
    "Interpretation service. This request is no longer open. "
    "Text the language again if you still need an interpreter. Goodbye."
)


def spell(request_id: str) -> str:
    """R00042 → "R 4 2": short and clear over a phone line."""
    return request_id[:1] + " " + " ".join(request_id[1:].lstrip("0") or "0")


@bp.post(paths.CALLBACK)
@twilio_only
def answered() -> Response:
    """The called-back phone answered: say which request this is, queue it, join its room."""
    response = VoiceResponse()
    rec = service.callback_answered(ctx(), dispatcher(), arg("r"), form("CallSid"))
    if rec is None or rec.finished or rec.state == State.NEW or rec.officer_call != form("CallSid"):
        say(response, CLOSED)
        response.hangup()
        return twiml(response)
    urgent = "Urgent request" if rec.urgent else "Request"
    what = rec.language_name if rec.language else "language to be identified"
    if rec.state == State.CONNECTED:
        say(response, f"Interpretation service. {urgent} {spell(rec.id)}. Connecting you to the interpreter.")
    else:
        say(
            response,
            f"Interpretation service, calling back. {urgent} {spell(rec.id)}, {what}. Please hold for an interpreter.",
        )
    return twiml(caller_conference(response, rec, ctx().urls))


@bp.post(paths.CALLBACK_STATUS)
@twilio_only
def status() -> Response:
    """No answer, busy or failed → the request fails and the supervisor gets a text;
    hung up after joining → the same as an officer hanging up."""
    call_status = form("CallStatus")
    if call_status in ("completed", "no-answer", "busy", "failed", "canceled"):
        service.callback_ended(ctx(), dispatcher(), arg("r"), form("CallSid"), call_status)
    return twiml(VoiceResponse())
