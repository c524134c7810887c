"""The time an officer spent in the menu, from the phone network's final report of their call
(its Timestamp less its CallDuration), for the sergeant's split of the wait."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from dispatch.stats import day_figures
from tests.support.voice import OFFICER_CALL, line, post, queue_spanish


def report(client, settings, ctx, ended_at: float, duration: str, call_sid: str = OFFICER_CALL, **extra: str):
    stamp = format_datetime(datetime.fromtimestamp(ended_at, tz=UTC))
    return post(
        client,
        settings,
        "/voice/status",
        From=line(ctx),
        CallSid=call_sid,
        CallStatus="completed",
        Timestamp=extra.pop("Timestamp", stamp),
        CallDuration=duration,
        **extra,
    )


def test_the_officers_call_start_is_kept_and_the_menu_time_reaches_the_figures(client, settings, ctx):
    request_id, _ = queue_spanish(client, settings, ctx)
    rec = ctx.requests.get(request_id)
    ended = int(rec.queued_at) + 100  # whole seconds, as Twilio's Timestamp
    report(client, settings, ctx, ended, "108")
    started = ctx.requests.get(request_id).call_started_at
    assert started == ended - 108
    ctx.requests.set_fields(request_id, {"connected_at": rec.queued_at + 20})
    menu = day_figures([ctx.requests.get(request_id)], since=0).wait.menu
    assert menu.p50 == max(0.0, rec.queued_at - started)


def test_a_later_call_or_a_bad_report_changes_nothing(client, settings, ctx):
    request_id, _ = queue_spanish(client, settings, ctx)
    rec = ctx.requests.get(request_id)
    for duration, extra in (("abc", {}), ("9999999", {}), ("10", {"Timestamp": "yesterday"}), ("100000", {})):
        report(client, settings, ctx, rec.queued_at + 5, duration, **extra)
        assert ctx.requests.get(request_id).call_started_at is None, (duration, extra)
    ctx.requests.link_call("CA" + "9" * 32, request_id, "officer")  # the officer calling again (a rejoin)
    report(client, settings, ctx, rec.queued_at + 5, "10", call_sid="CA" + "9" * 32)
    assert ctx.requests.get(request_id).call_started_at is None


def test_without_a_timestamp_the_report_counts_as_just_sent(client, settings, ctx):
    request_id, _ = queue_spanish(client, settings, ctx)
    report(client, settings, ctx, 0, "30", Timestamp="")
    rec = ctx.requests.get(request_id)
    assert rec.call_started_at is not None and rec.queued_at - 40 < rec.call_started_at <= rec.queued_at + 2
