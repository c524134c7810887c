"""Texts for the officer's report and the victim (issue 17): `female` / `woman` / `F`,
`male` / `man` / `M` and `inc <number>` in any order with the language, callback number and
URGENT; `ID R00012 4711` on the sender's own request; bad ones answered with what is expected
and nothing stored; the receipt as one text when the call ends. Pure parsing first, then the
webhook signed like Twilio on a real Redis."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from dispatch.receipt import receipt_of
from dispatch.report_facts import Fact
from dispatch.sms import replies
from dispatch.sms.notices import send_notice
from dispatch.sms.parse import parse
from dispatch.sms.report_replies import BAD_ID, BAD_INCIDENT, receipt_text
from dispatch.states import State
from tests.support.signing import signed_post

_sids = itertools.count(1)


@pytest.mark.parametrize(
    ("body", "language", "gender", "incident", "callback", "urgent"),
    [
        ("spa female inc 2026-012345", "spa", "female", "2026-012345", None, False),
        ("inc 2026-012345 spa female", "spa", "female", "2026-012345", None, False),
        ("female URGENT Spanish", "Spanish", "female", "", None, True),
        ("Spanish woman call back 718 555 0175", "Spanish", "female", "", "+17185550175", False),
        ("F 1", "1", "female", "", None, False),
        ("spa M inc a-7", "spa", "male", "A-7", None, False),
        ("man Russian urgent inc 2026-9 718-555-0175", "Russian", "male", "2026-9", "+17185550175", True),
        ("spa", "spa", "", "", None, False),
        # A sentence's "woman" is what it says, not a preference: it is read as a language sentence.
        ("I need a Spanish interpreter for a woman", "I need a Spanish interpreter for a woman", "", "", None, False),
    ],
)
def test_the_words_in_any_order(body, language, gender, incident, callback, urgent):  # type: ignore[no-untyped-def]
    p = parse(body)
    assert (p.language_text, p.gender, p.incident, p.callback, p.urgent) == (
        language,
        gender,
        incident,
        callback,
        urgent,
    )
    assert not p.incident_invalid and p.command is None


@pytest.mark.parametrize("body", ["spa inc", "spa inc 2026/0123", "inc " + "1" * 21 + " spa", "spa inc --"])
def test_a_bad_incident_number_is_flagged(body):  # type: ignore[no-untyped-def]
    p = parse(body)
    assert p.incident_invalid and p.incident == ""


@pytest.mark.parametrize(
    ("body", "args"),
    [
        ("ID R00012 4711", ("R00012", "4711")),
        ("id r12 ab-12", ("R12", "AB-12")),
        ("ID R00012", ("R00012", "")),
        ("ID R00012 47/11", ("R00012", "")),
        ("ID R00012 4711 extra", ("R00012", "")),
    ],
)
def test_the_id_command(body, args):  # type: ignore[no-untyped-def]
    p = parse(body)
    assert (p.command, p.args) == ("ID", args)


def test_id_alone_is_still_a_language_word():
    assert parse("ID").command is None and parse("ID").language_text == "ID"


def test_the_new_replies_fit_one_segment():
    assert replies.fits(BAD_INCIDENT) and replies.fits(BAD_ID)
    assert "2026-012345" in BAD_INCIDENT and "ID R00012 4711" in BAD_ID


# ---------------------------------------------------------------- the webhook


def send(client, settings, ctx, body, sender=None):  # type: ignore[no-untyped-def]
    params = {
        "From": sender or ctx.roster.supervisors[0].cell,
        "To": ctx.roster.service_number,
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
        "NumMedia": "0",
        "AccountSid": settings.twilio_account_sid,
    }
    response = signed_post(client, settings, "/sms/incoming", params)
    assert response.status_code == 200
    [message] = list(ET.fromstring(response.data))
    assert replies.fits(message.text or "")
    return message.text or ""


def test_a_text_with_preference_and_incident_opens_a_request_with_both(client, settings, ctx, jobs):
    reply = send(client, settings, ctx, "spa female inc 2026-012345")
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert (rec.language, rec.gender, rec.incident, rec.channel) == ("spa", "female", "2026-012345", "sms")
    assert reply.startswith(f"Request {rec.id}: Spanish, female interpreter, inc 2026-012345.")


def test_a_confirmation_keeps_the_preference_and_incident(client, settings, ctx, jobs):
    reply = send(client, settings, ctx, "spansh woman inc 77")
    assert "Did you mean Spanish?" in reply and ctx.requests.open_ids() == []
    send(client, settings, ctx, "YES")
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert (rec.language, rec.gender, rec.incident) == ("spa", "female", "77")


def test_a_bad_incident_is_answered_with_what_is_expected_and_nothing_is_requested(client, settings, ctx, jobs):
    assert send(client, settings, ctx, "spa inc 2026/0123") == BAD_INCIDENT
    assert ctx.requests.open_ids() == []


def test_id_records_the_interpreter_id_on_the_senders_own_request(client, settings, ctx, jobs):
    send(client, settings, ctx, "spa")
    [request_id] = ctx.requests.open_ids()
    reply = send(client, settings, ctx, f"ID {request_id} 4711")
    assert reply == f"Request {request_id}: interpreter ID recorded: 4711. It is on the receipt."
    assert ctx.requests.get(request_id).interpreter_ref == "4711"
    reply = send(client, settings, ctx, f"id {request_id} 4712")
    assert "corrected to 4712" in reply
    [first, second] = [h["data"] for h in ctx.requests.history(request_id) if h["event"] == "interpreter_id_set"]
    assert second == {"by": ctx.roster.supervisors[0].id, "old": "4711", "new": "4712"}


def test_id_on_someone_elses_request_or_a_bad_id_stores_nothing(client, settings, ctx, jobs):
    send(client, settings, ctx, "spa")
    [request_id] = ctx.requests.open_ids()
    other = ctx.roster.supervisors[1].cell
    assert "is not one of your requests" in send(client, settings, ctx, f"ID {request_id} 4711", sender=other)
    assert send(client, settings, ctx, f"ID {request_id} 47/11") == BAD_ID
    assert send(client, settings, ctx, f"ID {request_id}") == BAD_ID
    assert ctx.requests.get(request_id).interpreter_ref == ""


def test_the_receipt_is_texted_when_a_texted_call_ends(client, settings, ctx, jobs, telephony, wiring):
    send(client, settings, ctx, "spa female inc 2026-012345")
    [request_id] = ctx.requests.open_ids()
    store = ctx.requests
    store.apply(request_id, "queue", fields={"officer_call": "CA" + "3" * 32})
    store.apply(request_id, "vendor_dial", fields={"vendor_token": "t"})
    store.apply(
        request_id,
        "vendor_connected",
        fields={"handler_kind": "vendor", "handler_name": "LanguageLine", "handler_call": "CA" + "4" * 32},
    )
    wiring.report.record(request_id, Fact.INTERPRETER_ID, "4711", "sgt-ortiz")
    rec = store.get(request_id)
    wiring.call_ends.interpreter_left(rec, rec.handler_call)
    assert ("notify", (request_id, "receipt")) in jobs.submitted
    send_notice(ctx, request_id, "receipt")  # the notify job's body
    [(to, _, text)] = [m for m in telephony.sms if "Receipt" in m[2]]
    assert to == ctx.roster.supervisors[0].cell
    done = store.get(request_id)
    assert done.state == State.COMPLETED
    assert text == receipt_text(receipt_of(done, ctx.roster)) and replies.fits(text)
    assert text.startswith(f"Receipt {request_id}: Spanish, LanguageLine ID 4711, inc 2026-012345, ")
    assert " UTC, wait 0:" in text and text.endswith(" long, female asked.")


def test_a_long_name_leaves_out_the_roster_id_before_the_times():
    from dispatch.receipt import Receipt

    long = Receipt(
        *("R00012", "completed", "sms", "75th Precinct", "Sgt. M. Ortiz", "Haitian Creole", False, "female", True),
        *("2026-012345", "liaison", "Marie-Claire Josephine-Baptiste", "l-joseph", "AB-1234567"),
        *("2026-12-03T00:01:02Z", "2026-12-03T00:01:14Z", "2026-12-03T00:19:40Z", 12.0, 1106.0, ""),
    )
    text = receipt_text(long)
    assert replies.fits(text) and "l-joseph" not in text
    assert "2026-12-03 00:01-00:19 UTC, wait 0:12, 18:26 long" in text
