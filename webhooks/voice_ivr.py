"""The officer's call: identify, choose a language, into the request's conference.

Every answer is TwiML; every wrong key or unclear phrase is asked again, and after
`ivr_max_tries` the call goes to the vendor, whose operators identify languages —
an officer is never left at a dead end. Nothing is queued for an unidentified caller.

The menu's state travels in the URL of the next step (Twilio signs it): `tries` so far,
`urgent`, and the `precinct` a caller on an unregistered phone identified by unit PIN.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from twilio.twiml.voice_response import VoiceResponse

from dispatch import rate_limit
from dispatch import urls as paths
from dispatch.languages import Language
from dispatch.phone import mask
from dispatch.report_facts import read_token
from dispatch.roster import Caller
from webhooks.deps import arg, ctx, form, int_arg, settings, wiring
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import HELP, ask, cached_twiml, caller_conference, goodbye, say, spell, spell_digits, twiml
from webhooks.voice_rejoin import rejoin_offer

bp = Blueprint("voice_ivr", __name__)
log = logging.getLogger("webhooks.voice")

# The code card (dispatch/languages/card.py) says the same: a code then #, 0 = unknown, 9 = urgent.
LANGUAGE_PROMPT = (
    "Enter the language code followed by the pound key, or say the language. Press 0 if you do not know the language."
)
URGENT_CHOICE = "Press 9 for an urgent request."
URGENT_LEAD = "Urgent request."
TO_THE_VENDOR = "Connecting you to the interpretation line, whose operator will identify the language."
# The same words whether the PIN keyed would have been right or not: a lock must not
# become a way to test PINs.
PIN_LOCKED = "PIN entry for this precinct is not available right now. " + HELP
SPEECH_HINTS = "Spanish, Mandarin, Cantonese, Russian, Bengali, Haitian Creole, Arabic, Korean"


def caller() -> Caller | None:
    """Who is calling: a roster phone, or a precinct identified by PIN earlier in this call.
    Each step of the menu is a webhook of its own: a step works it out once and hands it on."""
    number = form("From")
    known = ctx().roster.caller(number)
    precinct = arg("precinct") if known is None else ""
    if precinct and ctx().roster.precinct(precinct):
        return Caller(number, "pin", precinct)
    return known


def _menu(
    response: VoiceResponse, path: str, prompt: str, num_digits: int | None = None, speech: bool = False, **state: str
) -> VoiceResponse:
    """Ask for keys (or speech), posting them with the menu's `state` to `path`; no answer posts
    an empty one, so every step decides what silence means."""
    options: dict[str, object] = {"finish_on_key": "#", "action_on_empty_result": True}
    if num_digits:
        options["num_digits"] = num_digits
    if speech:
        options.update(input="dtmf speech", speech_timeout="auto", language="en-US", hints=SPEECH_HINTS)
    return ask(response, ctx().urls(path, **state), prompt, settings().ivr_gather_timeout, **options)


def _ask_language(response: VoiceResponse, tries: int, urgent: bool, lead: str = "") -> VoiceResponse:
    # Once urgent, the choice is not offered again (pressing 9 twice would read as a language code).
    menu = f"{URGENT_LEAD} {LANGUAGE_PROMPT}" if urgent else f"{LANGUAGE_PROMPT} {URGENT_CHOICE}"
    prompt = (lead + " " if lead else "") + menu
    return _menu(
        response,
        paths.INCOMING_LANGUAGE,
        prompt,
        speech=True,
        tries=str(tries),
        urgent="1" if urgent else "",
        precinct=arg("precinct"),
    )


@bp.post(paths.INCOMING)
@twilio_only
def incoming() -> Response:
    """A call to the service number: greet a known phone, or ask an unknown one to identify.
    A phone whose officer dropped off a call moments ago is first offered to rejoin it
    (`main_menu=1`: that offer was declined)."""
    if arg("main_menu") != "1":
        offer = rejoin_offer()
        if offer is not None:
            return offer
    response = VoiceResponse()
    known = caller()
    # A known phone's call is logged (INFO) when it opens a request; the menu alone is DEBUG,
    # and not even formatted unless DEBUG is on: this is the busiest webhook.
    if known is None or log.isEnabledFor(logging.DEBUG):
        log.log(
            logging.DEBUG if known else logging.INFO,
            "call %s from %s: %s",
            form("CallSid")[:10],
            mask(form("From")),
            known.kind if known else "unknown number",
        )
    if known:
        return cached_twiml(("greet", arg("precinct")), lambda: _greet(response))
    if settings().unknown_callers == "refuse":
        return goodbye("This number is for registered police phones. " + HELP)
    return twiml(_ask_precinct(response, 0, "Interpretation service. This phone is not registered."))


def _greet(response: VoiceResponse) -> VoiceResponse:
    # Inside the menu's <Gather>: an officer who knows the code types it during the greeting.
    return _ask_language(response, 0, False, "Interpretation service.")


def _ask_precinct(response: VoiceResponse, tries: int, lead: str = "") -> VoiceResponse:
    return _menu(
        response,
        paths.INCOMING_PRECINCT,
        (lead + " " if lead else "") + "Enter your precinct number followed by the pound key.",
        tries=str(tries),
    )


@bp.post(paths.INCOMING_PRECINCT)
@twilio_only
def precinct() -> Response:
    response = VoiceResponse()
    tries = int_arg("tries") + 1
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
        return twiml(
            _menu(
                response,
                paths.INCOMING_PIN,
                "Enter your unit PIN followed by the pound key.",
                precinct=digits,
                tries="0",
            )
        )
    if tries >= settings().ivr_max_tries:
        return goodbye("That precinct number was not recognised. " + HELP)
    return twiml(_ask_precinct(response, tries, "That precinct number was not recognised."))


@bp.post(paths.INCOMING_PIN)
@twilio_only
def pin() -> Response:
    """The unit PIN, within the precinct's failure budget (dispatch.pin_guard). The digits
    keyed are never logged; the caller's number only masked."""
    response = VoiceResponse()
    precinct_id = arg("precinct")
    found = ctx().roster.precinct(precinct_id)
    tries = int_arg("tries") + 1
    call, number = form("CallSid")[:10], mask(form("From"))
    checked = ctx().pins.check(precinct_id, form("Digits")[:16])
    if checked.accepted:
        log.info("call %s from %s identified by PIN for precinct %s", call, number, precinct_id)
        return twiml(_ask_language(response, 0, False))
    if checked.counted:
        log.warning(
            "call %s from %s: wrong PIN for precinct %s (%d of %d within an hour)",
            call,
            number,
            precinct_id,
            checked.failures,
            settings().pin_failures_per_hour,
        )
    if checked.locked_until is not None:
        if not checked.counted:
            log.info("call %s from %s: PIN entry for precinct %s refused (locked)", call, number, precinct_id)
        return goodbye(PIN_LOCKED)
    if tries >= settings().ivr_max_tries or found is None:
        return goodbye("That PIN was not accepted. " + HELP)
    return twiml(
        _menu(
            response,
            paths.INCOMING_PIN,
            "That PIN was not accepted. Enter your unit PIN followed by the pound key.",
            precinct=precinct_id,
            tries=str(tries),
        )
    )


