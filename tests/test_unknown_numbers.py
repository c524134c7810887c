"""Attack 14.5: reading the store for the numbers of people who are not in the roster.

An officer on a borrowed phone is identified by precinct and unit PIN; a stranger texts
the service number. Performed over HTTP against a real gunicorn (two processes), then
every Redis key and value is dumped, of every type: neither number appears, in E.164 or
as its national digits. Only the masked form (for screens) and a keyed hash (in
rate-limit keys) are kept; roster numbers may be stored as they are.
"""

from __future__ import annotations

import hashlib
import zlib
from urllib.parse import urlsplit

import redis

from config.phone import mask
from dispatch import keys
from dispatch.pseudonyms import Pseudonyms, kept_number
from dispatch.queue_view import queue_row
from dispatch.routing import Caller, Dispatcher
from tests.support.stranger import Call, signed_in, text

PIN_CALLER = "+13475550342"  # an officer's own cell: not in the roster
TEXTER = "+16465550377"  # a stranger texting the service number


def _values(r: redis.Redis, key: bytes) -> list[bytes]:
    kind = r.type(key).decode()
    if kind == "none":
        return []  # expired since the scan found it (the running stack's periodic claims)
    if kind == "string":
        return [r.get(key) or b""]
    if kind == "hash":
        return [x for pair in r.hgetall(key).items() for x in pair]
    if kind == "list":
        return r.lrange(key, 0, -1)
    if kind == "set":
        return list(r.smembers(key))
    if kind == "zset":
        return [x for member, score in r.zrange(key, 0, -1, withscores=True) for x in (member, repr(score).encode())]
    if kind == "stream":
        return [x for entry_id, fields in r.xrange(key) for x in (entry_id, *(y for f in fields.items() for y in f))]
    raise AssertionError(f"key {key!r} has a type this dump does not read: {kind}")


def dump(url: str) -> bytes:
    """Every key and value in every database, with zlib-compressed values (RQ's job data) opened."""
    first = redis.Redis.from_url(url)
    dbs = [int(name[2:]) for name in first.info("keyspace")] or [0]
    parts: list[bytes] = []
    for db in dbs:
        r = redis.Redis.from_url(url, db=db)
        for key in r.scan_iter("*", count=1000):
            parts.append(key)
            for value in _values(r, key):
                parts.append(value)
                try:
                    parts.append(zlib.decompress(value))
                except zlib.error:
                    pass
    return b"\n".join(parts)


def forms(number: str) -> list[bytes]:
    """The number as E.164 and as its national digits."""
    return [number.encode(), number[2:].encode()]


def test_a_dump_of_every_redis_key_holds_no_unknown_callers_number(gunicorn, r, redis_server):
    server = gunicorn(workers=2)

    # A PIN caller: one wrong PIN, the right one, Spanish, confirmed: a request.
    call = Call(server, PIN_CALLER)
    call.dial()
    call.key("75")
    assert "not accepted" in call.key("0000").said
    assert "language code" in call.key("7501").said
    assert "You selected Spanish" in call.key("1").said
    conference = call.key("1").root.find("Dial/Conference")
    assert conference is not None
    request_id = conference.text.removeprefix("req-")
    wait_url = conference.get("waitUrl")
    assert wait_url and urlsplit(wait_url).path == "/voice/hold"
    assert "in line for a Spanish interpreter" in call.visit(wait_url).said  # the hold music, as Twilio asks

    # A stranger's text.
    reply = text(server, TEXTER, "Spanish please, urgent")
    assert reply.status_code == 200 and "not registered" in reply.text

    # The record: masked caller, the PIN's precinct; what screens and the API show.
    record = {k.decode(): v.decode() for k, v in r.hgetall(keys.request(request_id)).items()}
    assert record["caller"] == mask(PIN_CALLER) and record["caller_kind"] == "pin" and record["precinct"] == "75"
    dashboard = signed_in(server, "viewer", "viewer-demo")
    rows = {row["id"]: row for row in dashboard.get(server.url + "/dashboard/api/queue", timeout=15).json()["active"]}
    assert rows[request_id]["caller"] == mask(PIN_CALLER) and rows[request_id]["caller_kind"] == "pin"
    assert rows[request_id]["precinct"] == "75th Precinct"
    refused = dashboard.get(server.url + "/dashboard/api/audit", timeout=15).json()["refusals"]
    assert any(e["who"] == "unregistered numbers" and e["action"] == "sms_request" for e in refused)
    screens = "".join(
        dashboard.get(server.url + path, timeout=15).text
        for path in ("/dashboard", "/dashboard/api/snapshot", "/dashboard/api/queue", "/dashboard/api/audit")
    )

    # Every key and value of every type: no full number of either, in either form.
    everything = dump(redis_server.url)
    for number in (PIN_CALLER, TEXTER):
        for form in forms(number):
            assert form not in everything, f"{form!r} found in the store"
            assert form.decode() not in screens
            assert form.decode() not in server.log()
    # What is kept instead: the caller's masked form on the request (a refused texter is only
    # counted, "unregistered numbers", in the audit log), and keyed hashes in the rate-limit
    # keys (the same in both web processes and here: all derive the key from one SECRET_KEY).
    assert mask(PIN_CALLER).encode() in everything and mask(TEXTER).encode() not in everything
    pseudonyms = Pseudonyms(server.settings.secret_key)
    rate_keys = [k.decode() for k in r.scan_iter(keys.PREFIX + "rate:*")]
    assert any(k.startswith(f"{keys.PREFIX}rate:voice:{pseudonyms.of(PIN_CALLER)}:") for k in rate_keys)
    assert any(k.startswith(f"{keys.PREFIX}rate:sms:{pseudonyms.of(TEXTER)}:") for k in rate_keys)
    for number in (PIN_CALLER, TEXTER):  # an unkeyed hash would give the number back to a dump
        assert hashlib.sha256(number.encode()).hexdigest()[:20].encode() not in everything


