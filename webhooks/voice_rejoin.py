"""A dropped officer and the interpreter who waits for them (dispatch/rejoin.py).

POST /voice/rejoin?r&k&m               the interpreter's leg, moved here when the officer's leg
                                       ended: the prompt, looping; or into the room
POST /voice/rejoin/answer?r&k          the interpreter's key: 1 calls the officer back
POST /voice/rejoin/officer?r&k&t       the officer answered the call-back: press 1 to rejoin
POST /voice/rejoin/officer/answer?...  the officer's key
POST /voice/rejoin/officer/status?r&k  how the call-back ended
POST /voice/rejoin/menu?r              the officer called in again: their key at the first menu
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from dispatch import urls as paths
from dispatch.records import RequestRecord
from dispatch.rejoin import Rejoin, Step
from webhooks.deps import arg, ctx, dispatcher, form, int_arg
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import caller_conference, goodbye, interpreter_conference, say, twiml

bp = Blueprint("voice_rejoin", __name__)
log = logging.getLogger("webhooks.rejoin")

PROMPT = (
    "The officer's line has ended. If the call was cut off, press 1 and we will call the officer back; "
    "otherwise hang up."
)
LEADS = {
    "no-answer": "The officer did not answer the call back.",
    "call-failed": "The call to the officer could not be placed.",
}
AGAIN = "Press 1 to call the officer again, or hang up."
CALLING = "We are calling the officer back. Please stay on the line; you will hear them when they answer."
BACK = "The officer is back on the line."
OVER = "This call has ended. Thank you. Goodbye."
OFFICER_GONE = (
    "Interpretation service. Your interpreter is no longer on the line. "
    "Call the service again if you still need one. Goodbye."
)


def rejoin() -> Rejoin:
    return dispatcher().rejoin


def _interpreter(step: Step, request_id: str, token: str, lead: str = "") -> Response:
    """The interpreter's next TwiML for `step`."""
    c = ctx()
    rec = c.requests.get(request_id) if step in (Step.ROOM, Step.CALLING) else None
    if step == Step.GONE or (step in (Step.ROOM, Step.CALLING) and rec is None):
        return goodbye(OVER)
    response = VoiceResponse()
    if rec is not None:
        say(response, BACK if step == Step.ROOM else CALLING)
        return twiml(interpreter_conference(response, rec, c.urls))
    gather = Gather(
        action=c.urls(paths.REJOIN_ANSWER, r=request_id, k=token),
        method="POST",
        num_digits=1,
        timeout=c.settings.ivr_gather_timeout,
    )
    say(gather, lead or PROMPT)
    response.append(gather)
    response.redirect(c.urls(paths.REJOIN, r=request_id, k=token), method="POST")  # again until the grace ends
    return twiml(response)


@bp.post(paths.REJOIN)
@twilio_only
def prompt() -> Response:
    step = rejoin().interpreter_step(arg("r"), form("CallSid"))
    lead = LEADS.get(arg("m"), "")
    return _interpreter(step, arg("r"), arg("k"), f"{lead} {AGAIN}" if lead else "")


@bp.post(paths.REJOIN_ANSWER)
@twilio_only
def answer() -> Response:
    request_id, token, call_sid = arg("r"), arg("k"), form("CallSid")
    if form("Digits") == "1":
        return _interpreter(rejoin().call_back_asked(request_id, token, call_sid), request_id, token)
    step = rejoin().interpreter_step(request_id, call_sid)
    return _interpreter(step, request_id, token, "Please press 1 to call the officer back, or hang up.")


# ---------------------------------------------------------------- the officer
def _your_interpreter(rec: RequestRecord) -> str:
    return f"your {rec.language_name} interpreter" if rec.language else "your interpreter"


