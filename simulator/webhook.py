"""Signed HTTP requests to the app, exactly as Twilio makes them.

Every request carries `X-Twilio-Signature` computed with the SDK's own
RequestValidator over the full URL and the form parameters (for GET, the
parameters go into the query string and the signature covers that URL alone).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import requests
from twilio.request_validator import RequestValidator

USER_AGENT = "TwilioProxy/1.1"


@dataclass
class WebhookResult:
    """What the app answered; `error` is set (and `status` may be 0) on failure to get an answer."""

    url: str
    status: int
    text: str
    content_type: str
    elapsed: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and 200 <= self.status < 300


class TwimlError(Exception):
    """A TwiML fetch that Twilio would report: `code` is Twilio's error code."""

    def __init__(self, code: int, url: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code, self.url, self.detail = code, url, detail


class Webhooks:
    """Thread-safe sender with one keep-alive session per thread."""

    def __init__(self, auth_token: str, timeout: float = 15.0):
        self.validator = RequestValidator(auth_token)
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def sign(self, url: str, params: dict[str, str]) -> str:
        return self.validator.compute_signature(url, params)

    def send(self, url: str, params: dict[str, str], method: str = "POST") -> WebhookResult:
        method = (method or "POST").upper()
        params = {k: "" if v is None else str(v) for k, v in params.items()}
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        started = time.monotonic()
        try:
            if method == "GET":
                full = url + (("&" if "?" in url else "?") + urlencode(params) if params else "")
                headers["X-Twilio-Signature"] = self.sign(full, {})
                resp = self._session().get(full, headers=headers, timeout=self.timeout)
            else:
                headers["X-Twilio-Signature"] = self.sign(url, params)
                resp = self._session().post(url, data=params, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            return WebhookResult(url, 0, "", "", time.monotonic() - started, "timed out")
        except requests.RequestException as exc:
            return WebhookResult(url, 0, "", "", time.monotonic() - started, f"connection failed: {type(exc).__name__}")
        return WebhookResult(
            url, resp.status_code, resp.text, resp.headers.get("Content-Type", ""), time.monotonic() - started
        )

    def fetch_twiml(self, url: str, params: dict[str, str], method: str = "POST") -> ET.Element:
        """GET/POST a TwiML document; raise TwimlError(11200 / 12100) as Twilio would."""
        result = self.send(url, params, method)
        if result.error:
            raise TwimlError(11200 if "timed out" not in result.error else 11205, url, result.error)
        if not result.ok:
            raise TwimlError(11200, url, f"HTTP {result.status}")
        return parse_twiml(result.text, url)


def parse_twiml(text: str, url: str = "") -> ET.Element:
    """The <Response> root of a TwiML document, or TwimlError 12100."""
    try:
        root = ET.fromstring(text.strip().encode("utf-8"))
    except ET.ParseError as exc:
        raise TwimlError(12100, url, f"document parse failure: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(12100, url, f"root element is <{root.tag}>, not <Response>")
    return root