def test_the_hash_is_keyed_and_the_same_wherever_the_key_is(settings):
    one, same, other = Pseudonyms("k1"), Pseudonyms("k1"), Pseudonyms("k2")
    assert one.of(PIN_CALLER) == same.of(PIN_CALLER) != other.of(PIN_CALLER)
    assert one.of(PIN_CALLER) != one.of(TEXTER) and len(one.of(PIN_CALLER)) == 32
    assert PIN_CALLER[2:] not in one.of(PIN_CALLER)


def test_roster_numbers_are_kept_whole_and_a_retried_pin_request_stays_masked(ctx):
    """Roster numbers are the department's own (a supervisor is called back on theirs); a
    PIN caller's request, retried after a failure, is still masked, and its row shows it."""
    supervisor = ctx.roster.supervisors[0]
    assert kept_number(ctx.roster, supervisor.cell) == supervisor.cell
    assert kept_number(ctx.roster, PIN_CALLER) == mask(PIN_CALLER)
    dispatcher = Dispatcher(ctx)
    first = dispatcher.open_request(
        Caller(PIN_CALLER, "pin", "75"), ctx.catalog.get("spa"), officer_call="CA" + "1" * 32
    )
    assert first.caller == mask(PIN_CALLER)
    assert ctx.requests.apply(first.id, "fail", fields={"outcome": "test"}, deadline=None).applied
    again = dispatcher.retry(first.id, "CA" + "1" * 32)
    assert again is not None and again.id != first.id and again.caller == mask(PIN_CALLER)
    row = queue_row(again, again.created_at, 30.0, str, str, "vendor")
    assert row.caller == mask(PIN_CALLER) and row.caller_kind == "pin"
    texted = dispatcher.open_request(
        Caller(supervisor.cell, "supervisor", supervisor.precinct, supervisor.id), None, channel="sms"
    )
    assert texted.caller == supervisor.cell


def test_a_texted_callback_number_is_kept_whole_only_until_it_is_dialled(
    client, settings, ctx, telephony, r, redis_server
):
    """A supervisor texts a scene's number to be called back on: it is dialled in full, then
    the record keeps it masked (and hashed, so the same request texted again is still
    recognised); the reply, kept for redeliveries, shows only its last digits."""
    from dispatch.sms.service import place_callback
    from tests.support.signing import signed_post

    scene = "+13475550366"
    cell = ctx.roster.supervisors[0].cell

    def send(body: str, sid: str) -> str:
        params = {"From": cell, "Body": body, "MessageSid": sid, "AccountSid": settings.twilio_account_sid}
        resp = signed_post(client, settings, "/sms/incoming", params)
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    reply = send("Spanish call back 347 555 0366", "SM" + "a" * 32)
    assert "Calling the number ending 0366 now" in reply and scene[2:] not in reply
    (request_id,) = ctx.requests.open_ids()
    assert ctx.requests.get(request_id).callback_number == scene  # needed to dial it
    place_callback(ctx, request_id)
    assert [c.to for c in telephony.calls] == [scene]
    rec = ctx.requests.get(request_id)
    assert rec.callback_number == mask(scene) and rec.extra["callback_key"] == ctx.pseudonyms.of(scene)
    assert f"You already have request {request_id}" in send("Spanish call back 347 555 0366", "SM" + "b" * 32)
    assert len(ctx.requests.open_ids()) == 1
    everything = dump(redis_server.url)
    for form in forms(scene):
        assert form not in everything
    assert cell.encode() in everything, "the supervisor's own cell is a roster number: kept as it is"