def _ask_officer(rec: RequestRecord, recall: str, tries: int, lead: str) -> Response:
    c = ctx()
    response = VoiceResponse()
    gather = Gather(
        action=c.urls(paths.REJOIN_OFFICER_ANSWER, r=rec.id, k=recall, t=str(tries)),
        method="POST",
        num_digits=1,
        timeout=c.settings.ivr_gather_timeout,
    )
    say(gather, f"{lead} Press 1 to rejoin {_your_interpreter(rec)}.")
    response.append(gather)
    if tries + 1 >= c.settings.ivr_max_tries:
        say(response, "Goodbye.")
        response.hangup()
    else:
        response.redirect(c.urls(paths.REJOIN_OFFICER, r=rec.id, k=recall, t=str(tries + 1)), method="POST")
    return twiml(response)


def _into_the_room(rec: RequestRecord) -> Response:
    response = VoiceResponse()
    say(response, f"Reconnecting you to {_your_interpreter(rec)}.")
    return twiml(caller_conference(response, rec, ctx().urls))


@bp.post(paths.REJOIN_OFFICER)
@twilio_only
def officer() -> Response:
    """The call-back was answered: a key press, so a voicemail greeting never rejoins."""
    rec = rejoin().call_back_answered(arg("r"), arg("k"))
    if rec is None:
        return goodbye(OFFICER_GONE)
    lead = "Interpretation service, calling you back." if int_arg("t") == 0 else ""
    return _ask_officer(rec, arg("k"), int_arg("t"), lead)


@bp.post(paths.REJOIN_OFFICER_ANSWER)
@twilio_only
def officer_answer() -> Response:
    request_id, recall = arg("r"), arg("k")
    if form("Digits") == "1":
        rec = rejoin().officer_back(request_id, form("CallSid"), "call-back", guard=("recall", recall))
        return _into_the_room(rec) if rec else goodbye(OFFICER_GONE)
    rec = rejoin().call_back_answered(request_id, recall)
    if rec is None:
        return goodbye(OFFICER_GONE)
    return _ask_officer(rec, recall, int_arg("t") + 1, "Sorry, that key is not a choice.")


@bp.post(paths.REJOIN_OFFICER_STATUS)
@twilio_only
def officer_status() -> Response:
    if form("CallStatus") in ("completed", "busy", "no-answer", "failed", "canceled"):
        rejoin().call_back_ended(arg("r"), arg("k"), form("CallSid"), form("CallStatus"))
    return twiml(VoiceResponse())


# ---------------------------------------------------------------- calling in again
def rejoin_offer() -> Response | None:
    """The first menu for a phone whose officer dropped off a call within the grace period:
    1 rejoins, anything else goes on to the main menu. None (the main menu at once) for
    every other phone, and when the store cannot be read (the menu works without Redis)."""
    try:
        rec = rejoin().waiting_for(form("From"))
    except redis.RedisError:
        return None
    if rec is None:
        return None
    c = ctx()
    response = VoiceResponse()
    gather = Gather(
        action=c.urls(paths.REJOIN_MENU, r=rec.id),
        method="POST",
        num_digits=1,
        timeout=c.settings.ivr_gather_timeout,
        action_on_empty_result=True,
    )
    say(gather, f"Interpretation service. Press 1 to rejoin {_your_interpreter(rec)}, or 2 for the main menu.")
    response.append(gather)
    return twiml(response)


@bp.post(paths.REJOIN_MENU)
@twilio_only
def menu() -> Response:
    """1: back into the room, if the interpreter still waits for this phone. Otherwise the
    main menu (the incoming webhook without the rejoin offer)."""
    main = VoiceResponse()
    if form("Digits") == "1":
        waiting = rejoin().waiting_for(form("From"))
        token = waiting.extra.get("rejoin_token", "") if waiting is not None and waiting.id == arg("r") else ""
        # (no token: only the same key press delivered again finds its room)
        rec = rejoin().officer_back(arg("r"), form("CallSid"), "called again", guard=("rejoin_token", token or "-"))
        if rec is not None:
            return _into_the_room(rec)
        say(main, "Your interpreter is no longer on the line.")
    main.redirect(ctx().urls(paths.INCOMING, m="1"), method="POST")
    return twiml(main)