@bp.post(paths.INCOMING_LANGUAGE)
@twilio_only
def language() -> Response:
    """Keypad code, 0 (unknown → vendor), 9 (urgent), or a spoken language name."""
    response = VoiceResponse()
    who = caller()
    if who is None:
        return goodbye(HELP)
    s = settings()
    tries, urgent = int_arg("tries"), arg("urgent") == "1"
    digits = form("Digits").strip()
    speech = form("SpeechResult").strip()
    try:
        confidence = float(form("Confidence") or "1")
    except ValueError:
        confidence = 0.0
    if digits == "0":
        return twiml(_queue(response, who, None, urgent, TO_THE_VENDOR))
    if digits == "9" and not urgent:
        return twiml(_ask_language(response, tries, True))
    entered = digits or (speech if speech and confidence >= s.speech_min_confidence else "")
    found = ctx().catalog.resolve(entered) if entered else None
    if found and found.kind == "match" and found.language:
        picked = found.language
        if urgent:
            return twiml(_queue(response, who, picked, True, f"Urgent. {picked.name}."))
        if digits and not s.confirm_keypad:  # a keyed code is not misheard: no read-back (speech always has one)
            return twiml(_queue(response, who, picked, False, f"{picked.name}."))
        return cached_twiml(("confirm", picked.id, tries, arg("precinct")), lambda: _confirm(response, picked, tries))
    if found and found.kind == "ambiguous" and found.choices:
        return twiml(_choose(response, list(found.choices[:8]), tries, urgent))
    tries += 1
    if tries >= s.ivr_max_tries or (urgent and not entered):
        return twiml(_queue(response, who, None, urgent, TO_THE_VENDOR))
    lead = "Sorry, I did not recognise that language." if entered else "Sorry, I did not get that."
    return cached_twiml(
        ("ask", tries, urgent, lead, arg("precinct")), lambda: _ask_language(response, tries, urgent, lead)
    )


# At the read-back, after 1 (connect) and 2 (choose again): what the officer's report and the
# victim may need (issue 17). 1 stays first, so the default path takes no more keys than before.
READ_BACK_MORE = "Press 3 for a female interpreter, 4 for a male interpreter, or 5 to add an incident number."
PREFERENCE_KEYS = {"3": "female", "4": "male"}


def _confirm(
    response: VoiceResponse, language: Language, tries: int, again: int = 0, incident: str = "", lead: str = ""
) -> VoiceResponse:
    noted = f" Incident number {spell_digits(incident)}." if incident else ""
    return _menu(
        response,
        paths.INCOMING_CONFIRM,
        f"{lead}You selected {language.name}.{noted} Press 1 to confirm, or 2 to choose again. {READ_BACK_MORE}",
        num_digits=1,
        language=language.id,
        tries=str(tries),
        again=str(again),
        precinct=arg("precinct"),
        incident=incident,
    )


