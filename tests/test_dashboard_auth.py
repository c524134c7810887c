"""Sign-in, sessions and their security rules: hashes, cookie flags, throttling, idle timeout."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dispatch import events, keys
from tests.support.dashboard import page_csrf, session_for, sign_in, signin_form_token


def session_keys(r) -> list[bytes]:  # type: ignore[no-untyped-def]
    return list(r.scan_iter(keys.dashboard_session("*")))


def set_cookie(resp) -> str:  # type: ignore[no-untyped-def]
    cookies = [v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
    assert cookies, "the response sets the session cookie"
    return cookies[-1]


def test_sign_in_with_the_roster_password_opens_the_page(client, ctx):
    resp = sign_in(client, "sergeant")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Duty Sergeant (sample)" in page.get_data(as_text=True)
    entry = events.audit_entries(ctx.redis)[0]
    assert (entry["who"], entry["action"], entry["outcome"]) == ("sergeant", "sign_in", "ok")


def test_the_session_cookie_is_httponly_strict_and_holds_only_an_id(client, ctx):
    cookie = set_cookie(sign_in(client, "viewer"))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # local run over http
    assert b"viewer" not in client.get_cookie("session").value.encode()  # who you are stays in Redis
    assert len(session_keys(ctx.redis)) == 1


def test_the_cookie_is_secure_outside_local_runs(ctx):
    from webhooks import create_app

    ctx.settings = replace(ctx.settings, local_mode=False)
    app = create_app(context=ctx)
    client = app.test_client()
    token = signin_form_token(client)
    resp = client.post("/dashboard/signin", data={"csrf_token": token, "username": "viewer", "password": "viewer-demo"})
    assert resp.status_code == 303
    assert "Secure" in set_cookie(resp)


def test_a_wrong_password_or_unknown_user_is_refused(client, ctx):
    for user, password in (("sergeant", "wrong"), ("nobody", "sergeant-demo"), ("sergeant", "")):
        resp = sign_in(client, user, password)
        assert resp.status_code == 401 and "Wrong username or password" in resp.get_data(as_text=True)
    assert session_keys(ctx.redis) == []
    assert client.get("/dashboard").status_code == 302


def test_sign_in_form_needs_its_csrf_token(client, ctx):
    signin_form_token(client)
    missing = client.post("/dashboard/signin", data={"username": "sergeant", "password": "sergeant-demo"})
    forged = client.post(
        "/dashboard/signin", data={"username": "sergeant", "password": "sergeant-demo", "csrf_token": "forged"}
    )
    assert (missing.status_code, forged.status_code) == (400, 403)
    assert session_keys(ctx.redis) == []


@pytest.fixture
def three_tries(app, ctx):
    ctx.settings = replace(ctx.settings, signin_max_failures=3, signin_ip_max_failures=5)
    return app


def test_failed_sign_ins_lock_that_username_at_that_address_only(three_tries, client, ctx):
    for _ in range(3):
        assert sign_in(client, "sergeant", "guess").status_code == 401
    blocked = sign_in(client, "sergeant")  # even the right password is not checked now
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= ctx.settings.signin_lock_seconds
    assert "Too many failed sign-ins from your address. Try again in 15 minutes." in blocked.get_data(as_text=True)
    assert session_keys(ctx.redis) == []
    elsewhere = three_tries.test_client()
    assert sign_in(elsewhere, "sergeant", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 303
    assert sign_in(client, "viewer").status_code == 303  # another username from the same address


def test_the_right_password_during_the_lock_is_not_checked_and_does_not_restart_it(
    three_tries, client, ctx, monkeypatch
):
    from webhooks.dashboard import auth

    for _ in range(3):
        sign_in(client, "sergeant", "guess")
    lock = keys.signin_lock("127.0.0.1", "sergeant")
    ctx.redis.pexpire(lock, 60_000)  # as if most of the lock had passed
    checked = []
    real_verify = auth.verify
    monkeypatch.setattr(auth, "verify", lambda u, p: checked.append(u) or real_verify(u, p))
    for _ in range(3):
        assert sign_in(client, "sergeant").status_code == 429
    assert checked == []
    assert 0 < ctx.redis.pttl(lock) <= 60_000  # not started again
    assert ctx.redis.get(keys.signin_failures("127.0.0.1", "sergeant")) is None  # nothing counted meanwhile
    ctx.redis.delete(lock)  # the lock has passed
    assert sign_in(client, "sergeant").status_code == 303 and checked == ["sergeant"]


def test_a_success_clears_the_username_s_failures_but_not_the_address_s(three_tries, client, ctx):
    for _ in range(2):
        sign_in(client, "sergeant", "guess")
    assert sign_in(client, "sergeant").status_code == 303
    assert ctx.redis.get(keys.signin_failures("127.0.0.1", "sergeant")) is None
    assert int(ctx.redis.get(keys.signin_failures_address("127.0.0.1"))) == 2  # failures only, not the success
    client = three_tries.test_client()  # a fresh browser at the same address
    for _ in range(3):
        sign_in(client, "sergeant", "guess")
    assert sign_in(client, "sergeant").status_code == 429


def test_one_address_trying_many_usernames_is_locked_for_every_username(three_tries, client, ctx):
    sign_in(client, "sergeant", "guess")
    for name in ("admin", "root", "chief", "ops"):
        assert sign_in(client, name, "guess").status_code == 401
    assert sign_in(client, "viewer").status_code == 429  # 5 failures from this address
    other = three_tries.test_client()
    assert sign_in(other, "viewer", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 303


def test_failed_sign_ins_are_audited_once_per_hour_with_a_count_and_no_password(three_tries, client, ctx):
    for _ in range(2):
        sign_in(client, "sergeant", "s3cret-guess")
    sign_in(client, "nobody\r\n2026-01-01 forged", "s3cret-guess")
    refused = {(e["who"], e["target"], e["outcome"]): e["count"] for e in ctx.audit.refusals()}
    assert refused == {
        ("sergeant", "127.0.0.0/24", "refused: wrong password"): 2,
        ("nobody\\r\\n2026-01-01 forged", "127.0.0.0/24", "refused: unknown username"): 1,
    }
    assert events.audit_entries(ctx.redis) == []  # actions stay apart
    dump = " ".join(str(ctx.redis.dump(k)) for k in ctx.redis.scan_iter("*"))
    assert "s3cret-guess" not in dump


def test_sign_in_replaces_any_planted_session_id(client, ctx):
    with client.session_transaction() as sess:
        sess["sid"] = "planted-by-someone-else"
    assert sign_in(client, "sergeant").status_code == 303
    with client.session_transaction() as sess:
        sid = sess["sid"]
    assert sid != "planted-by-someone-else" and len(sid) >= 32
    assert session_keys(ctx.redis) == [keys.dashboard_session(sid).encode()]


def test_idle_timeout_is_the_session_ttl_and_only_people_renew_it(app, client, ctx):
    csrf = session_for(app, client, "sergeant")
    (key,) = session_keys(ctx.redis)
    idle = ctx.settings.session_idle_minutes * 60
    assert idle - 5 <= ctx.redis.ttl(key) <= idle
    ctx.redis.expire(key, 100)
    client.get("/dashboard/api/snapshot")  # the page's own refresh: not activity
    client.get("/dashboard/api/queue")
    assert ctx.redis.ttl(key) <= 100
    client.get("/dashboard")  # a person loading the page
    assert ctx.redis.ttl(key) > idle - 5
    ctx.redis.expire(key, 100)
    assert client.post("/dashboard/keepalive", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert ctx.redis.ttl(key) > idle - 5


def test_an_idle_session_expires_everywhere(app, client, ctx):
    def expire() -> None:
        session_for(app, client, "sergeant")
        (key,) = session_keys(ctx.redis)
        ctx.redis.delete(key)  # what the TTL does after session_idle_minutes without activity

    expire()
    page = client.get("/dashboard")
    assert page.status_code == 302 and "expired=1" in page.headers["Location"]
    expire()
    api = client.get("/dashboard/api/queue")
    assert api.status_code == 401 and api.get_json()["reason"] == "expired"
    expire()
    assert client.post("/dashboard/keepalive", headers={"X-CSRF-Token": "x"}).status_code == 401
    signin = client.get("/dashboard/signin?expired=1").get_data(as_text=True)
    assert f"signed out after {ctx.settings.session_idle_minutes} minutes without activity" in signin


def test_the_keepalive_needs_the_csrf_token(app, client, ctx):
    session_for(app, client, "viewer")
    assert client.post("/dashboard/keepalive").status_code == 400


def test_sign_out_ends_the_session_for_any_copy_of_the_cookie(app, client, ctx):
    assert sign_in(client, "viewer").status_code == 303
    cookie = client.get_cookie("session").value
    csrf = page_csrf(client)
    resp = client.post("/dashboard/signout", data={"csrf_token": csrf})
    assert resp.status_code == 303 and "out=1" in resp.headers["Location"]
    assert session_keys(ctx.redis) == []
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/dashboard").status_code == 302
    assert replay.get("/dashboard/api/queue").status_code == 401


def test_sign_out_needs_the_csrf_token(app, client, ctx):
    session_for(app, client, "viewer")
    assert client.post("/dashboard/signout").status_code == 400
    assert len(session_keys(ctx.redis)) == 1


def test_a_user_removed_from_the_roster_is_signed_out(app, client, ctx):
    session_for(app, client, "viewer")
    ctx.redis.hset(session_keys(ctx.redis)[0], "username", "someone-gone")
    assert client.get("/dashboard").status_code == 302


def test_signed_in_people_skip_the_sign_in_page(app, client):
    session_for(app, client, "viewer")
    resp = client.get("/dashboard/signin")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard")


def test_client_addresses_are_parsed_never_used_as_given():
    from dispatch import client_address as ca

    assert ca.throttle_key("203.0.113.7") == "203.0.113.7" and ca.masked("203.0.113.7") == "203.0.113.0/24"
    assert ca.throttle_key("::ffff:203.0.113.7") == "203.0.113.7"  # an IPv4 client on a dual-stack socket
    assert ca.throttle_key("2001:db8:1:2:aaaa::1") == ca.throttle_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert ca.masked("2001:db8:1:2:aaaa::1") == "2001:db8:1::/48"
    for junk in ("", None, "not-an-address", "1.2.3.4\r\nX: y", "9" * 100, "203.0.113.7, 10.0.0.1"):
        assert ca.throttle_key(junk) == ca.masked(junk) == ca.UNKNOWN
