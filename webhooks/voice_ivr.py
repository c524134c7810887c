"""The officer's call: identify, choose a language, wait in the conference.

Every answer is TwiML; every wrong key or unclear phrase is asked again, and after
`ivr_max_tries` the call goes to the vendor, whose operators identify languages —
an officer is never left at a dead end. Nothing is queued for an unidentified caller.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import Gather, VoiceResponse

from config.phone import mask
from dispatch import rate_limit
from dispatch import urls as paths
from dispatch.languages import Language
from dispatch.records import RequestRecord
from dispatch.routing import Caller
from dispatch.states import State
from webhooks.deps import arg, ctx, dispatcher, form, int_arg
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import cached_twiml, caller_conference, goodbye, say, twiml
from webhooks.voice_rejoin import rejoin_offer

bp = Blueprint("voice_ivr", __name__)
log = logging.getLogger("webhooks.voice")

# The code card (dispatch/languages/card.py) says the same: a code then #, 0 = unknown, 9 = urgent.
LANGUAGE_PROMPT = (
    "Enter the language code followed by the pound key, or say the language. Press 0 if you do not know the language."
)
URGENT_CHOICE = "Press 9 for an urgent request."
URGENT_LEAD = "Urgent request."
HELP = "Please call the desk sergeant for an interpreter. Goodbye."
# The same words whether the PIN keyed would have been right or not: a lock must not
# become a way to test PINs.
PIN_LOCKED = "PIN entry for this precinct is not available right now. " + HELP


def _caller() -> Caller | None:
    """Who is calling: a roster phone, or a precinct identified by PIN earlier in this call."""
    number = form("From")
    known = ctx().roster.caller(number)
    if known:
        unit = known.id if known.kind == "supervisor" else ""
        return Caller(number, known.kind, known.precinct_id, unit)
    precinct = arg("p")
    if precinct and ctx().roster.precinct(precinct):
        return Caller(number, "pin", precinct)
    return None


def _gather(action: str, num_digits: int | None = None, speech: bool = False) -> Gather:
    s = ctx().settings
    options = dict(
        action=action, method="POST", timeout=s.ivr_gather_timeout, finish_on_key="#", action_on_empty_result=True
    )
    if num_digits:
        options["num_digits"] = num_digits
    if speech:
        options.update(
            input="dtmf speech",
            speech_timeout="auto",
            language="en-US",
            hints="Spanish, Mandarin, Cantonese, Russian, Bengali, Haitian Creole, Arabic, Korean",
        )
    return Gather(**options)


def _ask_language(response: VoiceResponse, tries: int, urgent: bool, lead: str = "") -> VoiceResponse:
    u = ctx().urls
    gather = _gather(u(paths.INCOMING + "/language", t=str(tries), u="1" if urgent else "", p=arg("p")), speech=True)
    # Once urgent, the choice is not offered again (pressing 9 twice would read as a language code).
    prompt = f"{URGENT_LEAD} {LANGUAGE_PROMPT}" if urgent else f"{LANGUAGE_PROMPT} {URGENT_CHOICE}"
    say(gather, (lead + " " if lead else "") + prompt)
    response.append(gather)
    return response


@bp.post(paths.INCOMING)
@twilio_only
def incoming():
    """A call to the service number: greet a known phone, or ask an unknown one to identify.
    A phone whose officer dropped off a call moments ago is first offered to rejoin it
    (`m=1`: that offer was declined)."""
    if arg("m") != "1":
        offer = rejoin_offer()
        if offer is not None:
            return offer
    response = VoiceResponse()
    caller = _caller()
    # A known phone's call is logged (INFO) when it opens a request; the menu alone is
    # DEBUG: under load this line's handler lock was a sixth of the webhook's GIL time.
    if caller is None or log.isEnabledFor(logging.DEBUG):
        log.log(
            logging.DEBUG if caller else logging.INFO,
            "call %s from %s: %s",
            form("CallSid")[:10],
            mask(form("From")),
            caller.kind if caller else "unknown number",
        )
    if caller:
        return cached_twiml(("greet", arg("p")), lambda: _greet(response))
    if ctx().settings.unknown_callers == "refuse":
        return goodbye("This number is for registered police phones. " + HELP)
    return twiml(_ask_precinct(response, 0, "Interpretation service. This phone is not registered."))


def _greet(response: VoiceResponse) -> VoiceResponse:
    say(response, "Interpretation service.")
    return _ask_language(response, 0, False)


def _ask_precinct(response: VoiceResponse, tries: int, lead: str = "") -> VoiceResponse:
    gather = _gather(ctx().urls(paths.INCOMING + "/precinct", t=str(tries)))
    say(gather, (lead + " " if lead else "") + "Enter your precinct number followed by the pound key.")
    response.append(gather)
    return response


@bp.post(paths.INCOMING + "/precinct")
@twilio_only
def precinct():
    response = VoiceResponse()
    tries = int_arg("t") + 1
    digits = form("Digits")
    if ctx().roster.precinct(digits):
        if ctx().pins.locked_until(digits) is not None:
            log.info(
                "call %s from %s: PIN entry for precinct %s refused (locked)",
                form("CallSid")[:10],
                mask(form("From")),
                digits,
            )
            return goodbye(PIN_LOCKED)
        gather = _gather(ctx().urls(paths.INCOMING + "/pin", p=digits, t="0"))
        say(gather, "Enter your unit PIN followed by the pound key.")
        response.append(gather)
        return twiml(response)
    if tries >= ctx().settings.ivr_max_tries:
        return goodbye("That precinct number was not recognised. " + HELP)
    return twiml(_ask_precinct(response, tries, "That precinct number was not recognised."))


@bp.post(paths.INCOMING + "/pin")
@twilio_only
def pin():
    """The unit PIN, within the precinct's failure budget (dispatch.pin_guard). The digits
    keyed are never logged; the caller's number only masked."""
    response = VoiceResponse()
    precinct_id = arg("p")
    precinct = ctx().roster.precinct(precinct_id)
    tries = int_arg("t") + 1
    call, caller = form("CallSid")[:10], mask(form("From"))
    checked = ctx().pins.check(precinct_id, form("Digits")[:16])
    if checked.accepted:
        log.info("call %s from %s identified by PIN for precinct %s", call, caller, precinct_id)
        return twiml(_ask_language(response, 0, False))
    if checked.counted:
        log.warning(
            "call %s from %s: wrong PIN for precinct %s (%d of %d within an hour)",
            call,
            caller,
            precinct_id,
            checked.failures,
            ctx().settings.pin_failures_per_hour,
        )
    if checked.locked_until is not None:
        if not checked.counted:
            log.info("call %s from %s: PIN entry for precinct %s refused (locked)", call, caller, precinct_id)
        return goodbye(PIN_LOCKED)
    if tries >= ctx().settings.ivr_max_tries or precinct is None:
        return goodbye("That PIN was not accepted. " + HELP)
    gather = _gather(ctx().urls(paths.INCOMING + "/pin", p=precinct_id, t=str(tries)))
    say(gather, "That PIN was not accepted. Enter your unit PIN followed by the pound key.")
    response.append(gather)
    return twiml(response)


