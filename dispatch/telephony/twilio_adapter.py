"""Telephony on the official `twilio` SDK, with retries and a configurable endpoint.

Region and edge are the SDK's own settings. `api_base_url` swaps the whole API
origin so the same code runs against Twilio, the local simulator, or a contract
mock; the SDK still builds every request, so what is tested is what ships.

Retries: 429 and 5xx answers and connection failures are retried with exponential
backoff. A call-create that times out while reading the answer is *not* retried,
because Twilio may already have placed it; the error says so (`maybe_placed`).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from config.phone import mask
from dispatch.telephony.port import CallInfo, CallRequest, TelephonyError

log = logging.getLogger(__name__)
T = TypeVar("T")

_GONE_CODES = {20404, 21220}  # no such call / call not in progress
_NUMBER = re.compile(r"\+?\d{7,15}")


def _masked(message: object) -> str:
    """Twilio's error messages often quote the number ("The 'To' number +1... is not
    valid"); these messages end up in log lines, which must never hold a full number."""
    return _NUMBER.sub(lambda m: mask(m.group(0)), str(message))


class _HttpClient(TwilioHttpClient):
    """The SDK's client, reading the environment's proxy and CA settings once per origin.

    requests looks them up again for every request (all of os.environ, twice), which was
    ~0.5 ms of a routing worker's CPU per call placed. They are read at the first request to
    each origin, so HTTPS_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE still apply (set before start).
    With `base_url`, every SDK request goes there instead of *.twilio.com.
    """

    def __init__(self, timeout: float, base_url: str = ""):
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        self._scheme, self._netloc, self._prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")
        session = self.session
        assert session is not None  # pool_connections (the default) gives one session
        merge = session.merge_environment_settings
        cache: dict[tuple[str, str], dict[str, Any]] = {}

        def merge_once(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
            origin = urlsplit(url)[:2]
            if proxies or stream is not None or verify is not None or cert is not None:
                return merge(url, proxies, stream, verify, cert)  # not the SDK's call: no cache
            if origin not in cache:
                cache[origin] = merge(url, proxies, stream, verify, cert)
            return cache[origin]

        session.merge_environment_settings = merge_once  # type: ignore[method-assign]

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        if self._netloc:
            parts = urlsplit(url)
            url = urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


class TwilioTelephony:
    """The production adapter (and, pointed at the simulator, the local one)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str = "",
        region: str = "",
        edge: str = "",
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ):
        http = _HttpClient(timeout, api_base_url)
        self.client = Client(account_sid, auth_token, region=region or None, edge=edge or None, http_client=http)
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep

    def place_call(self, call: CallRequest) -> str:
        kwargs: dict[str, Any] = dict(
            to=call.to,
            from_=call.from_,
            url=call.url,
            method="POST",
            status_callback=call.status_callback,
            status_callback_method="POST",
            status_callback_event=list(call.status_events),
            timeout=call.timeout,
        )
        if call.send_digits:
            kwargs["send_digits"] = call.send_digits
        created = self._with_retries("create call", lambda: self.client.calls.create(**kwargs), idempotent=False)
        return str(created.sid)

    def hangup(self, call_sid: str) -> bool:
        return self._update(call_sid, status="completed")

    def redirect(self, call_sid: str, url: str) -> bool:
        return self._update(call_sid, url=url, method="POST")

    def send_sms(self, to: str, from_: str, body: str) -> str:
        sent = self._with_retries(
            "send sms", lambda: self.client.messages.create(to=to, from_=from_, body=body), idempotent=False
        )
        return str(sent.sid)

    def fetch_call(self, call_sid: str) -> CallInfo | None:
        try:
            call = self._with_retries("fetch call", lambda: self.client.calls(call_sid).fetch(), idempotent=True)
        except TelephonyError as exc:
            if exc.status == 404:
                return None  # a sid the network does not know has no call behind it
            raise
        return CallInfo(
            sid=str(call.sid), status=str(call.status or ""), from_=str(call._from or ""), to=str(call.to or "")
        )

    def conference_participants(self, friendly_name: str) -> list[str] | None:
        # Status is given, not left to the API's default (which Twilio is changing).
        rooms = self._with_retries(
            "list conferences",
            lambda: self.client.conferences.list(friendly_name=friendly_name, status="in-progress", limit=5),
            idempotent=True,
        )
        if not rooms:
            return None
        sids: list[str] = []
        for room in rooms:  # Twilio keeps one in-progress room per name; a list costs nothing more
            people = self._with_retries(
                "list participants",
                lambda sid=str(room.sid): self.client.conferences(sid).participants.list(limit=50),
                idempotent=True,
            )
            sids.extend(str(p.call_sid) for p in people if p.call_sid)
        return sids

    def _update(self, call_sid: str, **kwargs: Any) -> bool:
        try:
            self._with_retries("update call", lambda: self.client.calls(call_sid).update(**kwargs), idempotent=True)
            return True
        except TelephonyError as exc:
            if exc.status in (400, 404):
                return False  # the call has already ended: nothing to hang up or redirect
            raise

    def _with_retries(self, what: str, action: Callable[[], T], idempotent: bool) -> T:
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            last = attempt == self.retries
            try:
                return action()
            except TwilioRestException as exc:
                if exc.status in (400, 404) and (exc.code in _GONE_CODES or exc.status == 404):
                    raise TelephonyError(f"{what}: {_masked(exc.msg)}", status=exc.status) from None
                if exc.status != 429 and exc.status < 500:
                    raise TelephonyError(f"{what}: {exc.status} {_masked(exc.msg)}", status=exc.status) from None
                if last:
                    raise TelephonyError(f"{what}: {exc.status} after {attempt} tries", status=exc.status) from None
                log.warning("%s: %s, retry %d in %.2fs", what, exc.status, attempt, delay)
            except requests.exceptions.ConnectionError as exc:
                if last:
                    raise TelephonyError(f"{what}: cannot connect after {attempt} tries") from exc
                log.warning("%s: connection failed, retry %d in %.2fs", what, attempt, delay)
            except requests.exceptions.Timeout as exc:
                if not idempotent:
                    raise TelephonyError(f"{what}: timed out; it may have gone through", maybe_placed=True) from exc
                if last:
                    raise TelephonyError(f"{what}: timed out after {attempt} tries") from exc
                log.warning("%s: timed out, retry %d in %.2fs", what, attempt, delay)
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")
