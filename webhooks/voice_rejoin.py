"""A dropped officer and the interpreter who waits for them (dispatch/rejoin.py, rejoin_ends.py).

POST /voice/rejoin?request&drop&why       the interpreter's leg, moved here when the officer's
                                          leg ended: the prompt, looping; or into the room
POST /voice/rejoin/answer?request&drop    the interpreter's key: 1 calls the officer back
POST /voice/rejoin/officer?request&recall&tries   the officer answered the call-back: press 1
POST /voice/rejoin/officer/answer?...     the officer's key
POST /voice/rejoin/officer/status?request&recall  how the call-back ended
POST /voice/rejoin/menu?request           the officer called in again: their key at the first menu

`drop` names the drop (the request's rejoin_token), `recall` the call-back in flight.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response
from twilio.twiml.voice_response import VoiceResponse

from dispatch import urls as paths
from dispatch.records import RequestRecord
from dispatch.rejoin import Next, RejoinWait, Step
from dispatch.rejoin_ends import RejoinEnds
from dispatch.telephony import ENDED
from webhooks.deps import arg, ctx, form, int_arg, settings, wiring
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import ask, caller_conference, goodbye, hang_up, interpreter_conference, say, twiml

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


def rejoin_wait() -> RejoinWait:
    return wiring().rejoin_wait


def rejoin_ends() -> RejoinEnds:
    return wiring().rejoin_ends


def _interpreter(step: Next, request_id: str, token: str, lead: str = "") -> Response:
    """The interpreter's next TwiML for `step`."""
    c = ctx()
    if step.step == Step.GONE or step.record is None:
        return goodbye(OVER)
    response = VoiceResponse()
    if step.step in (Step.ROOM, Step.CALLING):
        say(response, BACK if step.step == Step.ROOM else CALLING)
        return twiml(interpreter_conference(response, step.record, c.urls))
    ask(
        response,
        c.urls(paths.REJOIN_ANSWER, request=request_id, drop=token),
        lead or PROMPT,
        settings().ivr_gather_timeout,
        num_digits=1,
    )
    response.redirect(c.urls(paths.REJOIN, request=request_id, drop=token), method="POST")  # again until the grace ends
    return twiml(response)


@bp.post(paths.REJOIN)
@twilio_only
def prompt() -> Response:
    step = rejoin_wait().interpreter_step(arg("request"), form("CallSid"))
    lead = LEADS.get(arg("why"), "")
    return _interpreter(step, arg("request"), arg("drop"), f"{lead} {AGAIN}" if lead else "")


@bp.post(paths.REJOIN_ANSWER)
@twilio_only
def answer() -> Response:
    request_id, token, call_sid = arg("request"), arg("drop"), form("CallSid")
    if form("Digits") == "1":
        return _interpreter(rejoin_wait().call_back_asked(request_id, token, call_sid), request_id, token)
    step = rejoin_wait().interpreter_step(request_id, call_sid)
    return _interpreter(step, request_id, token, "Please press 1 to call the officer back, or hang up.")


# ---------------------------------------------------------------- the officer
def _your_interpreter(rec: RequestRecord) -> str:
    return f"your {rec.language_name} interpreter" if rec.language else "your interpreter"


def _ask_officer(rec: RequestRecord, recall: str, tries: int, lead: str) -> Response:
    c = ctx()
    response = VoiceResponse()
    ask(
        response,
        c.urls(paths.REJOIN_OFFICER_ANSWER, request=rec.id, recall=recall, tries=str(tries)),
        f"{lead} Press 1 to rejoin {_your_interpreter(rec)}.",
        settings().ivr_gather_timeout,
        num_digits=1,
    )
    if tries + 1 >= settings().ivr_max_tries:
        hang_up(response, "Goodbye.")
    else:
        response.redirect(
            c.urls(paths.REJOIN_OFFICER, request=rec.id, recall=recall, tries=str(tries + 1)), method="POST"
        )
    return twiml(response)


def _into_the_room(rec: RequestRecord) -> Response:
    response = VoiceResponse()
    say(response, f"Reconnecting you to {_your_interpreter(rec)}.")
    return twiml(caller_conference(response, rec, ctx().urls))


@bp.post(paths.REJOIN_OFFICER)
@twilio_only
def officer() -> Response:
    """The call-back was answered: a key press, so a voicemail greeting never rejoins."""
    rec = rejoin_wait().call_back_answered(arg("request"), arg("recall"))
    if rec is None:
        return goodbye(OFFICER_GONE)
    lead = "Interpretation service, calling you back." if int_arg("tries") == 0 else ""
    return _ask_officer(rec, arg("recall"), int_arg("tries"), lead)


@bp.post(paths.REJOIN_OFFICER_ANSWER)
@twilio_only
def officer_answer() -> Response:
    request_id, recall = arg("request"), arg("recall")
    if form("Digits") == "1":
        rec = rejoin_ends().officer_back(request_id, form("CallSid"), "call-back", guard=("recall", recall))
        return _into_the_room(rec) if rec else goodbye(OFFICER_GONE)
    rec = rejoin_wait().call_back_answered(request_id, recall)
    if rec is None:
        return goodbye(OFFICER_GONE)
    return _ask_officer(rec, recall, int_arg("tries") + 1, "Sorry, that key is not a choice.")


@bp.post(paths.REJOIN_OFFICER_STATUS)
@twilio_only
def officer_status() -> Response:
    if form("CallStatus") in ENDED:
        rejoin_wait().call_back_ended(arg("request"), arg("recall"), form("CallSid"), form("CallStatus"))
    return twiml(VoiceResponse())


# ---------------------------------------------------------------- calling in again
def rejoin_offer() -> Response | None:
    """The first menu for a phone whose officer dropped off a call within the grace period:
    1 rejoins, anything else goes on to the main menu. None (the main menu at once) for
    every other phone, and when the store cannot be read (the menu works without Redis)."""
    try:
        rec = rejoin_ends().waiting_for(form("From"))
    except redis.RedisError:
        return None
    if rec is None:
        return None
    c = ctx()
    response = VoiceResponse()
    ask(
        response,
        c.urls(paths.REJOIN_MENU, request=rec.id),
        f"Interpretation service. Press 1 to rejoin {_your_interpreter(rec)}, or 2 for the main menu.",
        settings().ivr_gather_timeout,
        num_digits=1,
        action_on_empty_result=True,
    )
    return twiml(response)


@bp.post(paths.REJOIN_MENU)
@twilio_only
def menu() -> Response:
    """1: back into the room, if the interpreter still waits for this phone. Otherwise the
    main menu (the incoming webhook without the rejoin offer)."""
    main = VoiceResponse()
    if form("Digits") == "1":
        waiting = rejoin_ends().waiting_for(form("From"))
        token = waiting.rejoin_token if waiting is not None and waiting.id == arg("request") else ""
        # (no token: only the same key press delivered again finds its room)
        rec = rejoin_ends().officer_back(
            arg("request"), form("CallSid"), "called again", guard=("rejoin_token", token or "-")
        )
        if rec is not None:
            return _into_the_room(rec)
        say(main, "Your interpreter is no longer on the line.")
    main.redirect(ctx().urls(paths.INCOMING, main_menu="1"), method="POST")
    return twiml(main)
