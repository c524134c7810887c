"""The officer in the request's conference: the hold loop, the room's and the call's status
callbacks, and what follows when the request ends while they are still on the line (the
retry menu: press 1 for a fresh request).
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime

from flask import Blueprint, Response
from twilio.twiml.voice_response import VoiceResponse

from dispatch import lost_requests
from dispatch import urls as paths
from dispatch.records import RequestRecord
from dispatch.states import State
from dispatch.telephony import ENDED
from logs import clip
from webhooks.deps import arg, ctx, form, int_arg, settings, wiring
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import HELP, ask, caller_conference, goodbye, hang_up, say, spell, twiml
from webhooks.voice_report import after_interpreter_menu, ask_interpreter_id, officers_request

bp = Blueprint("voice_room", __name__)
log = logging.getLogger("webhooks.voice_room")


@bp.post(paths.HOLD)
@twilio_only
def hold() -> Response:
    """The conference wait music: the resident's sentence once, then place in line.

    A request that ended while its officer still waits here (no interpreter could be
    reached; the interpreter left) is told in this loop. The retry menu itself cannot be
    here: a conference's waitUrl may only <Say>, <Play>, <Pause> and <Redirect> (no
    <Gather>, and a <Redirect> stays wait music), so only moving the call out of the
    room (a REST redirect to /voice/failed or /voice/dropped) can offer "press 1". That
    redirect is a job retried with backoff when the network refuses it; until it gets
    through, this loop says what happened and that the choice is coming.
    """
    response = VoiceResponse()
    rec = ctx().requests.get(arg("request"))
    prompts = int_arg("prompts")
    if rec is None:
        return twiml(_request_lost(response, prompts))
    if rec.state in (State.FAILED, State.COMPLETED):
        return twiml(_ended_while_holding(response, rec, prompts))
    if not rec.waiting:
        response.pause(length=1)
        return twiml(response)
    language = ctx().catalog.get(rec.language) if rec.language else None
    if prompts == 0 and language and language.twilio_voice and language.hold_sentence:
        response.say(language.hold_sentence, language=language.twilio_voice)
    place = wiring().intake.position(rec)
    what = f"a {rec.language_name} interpreter" if rec.language else "an interpreter"
    say(response, f"You are number {place} in line for {what}. Please stay on the line.")
    if rec.gender_unsent:  # sent to the vendor, whose bridge has no such option
        say(response, f"The interpretation line could not be asked for a {rec.gender} interpreter.")
    return twiml(_hold_again(response, rec.id, prompts))


def _hold_again(response: VoiceResponse, request_id: str, prompts: int) -> VoiceResponse:
    response.pause(length=settings().hold_pause)
    hold = ctx().urls(paths.HOLD, request=request_id, prompts=str(prompts + 1), language=arg("language"))
    response.redirect(hold, method="POST")
    return response


def _request_lost(response: VoiceResponse, prompts: int) -> VoiceResponse:
    """The request this officer holds for is not in Redis: acknowledged by a master that died
    before its replica had it (a Sentinel failover loses what min-replicas-max-lag allows).
    Nothing would ever route it, so the officer is put through to the vendor directly, in the
    language they chose: a job moves the call (once per call), and this loop goes on meanwhile."""
    call = form("CallSid")
    if lost_requests.put_through_once(ctx(), call, arg("language")):
        log.warning(
            "call %s holds for request %s, which Redis does not have (lost in a failover?): "
            "putting it through to the vendor",
            call[:10],
            clip(arg("request"), 20),
        )
    say(response, "Please stay on the line.")
    return _hold_again(response, arg("request"), prompts)


def _ended_while_holding(response: VoiceResponse, rec: RequestRecord, prompts: int) -> VoiceResponse:
    what = "No interpreter could be reached." if rec.state == State.FAILED else "The interpreter has left the call."
    if rec.caller_not_told:
        after = "Please hang up and call again for an interpreter."
    else:
        after = "Please stay on the line: in a moment you can press 1 to request an interpreter again."
    say(response, f"We are sorry. {what} {after}")
    return _hold_again(response, rec.id, prompts)


@bp.post(paths.AFTER_CONFERENCE)
@twilio_only
def after_conference() -> Response:
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


@bp.post(paths.CONFERENCE_STATUS)
@twilio_only
def conference_status() -> Response:
    """Participant events: the officer leaving the room means their leg ended (they hung up,
    or their cell dropped): a waiting request is abandoned, a connected one waits for a rejoin."""
    event, call_sid = form("StatusCallbackEvent"), form("CallSid")
    rec = ctx().requests.get(arg("request"))
    if (
        rec
        and event == "participant-leave"
        and call_sid
        and call_sid == rec.officer_call
        and (rec.waiting or rec.state == State.CONNECTED)
    ):
        wiring().call_ends.officer_call_ended(call_sid)
    return twiml(VoiceResponse())


@bp.post(paths.CALL_STATUS)
@twilio_only
def call_status() -> Response:
    """The service number's status callback: the officer's call ended."""
    if form("CallStatus") in ENDED:
        started = _started(form("Timestamp"), form("CallDuration"))
        if started is not None:
            wiring().call_ends.note_call_start(form("CallSid"), started)
        wiring().call_ends.officer_call_ended(form("CallSid"))
    return twiml(VoiceResponse())


def _started(timestamp: str, duration: str) -> float | None:
    """When a call was answered: its final report's time (or, without one, now) less its duration."""
    if not duration.isascii() or not duration.isdigit() or len(duration) > 6 or len(timestamp) > 64:
        return None
    if not timestamp:
        return time.time() - int(duration)
    try:
        return parsedate_to_datetime(timestamp).timestamp() - int(duration)
    except (TypeError, ValueError):
        return None


def _offer_retry(message: str) -> Response:
    response = ask(
        VoiceResponse(),
        ctx().urls(paths.RETRY, request=arg("request")),
        message + " Press 1 to request an interpreter again, or hang up.",
        settings().ivr_gather_timeout,
        num_digits=1,
        finish_on_key="#",
        action_on_empty_result=True,
    )
    return twiml(hang_up(response, "Goodbye."))


@bp.post(paths.DROPPED)
@twilio_only
def dropped() -> Response:
    return after_interpreter_menu("The interpreter has left the call.", arg("request"))


@bp.post(paths.FAILED)
@twilio_only
def failed() -> Response:
    return _offer_retry("We are sorry. No interpreter could be reached.")


@bp.post(paths.RETRY)
@twilio_only
def retry() -> Response:
    response = VoiceResponse()
    digits = form("Digits")
    if digits != "1" and arg("ids") == "1" and officers_request(arg("request")):  # after the interpreter left
        tries = int_arg("tries") + 1
        if digits == "2":
            return ask_interpreter_id(arg("request"))
        if digits and tries < settings().ivr_max_tries:
            return after_interpreter_menu("Sorry, please press 1 or 2.", arg("request"), tries)
    if digits != "1":
        return goodbye("Goodbye.")
    rec = wiring().intake.retry(arg("request"), form("CallSid"))
    if rec is None or not rec.waiting:
        return goodbye(HELP)
    say(response, f"Request {spell(rec.id)}. Please hold for an interpreter.")
    return twiml(caller_conference(response, rec, ctx().urls))
