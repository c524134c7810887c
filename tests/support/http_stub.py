"""A local HTTP server that records what the Twilio SDK sends and answers as scripted."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Scripted:
    status: int = 201
    body: dict = field(default_factory=dict)
    delay: float = 0.0


class HttpStub:
    """`stub.script(...)` queues answers; anything unscripted gets a plausible 201 (200 to a GET)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._answers: list[Scripted] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._answer("POST", self.path, parse_qs(self.rfile.read(length).decode()))

            def do_GET(self) -> None:  # noqa: N802 - the query's parameters are recorded as its form
                path, _, query = self.path.partition("?")
                self._answer("GET", path, parse_qs(query))

            def _answer(self, method: str, path: str, form: dict[str, list[str]]) -> None:
                with stub._lock:
                    stub.requests.append(Recorded(method, path, form, dict(self.headers)))
                    answer = stub._answers.pop(0) if stub._answers else None
                default = stub.default_body(path)
                answer = answer or Scripted(200 if method == "GET" else 201, default)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = json.dumps(answer.body or default).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def script(self, *answers: Scripted) -> None:
        with self._lock:
            self._answers.extend(answers)

    @staticmethod
    def default_body(path: str) -> dict:
        if path.endswith("/Conferences.json"):
            return {"conferences": []}
        if path.endswith("/Participants.json"):
            return {"participants": []}
        if path.endswith("/Messages.json"):
            return {"sid": "SM" + "a" * 32, "status": "queued"}
        sid = path.rsplit("/", 1)[-1].removesuffix(".json")
        return {"sid": sid if sid.startswith("CA") else "CA" + "b" * 32, "status": "queued"}

    def stop(self) -> None:
        self.server.shutdown()
