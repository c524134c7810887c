"""A faster IVR: every prompt can be cut by a key, and the read-back of a keyed code can be off."""

from __future__ import annotations

import pytest

from dispatch.states import State
from tests.support.voice import OFFICER_CALL, line, post, said


def test_the_greeting_is_inside_the_language_menu_so_a_code_typed_during_it_is_taken(client, settings, ctx):
    root = post(client, settings, "/voice/incoming", From=line(ctx))
    assert root.find("Say") is None, "nothing is said outside the Gather: keys pressed then would be lost"
    gather = root.find("Gather")
    assert "Interpretation service." in " ".join(gather.find("Say").itertext())


def test_a_keyed_code_is_read_back_by_default(client, settings, ctx):
    spa = ctx.catalog.get("spa")
    root = post(client, settings, "/voice/incoming/language?tries=0", From=line(ctx), Digits=spa.keypad)
    assert "You selected Spanish" in said(root) and root.find("Dial") is None
    assert ctx.requests.open_ids() == []


@pytest.mark.settings(confirm_keypad=False)
def test_without_the_read_back_a_keyed_code_queues_at_once(client, settings, ctx):
    spa = ctx.catalog.get("spa")
    root = post(
        client, settings, "/voice/incoming/language?tries=0", From=line(ctx), Digits=spa.keypad, CallSid=OFFICER_CALL
    )
    assert root.find("Gather") is None and "Spanish." in said(root)
    [request_id] = ctx.requests.open_ids()
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    rec = ctx.requests.get(request_id)
    assert rec.state == State.QUEUED and rec.language == "spa"


@pytest.mark.settings(confirm_keypad=False)
def test_a_spoken_language_is_still_read_back(client, settings, ctx):
    root = post(
        client, settings, "/voice/incoming/language?tries=0", From=line(ctx), SpeechResult="Spanish", Confidence="0.9"
    )
    assert "You selected Spanish" in said(root) and root.find("Gather") is not None
    assert ctx.requests.open_ids() == []


def test_sorry_for_a_wrong_choice_is_inside_the_menu(client, settings, ctx):
    root = post(
        client,
        settings,
        "/voice/incoming/choose?choices=cmn,yue&tries=0",
        From=line(ctx),
        Digits="7",
    )
    assert root.find("Say") is None
    assert "not one of the choices" in " ".join(root.find("Gather/Say").itertext())


def test_sorry_for_a_wrong_key_at_the_read_back_is_inside_the_menu(client, settings, ctx):
    root = post(client, settings, "/voice/incoming/confirm?language=spa&tries=0", From=line(ctx), Digits="7")
    assert root.find("Say") is None, "nothing is said outside the Gather: keys pressed then would be lost"
    prompt = " ".join(root.find("Gather/Say").itertext())
    assert prompt.startswith("Sorry, please press 1 or 2") and "You selected Spanish" in prompt
