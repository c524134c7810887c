"""An officer whose request ended while on hold is told so, whatever the phone network does.

Flask level (signed webhooks, real Redis, fake phone network) and one real RQ worker in
this process: the hold loop's answers for a failed request and for one whose interpreter
left, the redirect out of the room that raises (for RQ to retry) when the network
refuses it, the retry schedule, and the hold loop once every retry was refused.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rq import Queue, Retry, SimpleWorker
from rq.registry import FailedJobRegistry

from dispatch import urls as paths
from dispatch.routing import Dispatcher
from dispatch.telephony import TelephonyError
from tests.test_voice_webhooks import OFFICER_CALL, path_of, post, queue_spanish, said

# What a conference's waitUrl may answer with (Twilio: no <Gather>, no <Dial>).
WAIT_MUSIC_VERBS = {"Say", "Play", "Pause", "Redirect"}


def _failed(client, settings, ctx) -> str:
    request_id, _ = queue_spanish(client, settings, ctx)
    assert ctx.requests.apply(request_id, "fail", fields={"outcome": "vendor dial-failed"}).applied
    return request_id


def _connected_then_left(client, settings, ctx) -> str:
    request_id, _ = queue_spanish(client, settings, ctx)
    for name in ("vendor_dial", "vendor_connected", "complete"):
        assert ctx.requests.apply(request_id, name).applied
    return request_id


def test_the_hold_loop_tells_the_officer_of_a_failed_request_and_keeps_telling(client, settings, ctx):
    request_id = _failed(client, settings, ctx)
    root = post(client, settings, f"/voice/hold?r={request_id}&n=3")
    assert {el.tag for el in root} <= WAIT_MUSIC_VERBS, "a waitUrl that gathers would be ignored by Twilio"
    assert "No interpreter could be reached" in said(root)
    assert "press 1 to request an interpreter again" in said(root)
    assert "in line" not in said(root)
    assert path_of(root.find("Redirect").text) == f"/voice/hold?r={request_id}&n=4"
    again = post(client, settings, path_of(root.find("Redirect").text))
    assert "No interpreter could be reached" in said(again), "the loop says it again until the call moves"


def test_the_hold_loop_tells_the_officer_whose_interpreter_left(client, settings, ctx):
    request_id = _connected_then_left(client, settings, ctx)
    root = post(client, settings, f"/voice/hold?r={request_id}&n=0")
    assert {el.tag for el in root} <= WAIT_MUSIC_VERBS
    assert "The interpreter has left the call" in said(root) and "press 1" in said(root)


def test_once_every_redirect_was_refused_the_hold_loop_asks_the_officer_to_call_again(client, settings, ctx):
    request_id = _failed(client, settings, ctx)
    Dispatcher(ctx).caller_not_told(request_id)
    root = post(client, settings, f"/voice/hold?r={request_id}&n=9")
    assert "No interpreter could be reached" in said(root)
    assert "hang up and call again" in said(root) and "press 1" not in said(root)


def test_a_refused_redirect_raises_to_be_tried_again_and_a_later_try_gets_through(client, settings, ctx, telephony):
    request_id = _failed(client, settings, ctx)
    telephony.refuse_redirects = 1
    with pytest.raises(TelephonyError):
        Dispatcher(ctx).tell_caller(request_id, paths.FAILED)
    assert telephony.redirects == []
    Dispatcher(ctx).tell_caller(request_id, paths.FAILED)
    [(sid, url)] = telephony.redirects
    assert sid == OFFICER_CALL and path_of(url) == f"/voice/failed?r={request_id}"


def test_a_late_redirect_leaves_an_officer_who_has_moved_on_alone(client, settings, ctx, telephony):
    """The officer got the menu after all (a try Twilio applied but answered 500 to) and
    pressed 1: a retry of the old redirect must not pull them out of their new request."""
    old = _failed(client, settings, ctx)
    root = post(client, settings, f"/voice/retry?r={old}", Digits="1")
    assert root.find("Dial/Conference").text != f"req-{old}"
    Dispatcher(ctx).tell_caller(old, paths.FAILED)
    assert telephony.redirects == []


def test_the_redirect_job_is_retried_with_backoff(settings, r):
    from workers.jobqueue import RQJobs, redirect_retry

    defaults = redirect_retry(replace(settings, redirect_retry_after=5))
    assert (defaults.max, defaults.intervals) == (8, [5, 10, 20, 40, 60, 60, 60, 60])
    jobs = RQJobs.from_settings(settings)
    jobs.queue = Queue("officer-told-submit", connection=r)  # not one the e2e stack's workers take from
    jobs.submit("tell_caller", "R00001", paths.FAILED)
    [job] = jobs.queue.jobs
    assert job.func_name == "workers.dispatching.tell_caller" and job.args == ("R00001", paths.FAILED)
    assert job.retries_left == 8 and job.retry_intervals == redirect_retry(settings).intervals


def test_after_the_last_refused_try_the_hold_loop_stops_promising_the_menu(
    client, settings, ctx, telephony, r, monkeypatch
):
    """The job itself, run by a real RQ worker: refused, RQ runs it again; refused on its
    last try, the request is marked so the hold loop asks the officer to call again."""
    import workers.dispatching

    request_id = _failed(client, settings, ctx)
    telephony.refuse_redirects = 5
    monkeypatch.setattr(workers.dispatching, "dispatcher", lambda: Dispatcher(ctx))
    queue = Queue("officer-told", connection=r)
    job = queue.enqueue(workers.dispatching.tell_caller, request_id, paths.FAILED, retry=Retry(max=1))
    SimpleWorker([queue], connection=r).work(burst=True)
    assert telephony.refuse_redirects == 3, "tried, refused, tried again once (max=1), refused"
    assert job.id in FailedJobRegistry(queue=queue).get_job_ids()
    assert ctx.requests.get(request_id).extra.get("caller_not_told") == "1"
    assert "hang up and call again" in said(post(client, settings, f"/voice/hold?r={request_id}&n=1"))
