"""Attacks on the sign-in and on the audit log, performed over HTTP against a real gunicorn
(issue 14, items 3 and 6; docs/reliability.md, "Attacks").

Clients are told apart as in production: behind the proxy by X-Forwarded-For (believed with
TRUSTED_PROXIES=1: the test plays the proxy), without one by the socket's own address (the
client binds 127.0.0.x). Limits are the defaults: 5 failures per username and address, 20 per
address, a 15-minute lock.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from dataclasses import replace

from config.settings import ROOT
from dispatch import audit, events, keys
from tests.support.dashboard_http import Browser
from tests.support.signing import signature
from tests.support.stack import settings_env

ATTACKER, ATTACKER_NET = "203.0.113.7", "203.0.113.0/24"
OFFICE, OFFICE_2 = "198.51.100.20", "198.51.100.21"


def refusals(server) -> dict[tuple[str, str, str, str], int]:  # type: ignore[no-untyped-def]
    """The audit's refusals as a signed-in sergeant reads them: (action, who, where, outcome) -> count."""
    sergeant = Browser(server.url, forwarded_for="192.0.2.50")
    assert sergeant.sign_in("sergeant").status_code == 303
    found = sergeant.get(server.url + "/dashboard/api/audit", timeout=30).json()["refusals"]
    return {(e["action"], e["who"], e["target"], e["outcome"]): e["count"] for e in found}


def test_twenty_failures_from_one_client_behind_the_proxy_lock_out_that_client_only(gunicorn, r):
    server = gunicorn(trusted_proxies=1)
    attacker = Browser(server.url, forwarded_for=ATTACKER)
    codes = [
        attacker.sign_in(name, "guess-" + name).status_code for name in ("sergeant", "viewer", "admin", "root") * 5
    ]
    assert codes == [401] * 20
    # The users, at their own addresses behind the same proxy, are not locked out.
    assert Browser(server.url, forwarded_for=OFFICE).sign_in("sergeant").status_code == 303
    assert Browser(server.url, forwarded_for=OFFICE_2).sign_in("viewer").status_code == 303
    # The flooding client is, for every username, with the right password too.
    for name in ("sergeant", "viewer", "someone-new"):
        locked = attacker.sign_in(name)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
        assert "Too many failed sign-ins from your address. Try again in 15 minutes." in locked.text
    # Putting someone else's address in front of its own (the proxy appends the real one) changes nothing.
    forged = Browser(server.url, forwarded_for=f"{OFFICE}, {ATTACKER}")
    assert forged.sign_in("sergeant").status_code == 429
    # Audited once per source with its count: the username, the masked address, never the password.
    seen = refusals(server)
    assert seen[("sign_in", "sergeant", ATTACKER_NET, "refused: wrong password")] == 5
    assert seen[("sign_in", "admin", ATTACKER_NET, "refused: unknown username")] == 5
    assert seen[("sign_in", "sergeant", ATTACKER_NET, "refused: locked out")] == 2
    log = server.log()
    assert "guess-" not in log and ATTACKER not in log and ATTACKER_NET in log
    lines = [line for line in log.splitlines() if "sign-in" in line]
    firsts, locks = [l for l in lines if "more this hour" in l], [l for l in lines if "locked out for" in l]
    assert len(firsts) == len(seen) and len(locks) == 4 and len(lines) == len(firsts) + len(locks), lines


