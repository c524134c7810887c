"""Posting to the voice webhooks as Twilio does (signed), and reading the TwiML that comes back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.signing import signed_post

OFFICER_CALL = "CA" + "f" * 32


def path_of(url: str) -> str:
    """The path and query of a URL the app handed out (what the test client posts to)."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def said(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def signed(client: Any, settings: Any, url_or_path: str, **params: str) -> bytes:
    """Post `params` (with the account's AccountSid) signed for the URL; the answer, which must
    be a 200 with a <Response>."""
    params.setdefault("AccountSid", settings.twilio_account_sid)
    path = path_of(url_or_path) if "://" in url_or_path else url_or_path
    response = signed_post(client, settings, path, params)
    assert response.status_code == 200, (path, response.data[:300])
    assert ET.fromstring(response.data).tag == "Response"
    data: bytes = response.data
    return data


def voice(client: Any, settings: Any, url_or_path: str, **params: str) -> ET.Element:
    """`signed`, parsed."""
    return ET.fromstring(signed(client, settings, url_or_path, **params))


def post(client: Any, settings: Any, url_or_path: str, **params: str) -> ET.Element:
    """`voice` from the officer's call (CallSid OFFICER_CALL unless given)."""
    params.setdefault("CallSid", OFFICER_CALL)
    return voice(client, settings, url_or_path, **params)


def line(ctx: Any) -> str:
    """A precinct's dual-handset line: a known caller."""
    number: str = ctx.roster.precincts[0].lines[0]
    return number


def queue_spanish(client: Any, settings: Any, ctx: Any, call_sid: str = OFFICER_CALL) -> tuple[str, str]:
    """Call in from a precinct line, key Spanish and confirm: the request id, and the confirm URL."""
    spa = ctx.catalog.get("spa")
    root = post(client, settings, "/voice/incoming", From=line(ctx), CallSid=call_sid)
    action = root.find("Gather").get("action")  # type: ignore[union-attr]
    root = post(client, settings, path_of(action), From=line(ctx), CallSid=call_sid, Digits=spa.keypad)
    confirm = root.find("Gather").get("action")  # type: ignore[union-attr]
    assert "Spanish" in said(root)
    root = post(client, settings, path_of(confirm), From=line(ctx), CallSid=call_sid, Digits="1")
    conference = root.find("Dial/Conference")
    assert conference is not None and conference.text is not None and conference.text.startswith("req-R")
    return conference.text.removeprefix("req-"), confirm
