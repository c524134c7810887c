"""The sergeant's dashboard in headless Chromium against the whole running stack.

A simulated officer calls in; the test watches the request appear on the page and
change state as the workers ring liaisons, sends it to the vendor with the keyboard
through the confirmation dialog, and sees the vendor connect and the call finish — all
from the rows the event stream carries, with the page's snapshot re-reads refused.
"""

from __future__ import annotations

import re
import time

import pytest

from dispatch.liaisons import LiaisonBoard
from dispatch.states import State
from tests.support.browser import MARKS, tabs

pytestmark = MARKS


@pytest.fixture
def page():
    with tabs() as open_tab:
        yield open_tab({"width": 768, "height": 1024})  # a tablet, portrait


def sign_in(page, stack) -> None:  # type: ignore[no-untyped-def]
    page.goto(stack.base_url + "/dashboard")
    assert page.url.endswith("/dashboard/signin")
    page.get_by_label("Username").fill("sergeant")
    page.get_by_label("Password").fill("sergeant-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    page.locator("#live[data-state='live']").wait_for()  # the event stream is connected


def refuse_snapshot_reads(page) -> list[str]:
    """From now on the page cannot re-read the snapshot: what it shows comes from the stream."""
    refused: list[str] = []

    def snapshot(route) -> None:  # type: ignore[no-untyped-def]
        refused.append(route.request.url)
        route.abort("failed")

    page.route("**/dashboard/api/snapshot*", snapshot)
    return refused


def table(page, selector: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """A table as a sergeant reads it: each row's id, its highlighting, its state text, its buttons."""
    return [
        tuple(r)
        for r in page.eval_on_selector_all(
            selector + " tbody tr",
            """rows => rows.map(tr => [
        tr.dataset.id, tr.className, (tr.querySelector('.state') || {}).textContent || '',
        Array.from(tr.querySelectorAll('button')).map(b => b.textContent)])""",
        )
    ]  # type: ignore[misc]


def keep_ringing_spanish(stack) -> None:
    """Every liaison speaks Spanish today and nobody answers: the request keeps ringing
    one liaison after another for the whole liaison window, so it stays waiting."""
    board = LiaisonBoard(stack.redis)
    for liaison in stack.roster.liaisons:
        board.set_languages(liaison.id, ["spa"])
    stack.sim.set_parties({liaison.phone: {"answer": "never"} for liaison in stack.roster.liaisons})


def expect_vendor(stack) -> None:
    from dispatch.languages import default_catalog

    vendor = stack.roster.vendor
    code = vendor.language_codes.get("spa") or default_catalog().get("spa").vendor_code
    stack.sim.set_parties(
        {vendor.number: {"answer": "after", "answer_after": 0.2, "expect_send_digits": vendor.dtmf_for(code)}}
    )


def test_sergeant_watches_a_call_and_sends_it_to_the_vendor(stack, page):
    from dispatch.languages import default_catalog
    from dispatch.requests import RequestStore

    keep_ringing_spanish(stack)
    expect_vendor(stack)
    sign_in(page, stack)
    assert page.locator("#active-empty").is_visible()
    page.wait_for_load_state("networkidle")  # the page's catch-up read on connecting is done
    refused = refuse_snapshot_reads(page)

    line = stack.roster.precincts[0].lines[0]
    call = stack.sim.place_call(
        line,
        stack.roster.service_number,
        inputs=[{"digits": default_catalog().get("spa").keypad + "#"}, {"digits": "1"}],
    )

    # It appears, ringing a liaison, without a reload.
    row = page.locator("#active tbody tr").first
    row.locator(".state-offering").wait_for(timeout=8_000)
    request_id = row.get_attribute("data-id")
    assert request_id and re.fullmatch(r"R\d{5}", request_id)
    text = row.inner_text()
    assert "Spanish" in text and stack.roster.precincts[0].name in text
    assert line not in page.content() and line[2:] not in page.content()  # the caller is masked
    assert row.locator(".caller").inner_text().endswith(line[-4:])

    # Send it to the vendor, by keyboard, through the confirmation.
    row.get_by_role("button", name="Send to vendor").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#confirm")
    dialog.wait_for(state="visible")
    assert request_id in dialog.inner_text()
    page.keyboard.press("Tab")  # from "Go back" to "Yes, send to vendor"
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")

    # The row follows: the vendor is dialled, then connected.
    vendor_row = page.locator(f"#active tr[data-id='{request_id}']")
    vendor_row.locator(".state-vendor_dialing, .state-connected").wait_for(timeout=8_000)
    vendor_row.locator(".state-connected").wait_for(timeout=10_000)
    assert stack.roster.vendor.name in vendor_row.inner_text()
    history = RequestStore(stack.redis, 3600).history(request_id)
    assert [h["data"].get("reason") for h in history if h["event"] == "vendor_dial"] == ["sent by sergeant"]
    page.locator("#audit-list li", has_text=f"sent to the vendor {request_id} — done").wait_for()

    # The officer hangs up: the request moves to the finished list.
    stack.sim.hangup(call)
    page.locator(f"#finished tr[data-id='{request_id}']", has_text="Completed (vendor)").wait_for(timeout=10_000)
    assert page.locator(f"#active tr[data-id='{request_id}']").count() == 0
    assert page.locator("#active-empty").is_visible() and not page.locator("#finished-empty").is_visible()
    assert stack.request(request_id).state == State.COMPLETED
    assert [url for url in refused if "max_age" not in url] == []  # (a figures refresh may have been due)


def test_rows_put_in_place_match_a_full_render(stack, page):
    """Requests and liaisons change while the page only applies the stream's rows: the order
    (urgent first, then longest wait, connected below, finished newest first), the wait-alert
    highlighting and the buttons are what a fresh page load draws."""
    from dispatch.requests import RequestStore

    sign_in(page, stack)
    page.wait_for_load_state("networkidle")
    refused = refuse_snapshot_reads(page)
    store = RequestStore(stack.redis, stack.settings.retention_seconds)
    precinct = stack.roster.precincts[0]

    def opened(language: str, name: str, urgent: bool = False, waited: float = 0.0) -> str:
        # Queued directly in the store: nobody routes it, so it stays as set here.
        fields = {
            "channel": "voice",
            "language": language,
            "language_name": name,
            "urgent": urgent,
            "caller": precinct.lines[0],
            "caller_kind": "precinct",
            "precinct": precinct.id,
            "unit": "Sector B",
        }
        if waited:
            fields["queued_at"] = time.time() - waited
        return store.create(fields, state=State.QUEUED).id

    old = opened("spa", "Spanish", waited=stack.settings.wait_alert_seconds + 5)
    later = opened("rus", "Russian")
    urgent = opened("tir", "Tigrinya", urgent=True)
    page.locator("#active tbody tr").nth(2).wait_for()
    assert [r[0] for r in table(page, "#active")] == [urgent, old, later]
    page.locator(f"#active tr.alert[data-id='{old}'] .alert-badge:not([hidden])").wait_for()
    assert page.locator(f"#active tr.alert[data-id='{later}']").count() == 0

    store.apply(old, "vendor_dial")
    store.apply(old, "vendor_connected", {"handler_kind": "vendor", "handler_name": stack.roster.vendor.name})
    store.apply(later, "vendor_dial")
    store.apply(urgent, "cancel", {"outcome": "Cancelled by sergeant"})
    board = LiaisonBoard(stack.redis)
    off = [liaison.id for liaison in stack.roster.liaisons[:2]]
    for lid in off:
        board.set_duty(lid, False)  # off duty: their rows move below those on duty
    page.locator(f"#finished tr[data-id='{urgent}']").wait_for()
    page.locator(f"#active tr[data-id='{old}'] .state-connected").wait_for()
    page.locator(f"#active tr[data-id='{later}'] .state-vendor_dialing").wait_for()
    for lid in off:
        page.locator(f"#liaison-table tr[data-id='{lid}'] .liaison-off").wait_for()
    assert [r[0] for r in table(page, "#active")] == [later, old]
    assert precinct.lines[0][2:] not in page.content()
    assert [url for url in refused if "max_age" not in url] == []

    def board_now() -> tuple:
        return (
            table(page, "#active"),
            table(page, "#finished"),
            table(page, "#liaison-table"),
            page.locator("#queue-count").inner_text(),
            page.locator("#liaison-count").inner_text(),
        )

    live = board_now()
    page.unroute("**/dashboard/api/snapshot*")
    page.reload()
    page.locator("#live[data-state='live']").wait_for()
    assert board_now() == live


def test_the_page_reconnects_by_itself_when_the_stream_fails(stack, page):
    """A proxy's error page (the browser's EventSource gives up) and then a refused connection
    (the server restarting): the page gets back to live on its own and keeps updating.
    Resuming after the last event id is covered at the Flask level (test_dashboard_stream)."""
    attempts: list[str] = []

    def stream(route) -> None:  # type: ignore[no-untyped-def]
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.fulfill(status=502, body="Bad Gateway")
        elif len(attempts) == 2:
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route("**/dashboard/stream*", stream)
    sign_in(page, stack)  # waits for "Live": only the third attempt can get there
    assert len(attempts) >= 3

    stack.sim.set_parties({stack.roster.vendor.number: {"answer": "after", "answer_after": 0.2}})
    stack.sim.place_call(
        stack.roster.precincts[1].lines[0], stack.roster.service_number, inputs=[{"digits": "0#"}]
    )  # language unknown: straight to the vendor
    page.locator("#active tbody tr .state-connected").wait_for(timeout=10_000)
    assert page.locator("#live").inner_text() == "Live"


def test_an_idle_session_returns_the_page_to_sign_in(stack, page):
    from dispatch import events, keys

    sign_in(page, stack)
    for key in stack.redis.scan_iter(keys.dashboard_session("*")):
        stack.redis.delete(key)  # what the idle timeout does
    events.publish(stack.redis, "liaison_duty", {"liaison": "l-chen"})  # the stream checks the session after it
    page.wait_for_url(re.compile(r"/dashboard/signin\?expired=1$"))
    assert "signed out after" in page.locator(".notice").inner_text()


def test_a_pin_caller_shows_masked_with_a_tag_and_a_pin_lock_as_an_alert(stack, page):
    """A request from an unregistered phone (precinct + unit PIN) is tagged PIN and masked; a
    precinct whose PIN entry is locked appears at the top, live and on a fresh load, until
    the lock ends. The attack itself is in test_attacks_pin.py; this is what sergeants see."""
    from dispatch.languages import default_catalog
    from dispatch.pin_guard import PinGuard

    keep_ringing_spanish(stack)
    sign_in(page, stack)
    page.wait_for_load_state("networkidle")
    refused = refuse_snapshot_reads(page)
    assert page.locator("#alerts").is_hidden()

    stranger, precinct = "+13475550388", stack.roster.precincts[0]
    stack.sim.place_call(
        stranger,
        stack.roster.service_number,
        inputs=[
            {"digits": precinct.id + "#"},
            {"digits": precinct.pin + "#"},
            {"digits": default_catalog().get("spa").keypad + "#"},
            {"digits": "1"},
        ],
    )
    row = page.locator("#active tbody tr", has=page.locator(".tag", has_text="PIN"))
    row.wait_for(timeout=8_000)
    assert row.locator(".caller").inner_text() == "+1•••••••0388"
    assert stranger not in page.content() and stranger[2:] not in page.content()

    guard = PinGuard(stack.redis, stack.roster, failures_per_hour=1, lockout_seconds=120.0)
    assert guard.check(precinct.id, "00000000").locked_until is not None
    alert = page.locator("#alert-list li", has_text=f"PIN entry locked: {precinct.name} until")
    alert.wait_for()
    assert page.locator("#alerts").is_visible() and "desk sergeant" in alert.inner_text()
    assert [url for url in refused if "max_age" not in url] == []

    page.unroute("**/dashboard/api/snapshot*")
    page.reload()
    page.locator("#alert-list li", has_text=f"PIN entry locked: {precinct.name} until").wait_for()


def test_a_connected_request_shows_how_long_it_has_been_connected(stack, page):
    """A call connected two minutes ago reads 2:0x in its Connected column, and the figure moves
    on by itself, so a sergeant can tell a long call (or a ghost) at a glance. The widths, the
    phone's cards and the mark past CONNECTED_ALERT_MINUTES: test_e2e_dashboard_screen."""
    from dispatch.requests import RequestStore

    store = RequestStore(stack.redis, stack.settings.retention_seconds)
    precinct = stack.roster.precincts[0]
    rec = store.create(
        {
            "channel": "voice",
            "language": "spa",
            "language_name": "Spanish",
            "caller": precinct.lines[0],
            "caller_kind": "precinct",
            "precinct": precinct.id,
        },
        state=State.QUEUED,
    )
    store.apply(rec.id, "vendor_dial")
    store.apply(
        rec.id,
        "vendor_connected",
        {"handler_kind": "vendor", "handler_name": stack.roster.vendor.name, "connected_at": time.time() - 125},
    )
    sign_in(page, stack)
    timer = page.locator(f"#active tr[data-id='{rec.id}'] td.connected .connected-for")
    timer.wait_for()
    first = timer.inner_text()
    assert re.fullmatch(r"2:0\d", first.strip()), first
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).textContent !== before",
        arg=[f"#active tr[data-id='{rec.id}'] .connected-for", first],
    )
    assert re.fullmatch(r"2:\d\d", timer.inner_text().strip())


def test_refusals_are_listed_apart_from_the_actions_with_their_count(page, stack):
    from dispatch.audit import AuditLog

    refusals = AuditLog(stack.redis, 3600)
    for _ in range(300):  # what 300 texts from unregistered numbers leave (tests/test_attacks_signin.py)
        refusals.refused("sms_request", "unregistered numbers", "", "refused: unregistered number")
    sign_in(page, stack)
    page.locator("#audit-list li", has_text="signed in").wait_for()
    (line,) = page.locator("#refusal-list li").all_inner_texts()
    assert "sms request by unregistered numbers — refused: unregistered number ×300 this hour" in line