def test_without_trusted_proxies_a_forged_x_forwarded_for_is_ignored(gunicorn, r):
    server = gunicorn()  # TRUSTED_PROXIES=0: the socket's address, whatever the headers say
    attacker = Browser(server.url, source="127.0.0.2", forwarded_for="127.0.0.3")  # claims the victim's address
    codes = [attacker.sign_in(name, "guess").status_code for name in ("sergeant", "viewer", "admin", "root") * 5]
    assert codes == [401] * 20
    # The victim's address was not charged for the attacker's failures.
    assert Browser(server.url, source="127.0.0.3").sign_in("sergeant").status_code == 303
    # The attacker's own address is locked, whatever address it claims.
    for claimed in ("127.0.0.3", "10.1.2.3", ""):
        again = Browser(server.url, source="127.0.0.2", forwarded_for=claimed or None)
        assert again.sign_in("chief").status_code == 429  # a username it never tried: the address is locked
    assert r.exists(keys.signin_lock_address("127.0.0.2")) and not r.exists(keys.signin_lock_address("127.0.0.3"))


def test_a_fresh_ipv6_address_for_every_guess_is_still_one_client(gunicorn, r):
    """One IPv6 subscriber holds a whole /64: guesses from six of its addresses are one client's."""
    server = gunicorn(trusted_proxies=1)
    codes = [
        Browser(server.url, forwarded_for=f"2001:db8:7:7::{n + 1:x}").sign_in("sergeant", "guess").status_code
        for n in range(6)
    ]
    assert codes == [401] * 5 + [429]
    assert Browser(server.url, forwarded_for="2001:db8:7:7:ffff::1").sign_in("sergeant").status_code == 429
    assert Browser(server.url, forwarded_for="2001:db8:7:8::1").sign_in("sergeant").status_code == 303


def test_six_wrong_passwords_for_sergeant_at_one_address_do_not_lock_sergeant_at_another(gunicorn, r):
    server = gunicorn(trusted_proxies=1)
    guesser = Browser(server.url, forwarded_for=ATTACKER)
    assert [guesser.sign_in("sergeant", "guess").status_code for _ in range(6)] == [401] * 5 + [429]
    desk = Browser(server.url, forwarded_for=OFFICE)
    assert desk.sign_in("sergeant").status_code == 303
    assert desk.get(server.url + "/dashboard", timeout=30).status_code == 200
    assert guesser.sign_in("sergeant").status_code == 429
    assert guesser.sign_in("viewer").status_code == 303  # only that username is locked at that address


