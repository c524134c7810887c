"""A stranger with a phone, over HTTP: the webhooks Twilio would post for their call or text.

Twilio signs every webhook it sends with the account's auth token, whoever placed the
call, so a request signed here with the SDK's RequestValidator for the server's public
URL is exactly what an attacker dialling the service number produces. Each step posts to
the URL the previous answer's <Gather action> named, as Twilio does.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import requests
from twilio.request_validator import RequestValidator

from tests.support.gunicorn import Gunicorn

_SIDS = itertools.count(1)


@dataclass
class Answer:
    """One TwiML answer: its bytes, what it says, and where a keypress would go next."""

    body: bytes
    root: ET.Element

    @property
    def said(self) -> str:
        return " ".join(el.text or "" for el in self.root.iter("Say"))

    @property
    def action(self) -> str | None:
        gather = self.root.find("Gather")
        return gather.get("action") if gather is not None else None

    @property
    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None


def post(server: Gunicorn, url: str, params: dict[str, str], path: str = "") -> requests.Response:
    """POST `params` to `url` (absolute, or `path` under the server) signed as Twilio signs."""
    url = url or server.url + path
    signature = RequestValidator(server.settings.twilio_auth_token).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15)


@dataclass
class Call:
    """One call from `number` to the service, step by step."""

    server: Gunicorn
    number: str
    sid: str = field(default_factory=lambda: f"CA{next(_SIDS):032x}")
    last: Answer | None = None

    def _post(self, url: str, extra: dict[str, str]) -> Answer:
        params = {
            "CallSid": self.sid,
            "AccountSid": self.server.settings.twilio_account_sid,
            "From": self.number,
            "To": "+12125550100",
            "CallStatus": "in-progress",
            **extra,
        }
        resp = post(self.server, url, params)
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        assert resp.headers["Content-Type"].startswith("text/xml")
        root = ET.fromstring(resp.content)
        assert root.tag == "Response"
        self.last = Answer(resp.content, root)
        return self.last

    def visit(self, url: str) -> Answer:
        """Twilio fetching a URL our TwiML named (a conference's wait URL, a redirect)."""
        return self._post(url, {})

    def dial(self) -> Answer:
        return self._post(self.server.url + "/voice/incoming", {})

    def key(self, digits: str) -> Answer:
        """Key `digits` (the # that ends them is not sent, as Twilio strips it) at the last prompt."""
        assert self.last is not None and self.last.action, "no prompt to answer"
        return self._post(self.last.action, {"Digits": digits})


def text(server: Gunicorn, number: str, body: str, sid: str | None = None) -> requests.Response:
    """An inbound SMS from `number`."""
    params = {
        "MessageSid": sid or f"SM{next(_SIDS):032x}",
        "AccountSid": server.settings.twilio_account_sid,
        "From": number,
        "To": "+12125550100",
        "Body": body,
        "NumMedia": "0",
    }
    return post(server, "", params, path="/sms/incoming")


def signed_in(server: Gunicorn, username: str, password: str) -> requests.Session:
    """A dashboard session through the real sign-in form."""
    import re

    session = requests.Session()
    form = session.get(server.url + "/dashboard/signin", timeout=15)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "the sign-in form carries a CSRF token"
    done = session.post(
        server.url + "/dashboard/signin",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        timeout=30,
    )
    assert done.status_code == 200 and "/dashboard/signin" not in done.url, done.text[:300]
    return session
