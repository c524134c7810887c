"""An officer is never left in silence when the network refuses to move their call.

End to end through the running stack (simulator, real SDK, RQ workers, Redis): the
request ends while the officer waits in its conference (no interpreter reachable, or the
interpreter left), and the simulator refuses the REST redirect that would take the
officer's call to the "press 1 to try again" menu, every try of the adapter (500 three
times). The officer hears what happened from the hold loop meanwhile; RQ tries the
redirect again later, and once the network takes it the officer gets the menu and a new
request.
"""

from __future__ import annotations

import pytest

from adapters.rq_jobs import redirect_retry
from dispatch.languages import default_catalog
from dispatch.states import State
from simulator.eventlog import mask_text
from tests.support.faults import SCHEDULING_SLACK, history_times

pytestmark = pytest.mark.e2e

RQ_SCHEDULER_POLL = 1.0  # RQ's scheduler moves a retry that is due onto its queue within a second


def _line(stack) -> str:
    return stack.roster.precincts[0].lines[0]


def _refused_redirects(stack, call: str) -> list[str]:
    ending = mask_text(f"/Calls/{call}.json answered 500")  # as the log masks digit runs, in sids too
    return [
        e["text"] for e in stack.sim.log() if e["text"].startswith("fault: REST POST") and e["text"].endswith(ending)
    ]


def _said(stack, call: str) -> list[str]:
    return [e["text"] for e in stack.sim.log() if e.get("call") == call]


def _retry_bound(stack, tries: int) -> float:
    """The longest a redirect refused `tries` times waits for its next try to run."""
    s = stack.settings
    return sum(redirect_retry(s).intervals[:tries]) + tries * RQ_SCHEDULER_POLL + SCHEDULING_SLACK


def test_a_refused_redirect_the_officer_hears_the_failure_on_hold_and_can_try_again(stack):
    s = stack.settings
    stack.sim.set_parties({stack.roster.vendor.number: {"answer": "after", "answer_after": 0.1}})
    stack.sim.faults([{"status": 500, "count": 2 * s.twilio_retries}])  # both vendor numbers refused
    call = stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "0#"}, {"digits": "1"}])
    # Every redirect of this officer's call is refused until the test says otherwise.
    stack.sim.faults([{"status": 500, "count": 1000, "method": "POST", "path": f"/Calls/{call}.json"}])
    failed = stack.wait_request(lambda r: r.state == State.FAILED, what="failed request")
    assert [e for _, e, _ in history_times(stack, failed.id)] == ["created", "vendor_dial", "vendor_retry", "fail"]

    # The hold loop tells the officer, still in the room, while the redirect is refused.
    heard = stack.sim.wait_for(
        lambda: [
            t for t in _said(stack, call) if t.startswith("wait music: say") and "No interpreter could be reached" in t
        ],
        timeout=10,
    )
    assert "press 1 to request an interpreter again" in heard[0]
    stack.sim.wait_for(lambda: len(_refused_redirects(stack, call)) >= s.twilio_retries, timeout=10)
    assert stack.sim.call(call)["conference"] == failed.conference, "still on hold, not dropped"
    assert stack.request(failed.id).state == State.FAILED

    # The network takes redirects again: a later try moves the officer to the menu, and 1 retries.
    tries = len(_refused_redirects(stack, call)) // s.twilio_retries + 1
    stack.sim.clear_faults()
    retried = stack.wait_request(
        lambda r: r.previous == failed.id, timeout=_retry_bound(stack, tries), what="a new request after pressing 1"
    )
    assert retried.officer_call == call
    print(
        f"\nredirect refused {len(_refused_redirects(stack, call))} times; the officer heard the failure "
        f"{len(heard)}+ times on hold, then got the menu"
    )
    said = _said(stack, call)
    menu = next(i for i, t in enumerate(said) if "redirected by the app → /voice/failed" in t)
    assert any("No interpreter could be reached" in t for t in said[:menu]), "heard on hold before the menu"
    assert any("Press 1 to request an interpreter again" in t for t in said[menu:])
    connected = stack.wait_request(
        lambda r: r.id == retried.id and r.state == State.CONNECTED, timeout=10, what="the new request connected"
    )
    assert connected.handler_kind == "vendor"


def test_an_interpreter_leaving_while_the_redirect_is_refused_still_reaches_the_officer(stack):
    """The room has started, so there is no hold loop: the retried redirect alone brings
    the officer the "interpreter has left" menu."""
    s = stack.settings
    liaison = next(each for each in stack.roster.liaisons if "spa" in each.languages)
    stack.sim.set_parties({each.phone: {"answer": "never"} for each in stack.roster.liaisons})
    stack.sim.set_parties({liaison.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}})
    from dispatch import keys

    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {liaison.id: 1})
    call = stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"digits": default_catalog().get("spa").keypad + "#"}, {"digits": "1"}, {"digits": "2"}],
    )
    stack.sim.faults([{"status": 500, "count": s.twilio_retries, "method": "POST", "path": f"/Calls/{call}.json"}])
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected to the liaison")
    [room] = stack.sim.wait_for(
        lambda: [c for c in stack.sim.conferences() if c["name"] == rec.conference and len(c["participants"]) == 2],
        timeout=10,
    )
    stack.sim.hangup(rec.handler_call)  # the liaison hangs up; the officer stays in the room
    done = stack.wait_request(
        lambda r: r.id == rec.id and r.state == State.COMPLETED, timeout=10, what="the liaison hung up"
    )
    assert done.handler_id == liaison.id
    stack.sim.wait_for(
        lambda: any("redirected by the app → /voice/dropped" in t for t in _said(stack, call)),
        timeout=_retry_bound(stack, 1),
    )
    assert len(_refused_redirects(stack, call)) == s.twilio_retries, "refused on the first try, taken on a later one"
    said = _said(stack, call)
    menu = next(i for i, t in enumerate(said) if "redirected by the app → /voice/dropped" in t)
    assert not any("The interpreter has left the call" in t for t in said[:menu]), "a started room plays no hold loop"
    stack.sim.wait_for(lambda: any("The interpreter has left the call" in t for t in _said(stack, call)[menu:]))
    stack.sim.wait_for(lambda: stack.sim.call(call)["status"] == "completed", timeout=10)  # pressed 2: goodbye