def test_the_locked_client_stays_locked_with_the_right_password_and_the_lock_does_not_restart(gunicorn, r):
    server = gunicorn(trusted_proxies=1)
    guesser = Browser(server.url, forwarded_for=ATTACKER)
    for _ in range(5):
        guesser.sign_in("sergeant", "guess")
    lock = keys.signin_lock(ATTACKER, "sergeant")
    left = r.pttl(lock)
    assert left > 0
    waits = []
    for _ in range(4):
        refused = guesser.sign_in("sergeant")  # the right password
        assert refused.status_code == 429 and "Try again in" in refused.text
        waits.append(int(refused.headers["Retry-After"]))
    assert waits == sorted(waits, reverse=True) and waits[0] <= -(-left // 1000)
    assert 0 < r.pttl(lock) <= left  # not started again
    assert not list(r.scan_iter(keys.dashboard_session("*")))
    seen = refusals(server)
    assert seen[("sign_in", "sergeant", ATTACKER_NET, "refused: locked out")] == 4
    assert seen[("sign_in", "sergeant", ATTACKER_NET, "refused: wrong password")] == 5  # not checked: not failures
    r.delete(lock)  # what its TTL does when the 15 minutes are up
    assert guesser.sign_in("sergeant").status_code == 303


def test_three_hundred_texts_from_unregistered_numbers_are_one_audit_entry_and_actions_stay_visible(gunicorn, r):
    server = gunicorn(threads=4)
    s = server.settings
    sergeant = Browser(server.url)
    assert sergeant.sign_in("sergeant").status_code == 303
    assert sergeant.act("/dashboard/liaisons/l-reyes/duty", duty="off").status_code == 200

    def text(n: int) -> int:
        params = {
            "From": f"+1646555{3000 + n:04d}",
            "To": "+12125550100",
            "Body": "Spanish",
            "MessageSid": f"SM{n:032d}",
            "NumMedia": "0",
            "AccountSid": s.twilio_account_sid,
        }
        resp = Browser(server.url).post(
            server.url + "/sms/incoming",
            data=params,
            timeout=30,
            headers={"X-Twilio-Signature": signature(s, "/sms/incoming", params)},
        )
        return resp.status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert set(pool.map(text, range(300))) == {200}
    assert sergeant.act("/dashboard/liaisons/l-reyes/duty", duty="schedule").status_code == 200
    data = sergeant.get(server.url + "/dashboard/api/audit", timeout=30).json()
    assert [(e["who"], e["action"]) for e in data["entries"]][:3] == [
        ("sergeant", "duty_schedule"),
        ("sergeant", "duty_off"),
        ("sergeant", "sign_in"),
    ]
    (sms,) = [e for e in data["refusals"] if e["action"] == "sms_request"]
    assert (sms["who"], sms["outcome"], sms["count"]) == ("unregistered numbers", "refused: unregistered number", 300)
    page = sergeant.get(server.url + "/dashboard/api/snapshot", timeout=30).json()  # what the page draws
    assert page["audit"][0]["action"] == "duty_schedule" and page["refusals"][0]["count"] == 300
    assert r.xlen(keys.AUDIT_REFUSALS) == 1
    assert "+16465553" not in json.dumps(data)


def test_varying_the_username_cannot_flood_the_refusals_either(r):
    log = audit.AuditLog(r, retention_seconds=3600)
    now = time.time()
    for n in range(audit.MAX_SOURCES_PER_HOUR + 50):
        log.refused("sign_in", f"user{n}", ATTACKER_NET, "refused: unknown username", now=now)
    assert r.xlen(keys.AUDIT_REFUSALS) == audit.MAX_SOURCES_PER_HOUR + 1
    newest = log.refusals(1)[0]
    assert (newest["who"], newest["target"], newest["count"]) == (audit.OTHERS, audit.OTHERS, 50)
    log.refused("sign_in", "user0", ATTACKER_NET, "refused: unknown username", now=now)  # a known source still counts
    assert any(e["who"] == "user0" and e["count"] == 2 for e in log.refusals(200))
    assert audit.printable("a\r\nb\x1b[2J\u202e" + "x" * 100) == "a\\r\\nb\\x1b[2J\\u202e" + "x" * 55 + "…"


def test_the_sweeper_drops_audit_entries_past_the_retention_period(settings, r):
    day_ms = 24 * 3600 * 1000
    old = int(time.time() * 1000) - 3 * day_ms
    r.xadd(
        keys.AUDIT,
        {"ts": "old", "who": "sergeant", "action": "cancel", "target": "R1", "outcome": "done"},
        id=f"{old}-0",
    )
    r.xadd(
        keys.AUDIT_REFUSALS,
        {
            "ts": "old",
            "hour": "0",
            "source": "[]",
            "action": "sms_request",
            "who": "x",
            "target": "",
            "outcome": "refused",
        },
        id=f"{old}-0",
    )
    events.audit(r, "sergeant", "cancel", "R2", "done")
    audit.AuditLog(r, 2 * 24 * 3600).refused("sms_request", "unregistered numbers", "", "refused: unregistered number")
    env = dict(os.environ, **settings_env(replace(settings, audit_retention_seconds=2 * 24 * 3600)))
    subprocess.run(
        [sys.executable, "-c", "from workers.maintenance import sweep; sweep()"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
    assert [e["target"] for e in events.audit_entries(r)] == ["R2"]
    assert [e["who"] for e in audit.AuditLog(r, 1).refusals()] == ["unregistered numbers"]
    (counts,) = r.scan_iter(keys.audit_refusal_counts(0)[:-1] + "*")
    assert 0 < r.ttl(counts) <= 2 * 24 * 3600 + 3600  # an hour's counts go with its entries