def read_back(response: VoiceResponse, language: Language, tries: int, incident: str) -> VoiceResponse:
    """The read-back menu again (after an incident number was keyed): voice_report.py."""
    return _confirm(response, language, tries, 0, incident)


def ask_incident(
    response: VoiceResponse, language: Language, tries: int, attempts: int = 0, lead: str = ""
) -> VoiceResponse:
    """`attempts`: incident numbers keyed so far that were not one (`tries`: the language menu's)."""
    return _menu(
        response,
        paths.INCOMING_INCIDENT,
        (lead + " " if lead else "") + "Key the incident number, then the pound key.",
        language=language.id,
        tries=str(tries),
        attempts=str(attempts),
        precinct=arg("precinct"),
        incident=arg("incident"),
    )


@bp.post(paths.INCOMING_CONFIRM)
@twilio_only
def confirm() -> Response:
    response = VoiceResponse()
    chosen = ctx().catalog.get(arg("language"))
    tries, again = int_arg("tries"), int_arg("again") + 1
    digits = form("Digits")
    who = caller()
    if chosen is None or who is None:
        return twiml(_ask_language(response, tries, False))
    incident = read_token(arg("incident")) or ""
    if digits == "1":
        return twiml(_queue(response, who, chosen, False, "", incident=incident))
    if digits in PREFERENCE_KEYS:
        gender = PREFERENCE_KEYS[digits]
        lead = f"A {gender} interpreter."
        if ctx().roster.vendor.gender_code(gender) is None:
            lead += " If no liaison is free, the interpretation line cannot be asked for one."
        return twiml(_queue(response, who, chosen, False, lead, gender, incident))
    if digits == "5":
        return twiml(ask_incident(response, chosen, tries))
    if digits == "2" or again >= settings().ivr_max_tries:
        return twiml(_ask_language(response, tries, False))
    # Inside the menu's Gather, like every prompt: a key pressed during the apology is taken.
    sorry = "Sorry, please press 1 or 2, or 3, 4 or 5 for the other choices. "
    return twiml(_confirm(response, chosen, tries, again, incident, sorry))


def _choose(
    response: VoiceResponse, choices: list[Language], tries: int, urgent: bool, lead: str = ""
) -> VoiceResponse:
    options = " ".join(f"For {language.name}, press {n}." for n, language in enumerate(choices, 1))
    return _menu(
        response,
        paths.INCOMING_CHOOSE,
        (lead + " " if lead else "") + "Which language? " + options + " Press 0 to choose again.",
        num_digits=1,
        choices=",".join(language.id for language in choices),
        tries=str(tries),
        urgent="1" if urgent else "",
        precinct=arg("precinct"),
    )


@bp.post(paths.INCOMING_CHOOSE)
@twilio_only
def choose() -> Response:
    response = VoiceResponse()
    catalog = ctx().catalog
    choices = [found for found in (catalog.get(i) for i in arg("choices").split(",")) if found][:8]
    tries, urgent = int_arg("tries"), arg("urgent") == "1"
    digits = form("Digits")
    who = caller()
    if who is None:
        return goodbye(HELP)
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= len(choices):  # "²".isdigit() too
        picked = choices[int(digits) - 1]
        if urgent:
            return twiml(_queue(response, who, picked, True, f"Urgent. {picked.name}."))
        return twiml(_confirm(response, picked, tries))
    tries += 1
    if tries >= settings().ivr_max_tries:
        return twiml(_queue(response, who, None, urgent, "Connecting you to the interpretation line."))
    if digits == "0" or not choices:
        return twiml(_ask_language(response, tries, urgent))
    return twiml(_choose(response, choices, tries, urgent, "Sorry, that is not one of the choices."))


class _Flooding(Exception):
    """This phone asked for more interpreters than the caller rate limit allows."""


def _queue(
    response: VoiceResponse,
    who: Caller,
    language: Language | None,
    urgent: bool,
    lead: str,
    gender: str = "",
    incident: str = "",
) -> VoiceResponse:
    """Open the request (once per call) and put the caller in its conference.

    The caller rate limit is counted here, where a call would reach the queue and ring
    liaisons' phones: one phone cannot flood the queue, and the first webhooks of a call
    need no Redis at all (the menu still answers while Redis is down).
    """
    s = settings()
    if not rate_limit.allow(
        ctx().redis, "voice", ctx().pseudonyms.of(who.number), s.caller_rate_limit, s.caller_rate_window
    ):
        log.warning(
            "call %s from %s refused: over %d requests in %ds",
            form("CallSid")[:10],
            mask(who.number),
            s.caller_rate_limit,
            s.caller_rate_window,
        )
        raise _Flooding()
    rec = wiring().intake.open_request(
        who, language, urgent=urgent, officer_call=form("CallSid"), gender=gender, incident=incident
    )
    say(response, (lead + " " if lead else "") + f"Request {spell(rec.id)}. Please hold for an interpreter.")
    return caller_conference(response, rec, ctx().urls)


@bp.errorhandler(_Flooding)
def _flooding(_exc: _Flooding) -> Response:
    return goodbye("Too many calls from this phone in a short time. " + HELP)
