"""The officer's keys for the report, at the webhook level (signed like Twilio, real Redis):
3 / 4 at the read-back for a female / male interpreter, 5 for an incident number, and after the
interpreter left, 2 for the interpreter's ID number. Wrong keys are asked again; nothing is
stored from them."""

from __future__ import annotations

from pathlib import Path

from dispatch.states import State
from tests.support.voice import OFFICER_CALL, line, path_of, post, query, said


def read_back(client, settings, ctx):  # type: ignore[no-untyped-def]
    """Spanish keyed: the read-back menu's answer URL."""
    root = post(
        client, settings, "/voice/incoming/language?tries=0", From=line(ctx), Digits=ctx.catalog.get("spa").keypad
    )
    assert "Press 3 for a female interpreter, 4 for a male interpreter" in said(root)
    return path_of(root.find("Gather").get("action"))


def test_3_asks_for_a_female_interpreter_and_connects(client, settings, ctx, jobs):
    root = post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="3")
    assert "A female interpreter." in said(root) and root.find("Dial/Conference") is not None
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert rec.gender == "female" and rec.language == "spa" and rec.incident == ""


def test_4_asks_for_a_male_interpreter(client, settings, ctx):
    post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="4")
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert rec.gender == "male"


def test_1_connects_with_no_preference_and_no_more_keys(client, settings, ctx):
    root = post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="1")
    assert root.find("Dial/Conference") is not None
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert (rec.gender, rec.incident) == ("", "")


def test_5_keys_an_incident_number_read_back_then_the_same_menu(client, settings, ctx):
    root = post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="5")
    assert "Key the incident number" in said(root)
    incident = path_of(root.find("Gather").get("action"))
    root = post(client, settings, incident, From=line(ctx), Digits="2026012345")
    assert "Incident number 2 0 2 6 0 1 2 3 4 5." in said(root) and "Press 1 to confirm" in said(root)
    assert ctx.requests.open_ids() == []
    menu = path_of(root.find("Gather").get("action"))
    root = post(client, settings, menu, From=line(ctx), Digits="3")
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert (rec.incident, rec.gender) == ("2026012345", "female")


def test_a_bad_incident_number_is_asked_again_and_nothing_is_kept(client, settings, ctx):
    root = post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="5")
    incident = path_of(root.find("Gather").get("action"))
    root = post(client, settings, incident, From=line(ctx), Digits="1" * 21)
    assert "up to 20 digits" in said(root) and "Key the incident number" in said(root)
    again = path_of(root.find("Gather").get("action"))
    root = post(client, settings, again, From=line(ctx), Digits="")
    assert "Key the incident number" in said(root)
    root = post(client, settings, path_of(root.find("Gather").get("action")), From=line(ctx), Digits="")
    assert "No incident number was added." in said(root) and "Press 1 to confirm" in said(root)
    post(client, settings, path_of(root.find("Gather").get("action")), From=line(ctx), Digits="1")
    [rec] = ctx.requests.get_many(ctx.requests.open_ids())
    assert rec.incident == ""


def test_a_wrong_key_at_the_read_back_is_asked_again_keeping_the_incident(client, settings, ctx):
    root = post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="5")
    root = post(client, settings, path_of(root.find("Gather").get("action")), From=line(ctx), Digits="4711")
    root = post(client, settings, path_of(root.find("Gather").get("action")), From=line(ctx), Digits="8")
    assert "please press 1 or 2" in said(root).lower()
    assert query(root.find("Gather").get("action"))["incident"] == "4711"


def _completed_request(client, settings, ctx, jobs):  # type: ignore[no-untyped-def]
    post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="1")
    [request_id] = ctx.requests.open_ids()
    rec = ctx.requests.get(request_id)
    ctx.requests.apply(request_id, "vendor_dial", fields={"vendor_token": "t"})
    ctx.requests.apply(
        request_id, "vendor_connected", fields={"handler_kind": "vendor", "handler_call": "CA" + "2" * 32}
    )
    ctx.requests.apply(request_id, "complete")
    assert ctx.requests.get(request_id).state == State.COMPLETED
    return rec


