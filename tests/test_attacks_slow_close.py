"""A stranger's requests the server closes, with the stranger holding the sockets open, do not
hold up an officer's call (gunicorn_worker.py), performed against a real gunicorn.

gunicorn 26+ waits up to 2 s on its one event-loop thread for the client's FIN after a
connection it closes; a client that never sends it stalled every request of the worker for
those 2 s each. Two ways a stranger gets the server to close: asking for it
(`Connection: close`), and a body too large to read (a 413 is never kept alive).
"""

from __future__ import annotations

import socket

import pytest
import requests

from tests.support.stranger import Call

LINE = "+17185550101"  # a registered precinct line of the sample roster
TWILIO_WAITS = 15  # seconds Twilio waits for a webhook before it gives the call the fallback
HELD = 12  # sockets the stranger holds: 24 s of a stalled worker, past Twilio's wait, without the fix

REQUESTS = {
    "connection-close": b"POST /voice/incoming HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b",
    "oversized-body": b"POST /voice/incoming HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: forged=\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100002\r\n\r\na=" + b"x" * 100_000,
}


def _status(sock: socket.socket) -> str:
    """The status line the server answered on `sock` (the socket stays open)."""
    sock.settimeout(TWILIO_WAITS * 2)
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "the server closed without answering"
        head += chunk
    return head.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_sockets_held_open_after_answered_requests_do_not_hold_up_an_officer_s_call(gunicorn, kind):
    server = gunicorn()
    port = int(server.url.rsplit(":", 1)[1])
    held = []
    try:
        for _ in range(HELD):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(REQUESTS[kind])
            held.append(sock)
        try:
            answer = Call(server, LINE).dial()  # the officer's call, signed as Twilio signs it
        except requests.Timeout:
            pytest.fail(f"the officer's call got no answer within Twilio's {TWILIO_WAITS} s")
        assert answer.action and "language" in answer.said.lower(), answer.body[:300]
        expected = "403" if kind == "connection-close" else "413"
        assert [_status(sock).split(" ")[1] for sock in held] == [expected] * HELD
    finally:
        for sock in held:
            sock.close()