@bp.post(paths.INCOMING + "/language")
@twilio_only
def language():
    """Keypad code, 0 (unknown → vendor), 9 (urgent), or a spoken language name."""
    response = VoiceResponse()
    if _caller() is None:
        return goodbye(HELP)
    s = ctx().settings
    tries, urgent = int_arg("t"), arg("u") == "1"
    digits = form("Digits").strip()
    speech = form("SpeechResult").strip()
    try:
        confidence = float(form("Confidence") or "1")
    except ValueError:
        confidence = 0.0
    if digits == "0":
        return twiml(
            _queue(
                response,
                None,
                urgent,
                "Connecting you to the interpretation line, whose operator will identify the language.",
            )
        )
    if digits == "9" and not urgent:
        return twiml(_ask_language(response, tries, True))
    entered = digits or (speech if speech and confidence >= s.speech_min_confidence else "")
    found = ctx().catalog.resolve(entered) if entered else None
    if found and found.kind == "match" and found.language:
        if urgent:
            return twiml(_queue(response, found.language, True, f"Urgent. {found.language.name}."))
        picked = found.language
        return cached_twiml(("confirm", picked.id, tries, arg("p")), lambda: _confirm(response, picked, tries))
    if found and found.kind == "ambiguous" and found.choices:
        return twiml(_choose(response, [c.id for c in found.choices[:8]], tries, urgent))
    tries += 1
    if tries >= s.ivr_max_tries or (urgent and not entered):
        return twiml(
            _queue(
                response,
                None,
                urgent,
                "Connecting you to the interpretation line, whose operator will identify the language.",
            )
        )
    lead = "Sorry, I did not recognise that language." if entered else "Sorry, I did not get that."
    return cached_twiml(("ask", tries, urgent, lead, arg("p")), lambda: _ask_language(response, tries, urgent, lead))