def test_after_the_interpreter_left_2_records_their_id(client, settings, ctx, jobs):
    rec = _completed_request(client, settings, ctx, jobs)
    root = post(client, settings, f"/voice/dropped?request={rec.id}")
    assert "2 to record the interpreter's ID number" in said(root)
    menu = path_of(root.find("Gather").get("action"))
    root = post(client, settings, menu, Digits="2")
    assert "Key the interpreter's ID number" in said(root)
    root = post(client, settings, path_of(root.find("Gather").get("action")), Digits="4711")
    assert "Interpreter ID 4 7 1 1 recorded." in said(root) and "Press 1 to request an interpreter again" in said(root)
    assert ctx.requests.get(rec.id).interpreter_ref == "4711"
    [entry] = [h for h in ctx.requests.history(rec.id) if h["event"] == "interpreter_id_set"]
    assert entry["data"] == {"by": "officer", "old": "", "new": "4711"}


def test_a_bad_id_is_asked_again_and_a_wrong_key_too(client, settings, ctx, jobs):
    rec = _completed_request(client, settings, ctx, jobs)
    root = post(client, settings, f"/voice/dropped?request={rec.id}")
    root = post(client, settings, path_of(root.find("Gather").get("action")), Digits="7")
    assert "Sorry, please press 1 or 2." in said(root)
    root = post(client, settings, path_of(root.find("Gather").get("action")), Digits="2")
    root = post(client, settings, path_of(root.find("Gather").get("action")), Digits="")
    assert "Sorry, an ID number is up to 20 digits." in said(root)
    assert ctx.requests.get(rec.id).interpreter_ref == ""


def test_another_call_cannot_key_an_id_for_the_request(client, settings, ctx, jobs):
    rec = _completed_request(client, settings, ctx, jobs)
    root = post(client, settings, f"/voice/interpreter-id?request={rec.id}", CallSid="CA" + "9" * 32, Digits="4711")
    assert root.find("Hangup") is not None
    assert ctx.requests.get(rec.id).interpreter_ref == ""
    assert rec.officer_call == OFFICER_CALL


def test_the_code_card_describes_the_keys_and_words(client):
    from dispatch.languages.card import REPORT_KEYS, REPORT_WORDS

    page = client.get("/codes").get_data(as_text=True)
    assert "3 a female interpreter, 4 a male interpreter, 5 key the incident number" in REPORT_KEYS
    assert "2 key the interpreter&#x27;s ID number" in page and "SPA FEMALE INC 2026-012345" in page
    card = Path("docs/language-codes.md").read_text(encoding="utf-8")
    assert REPORT_KEYS in card and REPORT_WORDS in card


def test_the_hold_loop_says_when_the_vendor_could_not_be_asked(client, settings, ctx):
    post(client, settings, read_back(client, settings, ctx), From=line(ctx), Digits="3")
    [request_id] = ctx.requests.open_ids()
    root = post(client, settings, f"/voice/hold?request={request_id}&prompts=1")
    assert "could not be asked" not in said(root)
    ctx.requests.apply(request_id, "vendor_dial", fields={"vendor_token": "t", "gender_unsent": True})
    root = post(client, settings, f"/voice/hold?request={request_id}&prompts=1")
    assert "The interpretation line could not be asked for a female interpreter." in said(root)


def test_with_a_vendor_without_the_option_the_officer_is_told_at_once(settings, r, telephony, jobs, wiring):
    import dataclasses

    from bootstrap import bootstrap
    from webhooks import create_app

    roster = wiring.ctx.roster
    plain = dataclasses.replace(roster.vendor, dtmf="ww{account}#ww{pin}#ww{language}#", gender_codes={})
    built = bootstrap(
        settings, redis=r, telephony=telephony, jobs=jobs, roster=dataclasses.replace(roster, vendor=plain)
    )
    client = create_app(built).test_client()
    root = post(client, settings, read_back(client, settings, built.ctx), From=line(built.ctx), Digits="4")
    assert "A male interpreter. If no liaison is free, the interpretation line cannot be asked for one." in said(root)
    [rec] = built.ctx.requests.get_many(built.ctx.requests.open_ids())
    assert rec.gender == "male"


def test_the_language_menus_tries_do_not_use_up_the_incident_attempts(client, settings, ctx):
    spa = ctx.catalog.get("spa")
    root = post(client, settings, "/voice/incoming/language?tries=2", From=line(ctx), Digits=spa.keypad)
    root = post(client, settings, path_of(root.find("Gather").get("action")), From=line(ctx), Digits="5")
    root = post(client, settings, path_of(root.find("Gather").get("action")), From=line(ctx), Digits="")
    assert "Sorry, an incident number" in said(root) and "Key the incident number" in said(root)
    assert query(root.find("Gather").get("action"))["tries"] == "2"
