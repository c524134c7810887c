"""Reading the dashboard's server-sent event stream from a test client, in the background."""

from __future__ import annotations

import threading
import time


def parse(chunks: list[str]) -> list[dict[str, str]]:
    """SSE text → messages (comments dropped, like a browser does)."""
    out = []
    for block in "".join(chunks).split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.lstrip(" ")
        if "data" in fields:
            out.append(fields)
    return out


class Reader:
    """Reads a streaming response in the background, so a test can publish meanwhile."""

    def __init__(self, resp):  # type: ignore[no-untyped-def]
        self.resp = resp
        self.chunks: list[str] = []
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            for chunk in self.resp.response:
                self.chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        finally:
            self.done.set()

    def wait_for(self, pred, timeout: float = 3.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.text):
                return self.text
            time.sleep(0.02)
        raise AssertionError(f"stream did not show it within {timeout}s: {self.text!r}")

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def connect(client, **headers: str) -> Reader:  # type: ignore[no-untyped-def]
    resp = client.get("/dashboard/stream", headers=headers, buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"].startswith("no-cache")
    return Reader(resp)