def _confirm(response: VoiceResponse, language: Language, tries: int, again: int = 0) -> VoiceResponse:
    gather = _gather(
        ctx().urls(paths.INCOMING + "/confirm", lang=language.id, t=str(tries), c=str(again), p=arg("p")), num_digits=1
    )
    say(gather, f"You selected {language.name}. Press 1 to confirm, or 2 to choose again.")
    response.append(gather)
    return response


@bp.post(paths.INCOMING + "/confirm")
@twilio_only
def confirm():
    response = VoiceResponse()
    language = ctx().catalog.get(arg("lang"))
    tries, again = int_arg("t"), int_arg("c") + 1
    digits = form("Digits")
    if language is None or _caller() is None:
        return twiml(_ask_language(response, tries, False))
    if digits == "1":
        return twiml(_queue(response, language, False, ""))
    if digits == "2" or again >= ctx().settings.ivr_max_tries:
        return twiml(_ask_language(response, tries, False))
    say(response, "Sorry, please press 1 or 2.")
    return twiml(_confirm(response, language, tries, again))


def _choose(response: VoiceResponse, ids: list[str], tries: int, urgent: bool) -> VoiceResponse:
    catalog = ctx().catalog
    gather = _gather(
        ctx().urls(paths.INCOMING + "/choose", opts=",".join(ids), t=str(tries), u="1" if urgent else "", p=arg("p")),
        num_digits=1,
    )
    options = " ".join(f"For {catalog.get(i).name}, press {n}." for n, i in enumerate(ids, 1))  # type: ignore[union-attr]
    say(gather, "Which language? " + options + " Press 0 to choose again.")
    response.append(gather)
    return response


@bp.post(paths.INCOMING + "/choose")
@twilio_only
def choose():
    response = VoiceResponse()
    ids = [i for i in arg("opts").split(",") if ctx().catalog.get(i)][:8]
    tries, urgent = int_arg("t"), arg("u") == "1"
    digits = form("Digits")
    if _caller() is None:
        return goodbye(HELP)
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= len(ids):  # "²".isdigit() too
        picked = ctx().catalog.get(ids[int(digits) - 1])
        if urgent:
            return twiml(_queue(response, picked, True, f"Urgent. {picked.name}."))  # type: ignore[union-attr]
        return twiml(_confirm(response, picked, tries))  # type: ignore[arg-type]
    tries += 1
    if tries >= ctx().settings.ivr_max_tries:
        return twiml(_queue(response, None, urgent, "Connecting you to the interpretation line."))
    if digits == "0" or not ids:
        return twiml(_ask_language(response, tries, urgent))
    say(response, "Sorry, that is not one of the choices.")
    return twiml(_choose(response, ids, tries, urgent))


class _Flooding(Exception):
    """This phone asked for more interpreters than the caller rate limit allows."""


def _queue(response: VoiceResponse, language: Language | None, urgent: bool, lead: str) -> VoiceResponse:
    """Open the request (once per call) and put the caller in its conference.

    The caller rate limit is counted here, where a call would reach the queue and ring
    liaisons' phones: one phone cannot flood the queue, and the first webhooks of a call
    need no Redis at all (the menu still answers while Redis is down).
    """
    caller = _caller()
    assert caller is not None
    s = ctx().settings
    if not rate_limit.allow(
        ctx().redis, "voice", ctx().pseudonyms.of(caller.number), s.caller_rate_limit, s.caller_rate_window
    ):
        log.warning(
            "call %s from %s refused: over %d requests in %ds",
            form("CallSid")[:10],
            mask(caller.number),
            s.caller_rate_limit,
            s.caller_rate_window,
        )
        raise _Flooding()
    rec = dispatcher().open_request(caller, language, urgent=urgent, officer_call=form("CallSid"))
    say(response, (lead + " " if lead else "") + f"Request {_spell(rec.id)}. Please hold for an interpreter.")
    return caller_conference(response, rec, ctx().urls)


