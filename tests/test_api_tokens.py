"""API tokens for tools that read the dashboard (issue 14, item 7), over HTTP against a real
gunicorn, made and revoked with the real command (`flask --app wsgi api-token ...`).

HTTP Basic used to run scrypt on every request of every polling tool and slowed the
sergeants' actions (bench/api_readers.py measures it); a token costs one SHA-256.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import requests

from config.settings import ROOT
from dispatch import api_tokens, events
from tests.support.dashboard_http import Browser, bearer
from tests.support.stack import settings_env

FLASK = str(Path(sys.executable).parent / "flask")
READS = (
    "/dashboard/api/queue",
    "/dashboard/api/liaisons",
    "/dashboard/api/stats",
    "/dashboard/api/audit",
    "/dashboard/api/snapshot",
)


def api_token(server, *args: str, check: bool = True) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    """`flask --app wsgi api-token ARGS` with the server's settings, as an operator runs it."""
    env = dict(os.environ, **settings_env(server.settings))
    return subprocess.run(
        [FLASK, "--app", "wsgi", "api-token", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def every_key_and_value(r) -> str:  # type: ignore[no-untyped-def]
    return " ".join(f"{k!r} {r.dump(k)!r}" for k in r.scan_iter("*"))


def test_a_token_made_by_the_command_reads_the_api_and_the_stream_and_is_kept_only_hashed(gunicorn, r):
    server = gunicorn()
    made = api_token(server, "create", "wallboard")
    token = made.stdout.strip()
    assert token.startswith("ird_") and len(token) >= 40 and "shown only now" in made.stderr
    for path in READS:
        resp = requests.get(server.url + path, headers=bearer(token), timeout=30)
        assert resp.status_code == 200, (path, resp.status_code)
    me = requests.get(server.url + "/dashboard/api/snapshot", headers=bearer(token), timeout=30).json()["user"]
    assert me == {"username": "token:wallboard", "name": "wallboard", "role": "api", "can_act": False}
    with requests.get(
        server.url + "/dashboard/stream", headers={"Authorization": f"bearer {token}"}, stream=True, timeout=30
    ) as feed:
        assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/event-stream")
        assert next(feed.iter_content(64)).startswith(b"retry:")
    stored = every_key_and_value(r)
    assert token not in stored and token[4:] not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    listed = api_token(server, "list").stdout
    assert "wallboard" in listed and token not in listed
    assert "exists" in api_token(server, "create", "wallboard", check=False).stderr  # one token per name


def test_a_token_cannot_act(gunicorn, r):
    server = gunicorn()
    token = api_tokens.create(r, "script")
    before = requests.get(server.url + "/dashboard/api/liaisons", headers=bearer(token), timeout=30).json()
    for path, form in (
        ("/dashboard/liaisons/l-reyes/duty", {"duty": "off"}),
        ("/dashboard/keepalive", {}),
        ("/dashboard/requests/R00001/cancel", {}),
        ("/dashboard/signout", {}),
    ):
        resp = requests.post(
            server.url + path,
            data={"confirm": "yes", "csrf_token": "x", **form},
            headers={**bearer(token), "X-CSRF-Token": "x"},
            timeout=30,
        )
        assert resp.status_code == 401, (path, resp.status_code)
    assert (
        requests.get(server.url + "/dashboard", headers=bearer(token), timeout=30, allow_redirects=False).status_code
        == 302
    )  # the page is for people
    assert requests.get(server.url + "/dashboard/api/liaisons", headers=bearer(token), timeout=30).json() == before
    assert events.audit_entries(r) == []


def test_a_revoked_token_is_refused_and_its_open_stream_ends(gunicorn, r):
    server = gunicorn()
    token = api_tokens.create(r, "monitor")
    feed = requests.get(server.url + "/dashboard/stream", headers=bearer(token), stream=True, timeout=30)
    lines = feed.iter_lines(decode_unicode=True)
    assert next(lines).startswith("retry:")
    api_token(server, "revoke", "monitor")
    refused = requests.get(server.url + "/dashboard/api/queue", headers=bearer(token), timeout=30)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    events.publish(r, "audit", {"action": "duty_off", "target": "l-reyes", "outcome": "done"})  # something to send
    rest = list(lines)  # ends: the stream saw the token go (the read timeout bounds the wait)
    assert "event: signedout" in rest
    assert api_tokens.listed(r) == []
    assert "no token named" in api_token(server, "revoke", "monitor", check=False).stderr


def test_http_basic_is_refused_at_once_and_never_counts_as_a_sign_in(gunicorn, r):
    server = gunicorn()
    basic = base64.b64encode(b"viewer:viewer-demo").decode()
    for _ in range(30):  # more than the address's sign-in budget
        resp = requests.get(
            server.url + "/dashboard/api/queue", headers={"Authorization": f"Basic {basic}"}, timeout=30
        )
        assert resp.status_code == 401 and resp.json()["reason"] == "token"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer", "Bearer ", "Bearer " + "x" * 1000, "Token abc"):
        assert (
            requests.get(server.url + "/dashboard/api/queue", headers={"Authorization": header}, timeout=30).status_code
            == 401
        )
    assert Browser(server.url).sign_in("viewer").status_code == 303


def test_sixteen_readers_polling_with_tokens_while_the_sergeant_acts(gunicorn, r):
    server = gunicorn(threads=8)
    tokens = [api_tokens.create(r, f"reader-{n}") for n in range(2)]
    sergeant = Browser(server.url)
    assert sergeant.sign_in("sergeant").status_code == 303
    stop, codes = threading.Event(), []

    def poll(n: int) -> None:
        with requests.Session() as s:
            s.headers.update(bearer(tokens[n % 2]))
            while not stop.is_set():
                codes.append(s.get(server.url + "/dashboard/api/snapshot", timeout=30).status_code)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        readers = [pool.submit(poll, n) for n in range(16)]
        try:
            done = [
                sergeant.act("/dashboard/liaisons/l-reyes/duty", duty=d).status_code
                for d in ("off", "on", "schedule") * 2
            ]
        finally:
            stop.set()
        for f in readers:
            f.result()
    sergeant.close()
    assert done == [200] * 6
    assert codes and set(codes) == {200}
    assert [e["action"] for e in events.audit_entries(r)][:6] == ["duty_schedule", "duty_on", "duty_off"] * 2
