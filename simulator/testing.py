"""Test helpers: a scripted stand-in for the app, and the real SDK pointed at the simulator.

`ScriptedApp` is a tiny Flask app in a thread that checks every request's
X-Twilio-Signature with the SDK's RequestValidator (403 if wrong, like the real app),
records what it received, and answers with scripted TwiML per path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import WSGIRequestHandler, make_server

Reply = str | int | Callable[[dict[str, str], dict[str, str]], Any] | list


class SimulatorHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to the simulator instead of https://api.twilio.com."""

    def __init__(self, base_url: str, timeout: float | None = 5.0):
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        parts = urlsplit(url)
        return super().request(
            method, urlunsplit((self._scheme, self._netloc, parts.path, parts.query, "")), *args, **kwargs
        )


def sdk_client(sim_url: str, account_sid: str, auth_token: str, timeout: float = 5.0) -> Client:
    """The official twilio.rest.Client, talking to the simulator."""
    return Client(account_sid, auth_token, http_client=SimulatorHttpClient(sim_url, timeout))


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


class ScriptedApp:
    """Answers webhooks from a script: `app.on("/voice/incoming", "<Response>…</Response>")`.

    A reply may be TwiML text, an HTTP status code (an empty error answer), a list of
    replies served in turn (the last one repeats), or a callable(form, args) returning
    any of those or a (text, status) pair.
    """

    def __init__(self, auth_token: str):
        self.validator = RequestValidator(auth_token)
        self.replies: dict[str, Reply] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = None
        self.flask = Flask("scripted_app")
        self.flask.add_url_rule("/<path:path>", "any", self._handle, methods=["GET", "POST"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"  # type: ignore[union-attr]

    def start(self) -> ScriptedApp:
        self._server = make_server("127.0.0.1", 0, self.flask, threaded=True, request_handler=_Quiet)
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # type: ignore[union-attr]
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def on(self, path: str, reply: Reply) -> None:
        with self._lock:
            self.replies[path] = list(reply) if isinstance(reply, list) else reply

    def hits(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def wait_hits(
        self, path: str, count: int = 1, timeout: float = 10.0, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.hits(path) if where is None or where(r)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [
                    (r["path"], r["form"].get("CallStatus") or r["form"].get("StatusCallbackEvent"))
                    for r in self.hits()
                ]
                raise AssertionError(f"{count} request(s) to {path} not seen within {timeout}s; saw {seen}")
            time.sleep(0.02)

    def _handle(self, path: str) -> Response:
        full = f"{self.url}{request.full_path}" if request.query_string else f"{self.url}{request.path}"
        form = request.form.to_dict(flat=True) if request.method == "POST" else {}
        valid = self.validator.validate(full, form, request.headers.get("X-Twilio-Signature", ""))
        record = {
            "path": request.path,
            "method": request.method,
            "args": request.args.to_dict(),
            "form": form,
            "valid": bool(valid),
            "t": time.monotonic(),
        }
        with self._lock:
            self.requests.append(record)
            reply = self.replies.get(request.path, "<Response/>")
            if isinstance(reply, list):
                reply = reply.pop(0) if len(reply) > 1 else reply[0]
        if not valid:
            return Response("bad signature", status=403)
        if callable(reply):
            reply = reply(form, request.args.to_dict())
        status = 200
        if isinstance(reply, tuple):
            reply, status = reply
        if isinstance(reply, int):
            return Response("error", status=reply)
        return Response(reply, status=status, mimetype="text/xml")


class Harness:
    """A scripted app and a simulator wired to each other, plus both clients.

    with Harness() as h:
        h.app.on("/voice/incoming", "<Response><Say>Hi</Say></Response>")
        sid = h.sim.place_call("+12125550111")
    """

    ACCOUNT_SID = "AC" + "ab" * 16
    AUTH_TOKEN = "simulator-test-token"
    NUMBER = "+12125550100"

    def __init__(self, time_scale: float = 0.02, default_answer_after: float = 0.05, **config: Any):
        from simulator import Simulator, SimulatorConfig
        from simulator.client import SimulatorClient

        self.app = ScriptedApp(self.AUTH_TOKEN).start()
        self.simulator = Simulator(
            SimulatorConfig(
                app_url=self.app.url,
                account_sid=self.ACCOUNT_SID,
                auth_token=self.AUTH_TOKEN,
                number=self.NUMBER,
                time_scale=time_scale,
                default_answer_after=default_answer_after,
                echo=False,
                **config,
            )
        ).start()
        self.sim = SimulatorClient(self.simulator.url)
        self.twilio = sdk_client(self.simulator.url, self.ACCOUNT_SID, self.AUTH_TOKEN)

    def url(self, path: str) -> str:
        return self.app.url + path

    def texts(self, call_sid: str) -> list[str]:
        """The log lines of one call, in order."""
        return [e["text"] for e in self.sim.log() if e["call"] == call_sid]

    def ended(self, call_sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for a call to reach a final status; return its snapshot."""
        from simulator.calls import TERMINAL

        return self.sim.wait_for(lambda: (c := self.sim.call(call_sid))["status"] in TERMINAL and c, timeout=timeout)

    def stop(self) -> None:
        self.simulator.stop()
        self.app.stop()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