@bp.errorhandler(_Flooding)
def _flooding(_exc: _Flooding):
    return goodbye("Too many calls from this phone in a short time. " + HELP)


def _spell(request_id: str) -> str:
    """R00042 → "R 4 2": short and clear over a phone line."""
    return request_id[0] + " " + " ".join(request_id[1:].lstrip("0") or "0")


@bp.post(paths.HOLD)
@twilio_only
def hold():
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
    rec = ctx().requests.get(arg("r"))
    n = int_arg("n")
    if rec is not None and rec.state in (State.FAILED, State.COMPLETED):
        return twiml(_ended_while_holding(response, rec, n))
    if rec is None or not rec.waiting:
        response.pause(length=1)
        return twiml(response)
    language = ctx().catalog.get(rec.language) if rec.language else None
    if n == 0 and language and language.twilio_voice and language.hold_sentence:
        response.say(language.hold_sentence, language=language.twilio_voice)
    place = dispatcher().position(rec)
    what = f"a {rec.language_name} interpreter" if rec.language else "an interpreter"
    say(response, f"You are number {place} in line for {what}. Please stay on the line.")
    response.pause(length=ctx().settings.hold_pause)
    response.redirect(ctx().urls(paths.HOLD, r=rec.id, n=str(n + 1)), method="POST")
    return twiml(response)


def _ended_while_holding(response: VoiceResponse, rec: RequestRecord, n: int) -> VoiceResponse:
    what = "No interpreter could be reached." if rec.state == State.FAILED else "The interpreter has left the call."
    if rec.extra.get("caller_not_told"):
        after = "Please hang up and call again for an interpreter."
    else:
        after = "Please stay on the line: in a moment you can press 1 to request an interpreter again."
    say(response, f"We are sorry. {what} {after}")
    response.pause(length=ctx().settings.hold_pause)
    response.redirect(ctx().urls(paths.HOLD, r=rec.id, n=str(n + 1)), method="POST")
    return response


@bp.post(paths.AFTER_CONFERENCE)
@twilio_only
def after_conference():
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


@bp.post(paths.CONFERENCE_STATUS)
@twilio_only
def conference_status():
    """Participant events: the officer leaving the room means their leg ended (they hung up,
    or their cell dropped): a waiting request is abandoned, a connected one waits for a rejoin."""
    event, call_sid = form("StatusCallbackEvent"), form("CallSid")
    rec = ctx().requests.get(arg("r"))
    if (
        rec
        and event == "participant-leave"
        and call_sid
        and call_sid == rec.officer_call
        and (rec.waiting or rec.state == State.CONNECTED)
    ):
        dispatcher().officer_call_ended(call_sid)
    return twiml(VoiceResponse())


@bp.post(paths.CALL_STATUS)
@twilio_only
def call_status():
    """The service number's status callback: the officer's call ended."""
    if form("CallStatus") in ("completed", "busy", "no-answer", "failed", "canceled"):
        dispatcher().officer_call_ended(form("CallSid"))
    return twiml(VoiceResponse())


def _offer_retry(message: str) -> VoiceResponse:
    response = VoiceResponse()
    gather = _gather(ctx().urls(paths.RETRY, r=arg("r")), num_digits=1)
    say(gather, message + " Press 1 to request an interpreter again, or hang up.")
    response.append(gather)
    say(response, "Goodbye.")
    response.hangup()
    return response


@bp.post(paths.DROPPED)
@twilio_only
def dropped():
    return twiml(_offer_retry("The interpreter has left the call."))


@bp.post(paths.FAILED)
@twilio_only
def failed():
    return twiml(_offer_retry("We are sorry. No interpreter could be reached."))


@bp.post(paths.RETRY)
@twilio_only
def retry():
    response = VoiceResponse()
    if form("Digits") != "1":
        return goodbye("Goodbye.")
    rec = dispatcher().retry(arg("r"), form("CallSid"))
    if rec is None or not rec.waiting:
        return goodbye(HELP)
    say(response, f"Request {_spell(rec.id)}. Please hold for an interpreter.")
    return twiml(caller_conference(response, rec, ctx().urls))
