"""TwiML shapes shared by several webhooks: the conference room and the direct vendor dial."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from xml.etree import ElementTree

from flask import Response, current_app
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from dispatch import urls as paths
from dispatch.records import RequestRecord
from dispatch.roster import Vendor
from dispatch.urls import Urls

VOICE = "Polly.Joanna"  # one clear English voice for every prompt
HELP = "Please call the desk sergeant for an interpreter. Goodbye."  # the end of every dead end


def twiml(response: VoiceResponse) -> Response:
    """The document as text/xml. Same bytes as `str(response)` (the SDK's ElementTree
    elements, ElementTree's escaping), serialised straight to text: the SDK serialises to
    UTF-8 through io wrappers and decodes back, which is slower (docs/performance.md)."""
    return Response(_DECLARATION + ElementTree.tostring(response.xml(), encoding="unicode"), mimetype="text/xml")


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
CACHE_ENTRIES = 4096


def cached_twiml(key: Hashable, build: Callable[[], VoiceResponse]) -> Response:
    """A document that depends only on `key` (and this app's settings), rendered once.

    The officer's first prompts are the same for every call from a known phone (the
    greeting, the read-back of a language), and building and rendering them cost more than
    the rest of those webhooks (docs/performance.md). `key` must name everything `build`
    reads from the request.
    """
    cache: dict[Hashable, str] = current_app.extensions.setdefault("twiml_cache", {})
    body = cache.get(key)
    if body is None:
        body = _DECLARATION + ElementTree.tostring(build().xml(), encoding="unicode")
        if len(cache) >= CACHE_ENTRIES:
            cache.clear()
        cache[key] = body
    return Response(body, mimetype="text/xml")


def say(response: VoiceResponse | Gather, text: str) -> None:
    response.say(text, voice=VOICE, language="en-US")


def goodbye(text: str) -> Response:
    """Say `text` and hang up: the end of every refusal or dead end."""
    return twiml(hang_up(VoiceResponse(), text))


def hang_up(response: VoiceResponse, text: str) -> VoiceResponse:
    """Say `text`, then end the call."""
    say(response, text)
    response.hangup()
    return response


def ask(response: VoiceResponse, action: str, prompt: str, timeout: int, **options: Any) -> VoiceResponse:
    """`prompt`, said inside a <Gather> that posts the keys pressed (or the words said) to
    `action`; what the caller hears when nothing is pressed is up to the caller of this."""
    gather = Gather(action=action, method="POST", timeout=timeout, **options)
    say(gather, prompt)
    response.append(gather)
    return response


def spell(request_id: str) -> str:
    """R00042 → "R 4 2": short and clear over a phone line."""
    return request_id[:1] + " " + " ".join(request_id[1:].lstrip("0") or "0")


def spell_digits(value: str) -> str:
    """2026-0123 → "2 0 2 6 dash 0 1 2 3": a number read back one key at a time."""
    return " ".join("dash" if ch == "-" else ch for ch in value)


def caller_conference(response: VoiceResponse, rec: RequestRecord, urls: Urls) -> VoiceResponse:
    """The officer waits in the request's room hearing hold prompts. Leaving does not end the
    room: an interpreter in it stays for the officer to rejoin (dispatch/rejoin.py)."""
    dial = Dial(action=urls(paths.AFTER_CONFERENCE, request=rec.id), method="POST")
    dial.conference(
        rec.conference,
        start_conference_on_enter=False,
        end_conference_on_exit=False,
        beep=False,
        wait_url=urls(paths.HOLD, request=rec.id, prompts="0", language=rec.language or ""),
        wait_method="POST",
        status_callback=urls(paths.CONFERENCE_STATUS, request=rec.id),
        status_callback_method="POST",
        status_callback_event="start end join leave",
    )
    response.append(dial)
    return response


def interpreter_conference(response: VoiceResponse, rec: RequestRecord, urls: Urls) -> VoiceResponse:
    """The interpreter's leg starts the room; it may leave without ending it."""
    dial = Dial(action=urls(paths.AFTER_CONFERENCE, request=rec.id, who="interpreter"), method="POST")
    dial.conference(rec.conference, start_conference_on_enter=True, end_conference_on_exit=False, beep=False)
    response.append(dial)
    return response


def direct_vendor(vendor: Vendor, dtmf: str, message: str, next_url: str | None) -> VoiceResponse:
    """Reach an interpreter with nothing but TwiML: used when Redis or the app is failing.

    The main number is dialled with `next_url` as the Dial action, which tries the
    alternate only when the main number did not answer (no Redis needed for that).
    """
    response = VoiceResponse()
    if message:
        say(response, message)
    dial = Dial(timeout=30, action=next_url, method="POST") if next_url else Dial(timeout=30)
    dial.number(vendor.number if next_url else (vendor.alternate or vendor.number), send_digits=dtmf)
    response.append(dial)
    if not next_url:
        say(response, "We could not reach the interpretation line. Please call the desk sergeant.")
        response.hangup()
    return response
