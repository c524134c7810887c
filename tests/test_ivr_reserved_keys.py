"""0 and 9 on the language menu: what the code card says, the prompts say and the IVR does agree.

Signed like Twilio's requests, against the Flask app with a fake phone network. With
finishOnKey "#" Twilio never puts the # in Digits: a key followed by # and a key alone
(submitted when the gather times out) differ only in FinishedOnKey, and must act alike.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from dispatch.languages.card import RESERVED_NOTE, render_html, render_markdown
from tests.support.signing import signed_post

OFFICER_CALL = "CA" + "e" * 32


def _post(client, settings, path: str, **params: str) -> ET.Element:  # type: ignore[no-untyped-def]
    params.setdefault("CallSid", OFFICER_CALL)
    params.setdefault("AccountSid", settings.twilio_account_sid)
    response = signed_post(client, settings, path, params)
    assert response.status_code == 200, response.data
    return ET.fromstring(response.data)


def _said(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def _action(root: ET.Element) -> str:
    gather = root.find("Gather")
    assert gather is not None, ET.tostring(root)
    url = urlsplit(gather.get("action", ""))
    return url.path + ("?" + url.query if url.query else "")


def _menu(client, settings, ctx) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The first language menu of a precinct line's call: (what it says, where the keys go)."""
    root = _post(client, settings, "/voice/incoming", From=ctx.roster.precincts[0].lines[0])
    return _said(root), _action(root)


def test_the_first_menu_offers_9_for_an_urgent_request(client, settings, ctx):
    said, _ = _menu(client, settings, ctx)
    assert "Press 9 for an urgent request." in said and "Press 0 if you do not know the language." in said


@pytest.mark.parametrize("finished_on_key", ["#", ""], ids=["9 then #", "9 alone"])
def test_after_9_the_menu_says_urgent_and_no_longer_offers_9(client, settings, ctx, finished_on_key):
    line = ctx.roster.precincts[0].lines[0]
    _, action = _menu(client, settings, ctx)
    root = _post(client, settings, action, From=line, Digits="9", FinishedOnKey=finished_on_key)
    said = _said(root)
    assert said.startswith("Urgent request.") and "language code" in said
    assert "Press 9" not in said and "Press 0 if you do not know the language." in said
    assert ctx.requests.open_ids() == [], "nothing is queued before the language is known"

    # The code that follows is taken as an urgent request, whichever way it was finished.
    spanish = ctx.catalog.get("spa")
    root = _post(client, settings, _action(root), From=line, Digits=spanish.keypad, FinishedOnKey=finished_on_key)
    assert "Urgent. Spanish." in _said(root)
    [request_id] = ctx.requests.open_ids()
    rec = ctx.requests.get(request_id)
    assert rec.urgent and rec.language == "spa"


def test_a_wrong_key_after_9_is_asked_again_still_urgent_without_offering_9(client, settings, ctx):
    line = ctx.roster.precincts[0].lines[0]
    _, action = _menu(client, settings, ctx)
    root = _post(client, settings, action, From=line, Digits="9", FinishedOnKey="#")
    root = _post(client, settings, _action(root), From=line, Digits="9", FinishedOnKey="#")
    said = _said(root)
    assert "did not recognise" in said and "Urgent request." in said and "Press 9" not in said
    root = _post(client, settings, _action(root), From=line, Digits=ctx.catalog.get("rus").keypad)
    assert ctx.requests.get(ctx.requests.open_ids()[0]).urgent


@pytest.mark.parametrize("finished_on_key", ["#", ""], ids=["0 then #", "0 alone"])
def test_0_queues_a_request_of_unknown_language_for_the_vendor(client, settings, ctx, finished_on_key):
    _, action = _menu(client, settings, ctx)
    root = _post(
        client, settings, action, From=ctx.roster.precincts[0].lines[0], Digits="0", FinishedOnKey=finished_on_key
    )
    assert "operator will identify the language" in _said(root)
    [request_id] = ctx.requests.open_ids()
    assert not ctx.requests.get(request_id).language


def test_the_card_names_the_keys_the_menu_offers():
    """The card's reserved keys are the menu's words: "0" and "9", no "#" required."""
    from dispatch.languages import default_catalog

    assert dict(re.findall(r"\*\*(\d)\*\* = (\w+)", RESERVED_NOTE)) == {"0": "language", "9": "urgent"}
    card, page = render_markdown(default_catalog()), render_html(default_catalog())
    assert "**9** = urgent" in card and "9#" not in card and "0#" not in card
    assert "<span>9 = urgent" in page and "<span>0 = language unknown" in page
