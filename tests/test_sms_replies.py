"""Every text the service sends fits one GSM-7 segment (160 characters), for every language."""

from __future__ import annotations

import pytest

from dispatch.languages import default_catalog
from dispatch.records import RequestRecord
from dispatch.sms import replies
from dispatch.states import State

FIXED = [
    name
    for name in dir(replies)
    if name.isupper() and isinstance(getattr(replies, name), str) and name not in ("SEGMENT",)
]


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def record(language=None, state=State.NEW, urgent=True, outcome="", request_id="R99999") -> RequestRecord:
    return RequestRecord.from_hash(
        {
            "id": request_id,
            "state": state.value,
            "channel": "sms",
            "language": language.id if language else "",
            "language_name": language.name if language else "Unknown language",
            "urgent": "1" if urgent else "0",
            "caller": "+19175550110",
            "outcome": outcome,
        }
    )


@pytest.mark.parametrize("name", FIXED)
def test_fixed_replies_fit_one_segment(name):
    text = getattr(replies, name)
    assert replies.fits(text), f"{name}: {replies.gsm7_units(text)} units: {text}"
    assert not text.endswith("..."), f"{name} was cut: {text}"


def test_every_reply_that_names_a_language_fits_for_every_catalog_language(catalog):
    longest = sorted(catalog.all(), key=lambda l: len(l.name), reverse=True)
    for language in list(catalog.all()):
        rec = record(language)
        texts = [
            replies.requested(rec, "+17185550175"),
            replies.requested(rec, None),
            replies.already(rec),
            replies.confirm_detected(language),
            replies.confirm_near_miss(language),
            replies.cancelled(rec),
            replies.notice_connecting(rec),
            replies.notice_failed(rec),
            replies.notice_failed(record(language, outcome="call-back no-answer")),
            *(
                replies.status(record(language, state=s), 3)
                for s in (State.NEW, State.QUEUED, State.OFFERING, State.VENDOR_DIALING, State.CONNECTED)
            ),
        ]
        for text in texts:
            assert replies.fits(text) and not text.endswith("..."), f"{language.id}: {text}"
            assert replies.to_gsm7(language.name) in text, text
    for text in (
        replies.choose(longest[:8]),
        replies.not_recognised(longest[:5]),
        replies.codes(catalog.top(40)),
        replies.liaison_on(longest[:10], usual=False, unrecognised=2),
        replies.liaison_status(True, longest[:10], "schedule"),
    ):
        assert replies.fits(text) and not text.endswith("..."), text


def test_unknown_language_request_and_notices_fit():
    rec = record(None)
    for text in (replies.requested(rec, "+17185550175"), replies.notice_connecting(rec), replies.notice_failed(rec)):
        assert replies.fits(text) and not text.endswith("..."), text


def test_the_confirm_wording_is_the_issues():
    polish = default_catalog().get("pol")
    assert (
        replies.confirm_detected(polish) == "Looks like Polish. Reply YES to request Polish, or send a language code."
    )


def test_codes_lists_the_most_requested_first_with_their_keypad_codes(catalog):
    text = replies.codes(catalog.top(20))
    spanish, mandarin = catalog.get("spa"), catalog.get("cmn")
    assert text.startswith(f"Codes: {spanish.keypad} Spanish, {mandarin.keypad} Mandarin")
    assert text.count(",") >= 8


def test_gsm7_folding():
    assert replies.gsm7_units("abc") == 3 and replies.gsm7_units("[") == 2 and replies.gsm7_units("ą") is None
    assert replies.to_gsm7("K’iche’ – Gagauzça, Kreyòl") == "K'iche' - Gagauzca, Kreyòl"
    assert replies.fits(replies.finish("x" * 400)) and replies.finish("x" * 400).endswith("...")
