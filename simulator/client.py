"""A small client for the simulator's control API, for tests and the local launcher."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from simulator.eventlog import mask


class SimulatorClient:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _req(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError(f"simulator {method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json()

    # ---- setting the scene -------------------------------------------------------------------
    def set_parties(self, parties: dict[str, dict[str, Any]]) -> None:
        """Merge scripts by phone number (see simulator/parties.py for the fields)."""
        self._req("POST", "/sim/parties", json=parties)

    def reset(self) -> None:
        """Forget calls, messages, log, parties and faults; live calls stop silently."""
        self._req("POST", "/sim/reset")

    def faults(
        self, rest: list[dict[str, Any]] | None = None, lose_callbacks: list[dict[str, Any]] | None = None
    ) -> None:
        """Serve `rest` to the next REST requests in order: {"status": 429|500}, {"hang": seconds},
        each optionally only to requests with that "method" and "path" piece (e.g. a call's sid).
        `lose_callbacks`: [{"count": n, "path": "/voice/status"}]: the next n status callbacks
        (call progress and conference events) whose URL holds `path` are never delivered."""
        self._req("POST", "/sim/faults", json={"rest": rest or [], "lose_callbacks": lose_callbacks or []})

    def clear_faults(self) -> None:
        """Drop every REST fault and callback loss still pending."""
        self._req("DELETE", "/sim/faults")

    # ---- acting ------------------------------------------------------------------------------
    def place_call(
        self,
        from_: str,
        to: str = "",
        inputs: list[dict[str, Any]] | None = None,
        hangup_after: float | None = None,
        **extra: Any,
    ) -> str:
        """A simulated person calls the service number; returns the CallSid.

        `hangup_after` (seconds after answer) is sent only when given, so a party's
        scripted value applies otherwise.
        """
        payload: dict[str, Any] = {"from": from_, "to": to, **extra}
        if inputs is not None:
            payload["inputs"] = inputs
        if hangup_after is not None:
            payload["hangup_after"] = hangup_after
        return self._req("POST", "/sim/calls", json=payload)["sid"]

    def hangup(self, sid: str) -> None:
        """The simulated person on this leg hangs up now (a ringing phone declines)."""
        self._req("POST", f"/sim/calls/{sid}/hangup")

    def send_sms(self, from_: str, to: str, body: str, media_urls: list[str] | None = None) -> str:
        return self._req(
            "POST", "/sim/messages", json={"from": from_, "to": to, "body": body, "media_urls": media_urls or []}
        )["sid"]

    # ---- observing ---------------------------------------------------------------------------
    def calls(self) -> list[dict[str, Any]]:
        return self._req("GET", "/sim/calls")

    def call(self, sid: str) -> dict[str, Any]:
        return self._req("GET", f"/sim/calls/{sid}")

    def messages(self) -> list[dict[str, Any]]:
        """Outbound SMS: sent through REST and TwiML replies."""
        return self._req("GET", "/sim/messages")

    def log(self, after: int = 0) -> list[dict[str, Any]]:
        return self._req("GET", "/sim/log", params={"after": after})

    def conferences(self) -> list[dict[str, Any]]:
        return self._req("GET", "/sim/conferences")

    def parties(self) -> dict[str, Any]:
        return self._req("GET", "/sim/parties")

    def wait_for(self, pred: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
        """Poll `pred()` until it returns something truthy, and return that.

        On timeout raise AssertionError with what `pred` last returned (or raised) and
        the network's state: every call's status and the tail of the event log.
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = pred()
                if last:
                    return last
            except Exception as exc:  # e.g. a KeyError before the call exists: keep polling
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}\n" + self.describe())
            time.sleep(interval)

    def describe(self, tail: int = 15) -> str:
        """A short picture of the network for failure messages (numbers masked)."""
        try:
            calls = self.calls()
            log = self.log()[-tail:]
        except Exception as exc:  # the simulator itself may be what failed
            return f"(simulator state unavailable: {exc})"
        lines = ["calls:"] + [
            f"  {c['sid'][:10]} {c['direction']} {mask(c['from'])}→{mask(c['to'])} {c['status']}"
            + (f" conf={c['conference']}" if c.get("conference") else "")
            for c in calls
        ]
        lines += ["log tail:"] + [f"  {e['time']} {(e['call'] or '-')[:10]} {e['text']}" for e in log]
        return "\n".join(lines)
