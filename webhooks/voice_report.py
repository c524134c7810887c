"""What the officer keys for the report (issue 17): the incident number at the read-back (5),
and the interpreter's ID number after the interpreter has left (2, for vendor interpreters,
who state it when they join).

Both are keyed and ended with #, read back, and stored only when they are what is expected
(dispatch/report_facts.py); anything else is asked again, and after `ivr_max_tries` the officer
is back at the menu they came from, having lost nothing but the number.
"""

from __future__ import annotations

from flask import Blueprint, Response
from twilio.twiml.voice_response import VoiceResponse

from dispatch import urls as paths
from dispatch.report_facts import MAX_LENGTH, Fact, Saved, read_token
from webhooks.deps import arg, ctx, form, int_arg, settings, wiring
from webhooks.twilio_auth import twilio_only
from webhooks.twiml import HELP, ask, goodbye, hang_up, say, spell_digits, twiml
from webhooks.voice_ivr import ask_incident, read_back

bp = Blueprint("voice_report", __name__)

AFTER_INTERPRETER = "Press 1 to request an interpreter again, or 2 to record the interpreter's ID number. Or hang up."


def _keyed() -> str | None:
    """The keys pressed before #, if they are a number the report can take."""
    digits = form("Digits")[: MAX_LENGTH + 1]
    return read_token(digits) if digits.isascii() and digits.isdigit() else None


@bp.post(paths.INCOMING_INCIDENT)
@twilio_only
def incident() -> Response:
    """The incident number keyed at the read-back: read back, then the same menu again."""
    response = VoiceResponse()
    chosen = ctx().catalog.get(arg("language"))
    if chosen is None:
        return goodbye(HELP)
    tries, attempts = int_arg("tries"), int_arg("attempts") + 1
    number = _keyed()
    if number is not None:
        return twiml(read_back(response, chosen, tries, number))
    if attempts >= settings().ivr_max_tries:
        say(response, "No incident number was added.")
        return twiml(read_back(response, chosen, tries, read_token(arg("incident")) or ""))
    lead = f"Sorry, an incident number is up to {MAX_LENGTH} digits."
    return twiml(ask_incident(response, chosen, tries, attempts, lead))


def after_interpreter_menu(message: str, request_id: str, tries: int = 0) -> Response:
    """After the interpreter left: 1 another interpreter, 2 their ID number (RETRY answers)."""
    response = ask(
        VoiceResponse(),
        ctx().urls(paths.RETRY, request=request_id, ids="1", tries=str(tries)),
        (message + " " if message else "") + AFTER_INTERPRETER,
        settings().ivr_gather_timeout,
        num_digits=1,
        finish_on_key="#",
        action_on_empty_result=True,
    )
    return twiml(hang_up(response, "Goodbye."))


def ask_interpreter_id(request_id: str, tries: int = 0, lead: str = "") -> Response:
    response = ask(
        VoiceResponse(),
        ctx().urls(paths.INTERPRETER_ID, request=request_id, tries=str(tries)),
        (lead + " " if lead else "") + "Key the interpreter's ID number, then the pound key.",
        settings().ivr_gather_timeout,
        finish_on_key="#",
        action_on_empty_result=True,
    )
    return twiml(hang_up(response, "Goodbye."))


def officers_request(request_id: str) -> bool:
    """Whether this call is the officer's call of `request_id` (only they key its report facts)."""
    rec = ctx().requests.get(request_id)
    return rec is not None and bool(rec.officer_call) and rec.officer_call == form("CallSid")


@bp.post(paths.INTERPRETER_ID)
@twilio_only
def interpreter_id() -> Response:
    request_id = arg("request")
    if not officers_request(request_id):
        return goodbye("Goodbye.")
    tries = int_arg("tries") + 1
    number = _keyed()
    if number is not None:
        saved = wiring().report.record(request_id, Fact.INTERPRETER_ID, number, "officer")
        if saved.saved in (Saved.SAVED, Saved.UNCHANGED):
            return after_interpreter_menu(f"Interpreter ID {spell_digits(number)} recorded.", request_id)
        return goodbye("Sorry, the request has expired. Goodbye.")
    if tries >= settings().ivr_max_tries:
        return after_interpreter_menu("No ID number was recorded.", request_id)
    return ask_interpreter_id(request_id, tries, f"Sorry, an ID number is up to {MAX_LENGTH} digits.")
