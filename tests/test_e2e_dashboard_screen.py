"""The sergeant's screen in headless Chromium at a desk monitor (1366×768) and a phone (390×844).

The page is served by the Procfile's `web` entry under a real gunicorn: with its streams on
(as the `dashboard` process serves it) or off (as `web` does: the page polls). The board is
filled with the widest rows a real night brings — a ringing request with every action, the
longest language name in the catalog, a long liaison name, urgent and PIN tags, a dropped
officer, a call connected past CONNECTED_ALERT_MINUTES — written straight to the store (no
workers here, so nothing moves them). What is checked is what a sergeant notices: nothing of
the queue outside its panel, no sideways scroll, the actions visible and clickable, the
sections in the order they are needed, the badge telling how the page is kept up to date.

Set SCREENSHOT_DIR to keep the screenshots each test takes (they are in pytest's tmp_path
otherwise).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from dispatch.liaisons import LiaisonBoard
from dispatch.requests import RequestStore
from dispatch.states import State
from tests.support.browser import MARKS, tabs

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESK, id="1366x768"), pytest.param(PHONE, id="390x844")]
SAMPLE_ROSTER = Path(__file__).resolve().parents[1] / "config" / "roster.sample.yaml"
LONG_NAME = "Maria Guadalupe Fernández-Rodríguez"  # a liaison's name as the roster may hold it
LONG_LIAISON = "l-rahman"  # ... given to this sample liaison

pytestmark = MARKS


@pytest.fixture
def open_page():
    """open_page(size) -> a tab of that size; JavaScript errors on any of them fail the test."""
    with tabs() as open_tab:
        yield open_tab


@pytest.fixture
def long_roster(tmp_path) -> Path:
    """The sample roster with one liaison's name as long as real ones get."""
    path = tmp_path / "roster.yaml"
    text = SAMPLE_ROSTER.read_text(encoding="utf-8")
    assert 'name: "Farida Rahman"' in text
    path.write_text(text.replace('name: "Farida Rahman"', f'name: "{LONG_NAME}"'), encoding="utf-8")
    return path


@pytest.fixture
def served(gunicorn, r, long_roster):
    """served(streams=True) -> the app under gunicorn (the Procfile's web entry) on this test's Redis."""

    def start(streams: bool = True, **overrides: object):  # type: ignore[no-untyped-def]
        return gunicorn(roster_file=str(long_roster), dashboard_max_streams=24 if streams else 0, **overrides)

    return start


@pytest.fixture
def shots(tmp_path) -> Path:
    where = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def sign_in(page, base_url: str, live: str = "live") -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/dashboard")
    page.get_by_label("Username").fill("sergeant")
    page.get_by_label("Password").fill("sergeant-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    page.locator(f"#live[data-state='{live}']").wait_for()


def size_name(size: dict[str, int]) -> str:
    return f"{size['width']}x{size['height']}"


# ------------------------------------------------------------------ the board's rows


def fill_board(r, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The widest rows a night brings, in every state the queue shows; returns their ids by role."""
    from dispatch.languages import default_catalog

    store = RequestStore(r, settings.retention_seconds)
    catalog = default_catalog()
    longest = max(catalog.all(), key=lambda lang: len(lang.name))
    now = time.time()
    pin_caller = "+1•••••••0388"  # a PIN caller's number is only ever stored masked

    def opened(language, urgent: bool = False, waited: float = 5.0, pin: bool = False, precinct: str = "109") -> str:
        fields = {
            "channel": "voice",
            "language": language.id if language else None,
            "language_name": language.name if language else "Unknown language",
            "urgent": urgent,
            "caller": pin_caller if pin else "+17185550103",
            "caller_kind": "pin" if pin else "precinct",
            "precinct": precinct,
            "unit": "Sector B, Anti-Crime",
            "queued_at": now - waited,
        }
        return store.create(fields, state=State.QUEUED).id

    ids = {}
    ids["queued"] = opened(longest, urgent=True, waited=settings.wait_alert_seconds + 50, pin=True)
    ids["ringing"] = opened(catalog.get("ase") or longest, urgent=True, waited=20, pin=True)
    store.apply(ids["ringing"], "offer", {"offer_id": "o1", "offer_liaison": LONG_LIAISON, "offer_at": now - 3})
    LiaisonBoard(r).claim([LONG_LIAISON], ids["ringing"])
    ids["unknown"] = opened(None, waited=2, precinct="75")
    ids["dialling"] = opened(catalog.get("spa"), waited=12)
    store.apply(ids["dialling"], "vendor_dial")

    def connected(language, ago: float, handler: str, kind: str = "liaison") -> str:
        rid = opened(language, waited=ago + 17)
        if kind == "vendor":
            store.apply(rid, "vendor_dial")
            store.apply(
                rid, "vendor_connected", {"handler_kind": "vendor", "handler_name": handler, "connected_at": now - ago}
            )
        else:
            store.apply(rid, "offer", {"offer_id": "o" + rid, "offer_liaison": "l-garcia", "offer_at": now - ago - 5})
            store.apply(
                rid,
                "liaison_connected",
                {"handler_kind": "liaison", "handler_name": handler, "connected_at": now - ago},
            )
        return rid

    ids["connected"] = connected(longest, 125, LONG_NAME)
    ids["long_call"] = connected(
        catalog.get("rus"), settings.connected_alert_minutes * 60 + 200, "LanguageLine (sample)", kind="vendor"
    )
    ids["rejoining"] = connected(catalog.get("cmn"), 300, "Wei Chen")
    store.apply(ids["rejoining"], "officer_dropped")
    for n, (language, how) in enumerate(
        [("spa", "complete"), ("rus", "cancel"), ("ben", "fail"), ("hat", "abandon")] * 4
    ):
        rid = opened(catalog.get(language), waited=30 + n)
        if how == "complete":
            store.apply(rid, "vendor_dial")
            store.apply(
                rid,
                "vendor_connected",
                {"handler_kind": "vendor", "handler_name": "LanguageLine (sample)", "connected_at": now - 200},
            )
            store.apply(rid, "complete", {"outcome": "officer hung up"})
        else:
            store.apply(
                rid,
                how,
                {
                    "outcome": {
                        "cancel": "Cancelled by sergeant",
                        "fail": "no interpreter reached",
                        "abandon": "Caller hung up",
                    }[how]
                },
            )
    return ids


# ------------------------------------------------------------------ measuring

OUTSIDE = """(sel) => {
  // Every element drawn in `sel` that reaches past the panel's left or right edge.
  const panel = document.querySelector(sel), box = panel.getBoundingClientRect(), out = [];
  for (const e of panel.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if ((!r.width && !r.height) || e.closest(".sr-only")) continue;
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5) {
      out.push(`${e.tagName.toLowerCase()}.${e.className} "${(e.textContent || "").trim().slice(0, 40)}" ` +
               `${r.left.toFixed(0)}..${r.right.toFixed(0)} outside ${box.left.toFixed(0)}..${box.right.toFixed(0)}`);
    }
  }
  return out;
}"""

WIDTHS = "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"


def assert_fits(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate(OUTSIDE, selector) == [], f"parts of {selector} are outside its panel"
    doc, body, viewport = page.evaluate(WIDTHS)
    assert doc == body == viewport, f"the page is {doc} px wide in a {viewport} px window (sideways scroll)"


def assert_in_view_and_clickable(page, button) -> None:  # type: ignore[no-untyped-def]
    """Within the window's width (no sideways scroll to reach it) and the element hit there."""
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (button.inner_text(), box)
    button.click(trial=True)  # actionable: visible, stable, enabled, not covered by anything else


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("size", SIZES)
def test_the_widest_rows_fit_their_panel_with_every_action_in_reach(served, r, settings, open_page, shots, size):
    """1366×768 (the queue panel ~845 px) and 390×844: nothing of the queue outside its panel,
    the page exactly as wide as the window, each row's state and every action in view and clickable."""
    server = served()
    ids = fill_board(r, server.settings)
    page = open_page(size)
    sign_in(page, server.url)
    ringing = page.locator(f"#active tr[data-id='{ids['ringing']}']")
    ringing.locator(".state-offering").wait_for()
    assert LONG_NAME in ringing.inner_text()
    page.screenshot(path=str(shots / f"board-{size_name(size)}-screen.png"))
    page.screenshot(path=str(shots / f"board-{size_name(size)}-page.png"), full_page=True)

    assert_fits(page, "#queue")
    assert_fits(page, "#liaisons")
    for role in ("queued", "ringing", "rejoining", "long_call"):
        row = page.locator(f"#active tr[data-id='{ids[role]}']")
        state = row.locator(".state")
        state.scroll_into_view_if_needed()
        assert state.is_visible() and state.bounding_box()["x"] + state.bounding_box()["width"] <= size["width"]
    buttons = page.locator("#active button.act")
    # queued: send to vendor, offer again, cancel; ringing: send to vendor, cancel; dialling, unknown: ...
    assert buttons.count() >= 7
    for i in range(buttons.count()):
        assert_in_view_and_clickable(page, buttons.nth(i))
    assert [b.inner_text() for b in ringing.locator("button").all()] == ["Send to vendor", "Cancel"]

    # A click goes through to the confirmation, and back.
    ringing.get_by_role("button", name="Cancel").click()
    page.locator("dialog#confirm").wait_for(state="visible")
    assert ids["ringing"] in page.locator("#confirm-text").inner_text()
    page.get_by_role("button", name="Go back").click()
    page.locator("dialog#confirm").wait_for(state="hidden")

    # Recently finished, opened, fits too.
    details = page.locator("#finished-details")
    if not details.evaluate("d => d.open"):
        page.locator("#finished-details summary").click()
    page.locator("#finished tbody tr").first.wait_for()
    page.screenshot(path=str(shots / f"finished-{size_name(size)}.png"), full_page=True)
    assert_fits(page, "#finished-panel")


def test_no_window_width_pushes_anything_out_of_its_panel(served, r, open_page):
    """Not a fit at two sizes by luck: from a small phone to a wide monitor, every 20 px, each
    panel holds everything in it (the queue turns into cards where its table would not fit)."""
    server = served()
    ids = fill_board(r, server.settings)
    page = open_page(DESK)
    sign_in(page, server.url)
    page.locator(f"#active tr[data-id='{ids['ringing']}'] .state-offering").wait_for()
    for width in range(300, 1941, 20):
        page.set_viewport_size({"width": width, "height": 800})
        for panel in ("#queue", "#liaisons", "#today", "#finished-panel", "#audit", ".topbar"):
            assert page.evaluate(OUTSIDE, panel) == [], f"at {width} px, parts of {panel} are outside it"
        doc, body, viewport = page.evaluate(WIDTHS)
        assert doc == body == viewport == width, f"at {width} px the page is {doc} px wide"


@pytest.mark.parametrize("size", SIZES)
def test_sections_come_in_the_order_a_sergeant_needs(served, r, settings, open_page, shots, size):
    """Waiting, connected, liaisons, today, then recently finished (on a phone collapsed, with its count);
    bookings, planning rather than the night's work, below them."""
    server = served()
    ids = fill_board(r, server.settings)
    page = open_page(size)
    sign_in(page, server.url)
    page.locator(f"#active tr[data-id='{ids['connected']}']").wait_for()
    tops = page.evaluate(
        """(ids) => [
        document.querySelector(`#active tr[data-id='${ids.queued}']`),
        document.querySelector(`#active tr[data-id='${ids.connected}']`),
        document.querySelector('#liaisons'), document.querySelector('#today'),
        document.querySelector('#finished-panel')].map(e => e.getBoundingClientRect().top)""",
        ids,
    )
    summary = page.locator("#finished-details summary")
    assert summary.inner_text().strip() == "Recently finished (16)"
    if size is PHONE:
        assert tops == sorted(tops) and len(set(tops)) == 5, tops
        # The document's order is the order seen (read aloud, tabbed through).
        order = page.evaluate("""() => Array.from(document.querySelectorAll('main section.panel')).map(s => s.id)""")
        assert order == ["queue", "liaisons", "today", "finished-panel", "bookings", "audit"]
        assert not page.locator("#finished tbody tr").first.is_visible(), "finished rows start collapsed"
        summary.click()
        page.locator("#finished tbody tr").first.wait_for()
    else:
        # Two columns: the queue with recently finished under it, beside liaisons and today.
        assert tops[0] < tops[1] < tops[4] and tops[2] < tops[3]
        assert page.locator("#finished tbody tr").first.is_visible(), "finished rows start open on a desk"
        order = page.evaluate("""() => Array.from(document.querySelectorAll('main section.panel')).map(s => s.id)""")
        assert order == ["queue", "finished-panel", "liaisons", "today", "bookings", "audit"]


@pytest.mark.parametrize("size", SIZES)
def test_served_by_web_without_streams_the_page_polls_and_says_so(served, r, settings, open_page, shots, size):
    """The `web` process holds no event streams (/dashboard/stream answers 503): the page keeps
    itself up to date by polling, and its badge says "Updating every 3 s", not "Reconnecting…"."""
    server = served(streams=False)
    streams: list[int] = []
    page = open_page(size)
    page.on("response", lambda resp: streams.append(resp.status) if "/dashboard/stream" in resp.url else None)
    sign_in(page, server.url, live="polling")
    live = page.locator("#live")
    assert live.inner_text() == "Updating every 3 s"
    assert streams and set(streams) == {503}

    # It does update: a request opened now appears, and the badge has not changed.
    ids = fill_board(r, server.settings)
    page.locator(f"#active tr[data-id='{ids['ringing']}'] .state-offering").wait_for()
    page.screenshot(path=str(shots / f"polling-{size_name(size)}.png"))
    assert live.inner_text() == "Updating every 3 s" and live.get_attribute("data-state") == "polling"
    assert_fits(page, "#queue")


@pytest.mark.parametrize("size", SIZES)
def test_connected_calls_show_how_long_in_one_format_and_a_long_one_is_marked(served, r, open_page, shots, size):
    """A Connected column (a line on a card) that ticks; every duration m:ss (h:mm:ss past an
    hour), the Wait column included; a call connected longer than CONNECTED_ALERT_MINUTES is
    marked — also one that passes the bound while the page is open."""
    server = served(connected_alert_minutes=0.05)  # 3 s
    store = RequestStore(r, server.settings.retention_seconds)
    now = time.time()

    def connected(ago: float) -> str:
        rid = store.create(
            {
                "channel": "voice",
                "language": "spa",
                "language_name": "Spanish",
                "caller": "+17185550101",
                "caller_kind": "precinct",
                "precinct": "75",
                "queued_at": now - ago - 9.8,
            },
            state=State.QUEUED,
        ).id
        store.apply(rid, "vendor_dial")
        store.apply(
            rid,
            "vendor_connected",
            {"handler_kind": "vendor", "handler_name": "LanguageLine (sample)", "connected_at": now - ago},
        )
        return rid

    long_ago, just_now = connected(3725), connected(0)
    waiting = store.create(
        {
            "channel": "voice",
            "language": "rus",
            "language_name": "Russian",
            "caller": "+17185550101",
            "caller_kind": "precinct",
            "precinct": "75",
            "queued_at": now - 17,
        },
        state=State.QUEUED,
    ).id
    page = open_page(size)
    sign_in(page, server.url)
    long_row = page.locator(f"#active tr[data-id='{long_ago}']")
    long_row.locator(".connected-for").wait_for()
    shown = long_row.locator(".connected-for").inner_text()
    assert re.fullmatch(r"1:\d\d:\d\d", shown), "h:mm:ss past an hour"
    hours, minutes, secs = (int(x) for x in shown.split(":"))
    # Connected 3,725 s before `now`, plus however long the page took to open on this machine.
    assert 3725 <= hours * 3600 + minutes * 60 + secs <= 3725 + (time.time() - now) + 1, shown
    assert long_row.locator(".alert-badge.long").is_visible() and "long-call" in long_row.get_attribute("class")
    assert long_row.locator(".alert-badge.long").inner_text() == "over 3 s"
    assert "calls connected over 3 s" in page.locator("#queue .hint").inner_text()
    new_row = page.locator(f"#active tr[data-id='{just_now}']")
    assert re.fullmatch(r"0:0\d", new_row.locator(".connected-for").inner_text())
    # It passes the bound while the sergeant watches.
    page.locator(f"#active tr.long-call[data-id='{just_now}'] .alert-badge.long:not([hidden])").wait_for()
    page.screenshot(path=str(shots / f"connected-{size_name(size)}.png"))

    waits = page.locator("#active td.wait").all_inner_texts()
    assert len(waits) == 3 and all(re.fullmatch(r"(Wait(ing|ed) )?\d+:\d\d", w.strip()) for w in waits), waits
    assert page.locator(f"#active tr[data-id='{long_ago}'] td.wait").inner_text().strip().endswith("0:09")
    figures = page.locator("#figures dd").all_inner_texts()
    assert not any(re.search(r"\d s$", f) for f in figures), figures
    connected_cell = long_row.locator("td.connected")
    assert connected_cell.is_visible() and connected_cell.bounding_box()["width"] > 0
    assert page.locator(f"#active tr[data-id='{waiting}'] .connected-for").count() == 0
    assert_fits(page, "#queue")


def test_waiting_now_follows_the_queue_not_the_slow_figures(served, r, open_page, shots):
    """ "Waiting now" and "Connected now" in Today's figures move with the queue's rows, at once,
    though the page's snapshot (and with it the day's figures) is not re-read meanwhile."""
    server = served()
    page = open_page(DESK)
    sign_in(page, server.url)
    page.wait_for_load_state("networkidle")
    page.route("**/dashboard/api/snapshot*", lambda route: route.abort("failed"))
    figure = page.locator("#figures .figure", has_text="Waiting now").locator("dd")
    assert figure.inner_text() == "0"
    store = RequestStore(r, server.settings.retention_seconds)
    ids = [
        store.create(
            {
                "channel": "voice",
                "language": "spa",
                "language_name": "Spanish",
                "caller": "+17185550101",
                "caller_kind": "precinct",
                "precinct": "75",
            },
            state=State.QUEUED,
        ).id
        for _ in range(3)
    ]
    page.locator("#active tbody tr").nth(2).wait_for()
    page.wait_for_function("""() => document.querySelector('#queue-count').textContent.startsWith('(3 waiting')""")
    assert figure.inner_text() == "3"
    store.apply(ids[0], "vendor_dial")
    store.apply(
        ids[0],
        "vendor_connected",
        {"handler_kind": "vendor", "handler_name": "LanguageLine (sample)", "connected_at": time.time()},
    )
    page.locator(f"#active tr[data-id='{ids[0]}'] .state-connected").wait_for()
    assert page.locator("#queue-count").inner_text() == "(2 waiting, 1 connected)"
    assert figure.inner_text() == "2"
    assert page.locator("#figures .figure", has_text="Connected now").locator("dd").inner_text() == "1"


@pytest.mark.parametrize("size", SIZES)
def test_language_names_in_the_chart_are_whole(served, r, open_page, shots, size):
    """ "Unknown language" and the catalog's longest name are drawn whole, inside the chart."""
    server = served()
    ids = fill_board(r, server.settings)
    page = open_page(size)
    sign_in(page, server.url)
    page.locator(f"#active tr[data-id='{ids['queued']}']").wait_for()
    chart = page.locator("#language-chart")
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(shots / f"chart-{size_name(size)}.png"))
    labels = page.evaluate("""() => {
      const box = document.querySelector('#today').getBoundingClientRect();
      return Array.from(document.querySelectorAll('#language-chart .bar-label')).map(e => {
        const r = e.getBoundingClientRect();
        return [e.textContent, e.scrollWidth <= e.clientWidth && r.left >= box.left && r.right <= box.right];
      });
    }""")
    names = [name for name, _ in labels]
    assert "Unknown language" in names and "American Sign Language" in names
    assert all(whole for _, whole in labels), labels


def test_results_stay_listed_with_names_not_ids(served, r, open_page, shots):
    """An action's result is listed (newest first, the last five) and not replaced by the next
    announcement or taken away after a few seconds; the liaison is named there and in the audit."""
    server = served()
    ids = fill_board(r, server.settings)
    page = open_page(PHONE)
    page.clock.install()
    sign_in(page, server.url)
    page.locator(f"#active tr[data-id='{ids['dialling']}']").wait_for()

    def act(row, button: str) -> None:  # type: ignore[no-untyped-def]
        row.get_by_role("button", name=button).click()
        page.locator("#confirm-yes").click()
        page.locator("dialog#confirm").wait_for(state="hidden")

    act(page.locator(f"#liaison-table tr[data-id='{LONG_LIAISON}']"), "Off duty")
    results = page.locator("#result-list li")
    results.first.wait_for()
    assert results.first.inner_text().endswith(f"Off duty: {LONG_NAME} — done")
    page.locator("#audit-list li", has_text=f"put off duty {LONG_NAME} — done").wait_for()
    assert LONG_LIAISON not in page.locator("#audit-list").inner_text()
    assert LONG_LIAISON not in page.locator("#results").inner_text()

    act(page.locator(f"#active tr[data-id='{ids['unknown']}']"), "Offer again")
    page.locator("#result-list li").nth(1).wait_for()
    assert f"Offer again: {ids['unknown']} (Unknown language, 75th Precinct) — done" in results.first.inner_text()

    # A new request is announced, time passes: the results are still there.
    store = RequestStore(r, server.settings.retention_seconds)
    store.create(
        {
            "channel": "voice",
            "language": "spa",
            "language_name": "Spanish",
            "caller": "+17185550101",
            "caller_kind": "precinct",
            "precinct": "75",
        },
        state=State.QUEUED,
    )
    page.locator("#flash", has_text="New request").wait_for()
    page.clock.fast_forward("01:00")
    page.wait_for_function("() => document.querySelector('#flash').textContent === ''")
    assert results.count() == 2 and results.nth(1).inner_text().endswith(f"Off duty: {LONG_NAME} — done")
    page.locator("#results").screenshot(path=str(shots / "results-390x844.png"))
    assert_fits(page, "#results")

    for _ in range(5):  # only the last five are kept
        act(page.locator(f"#active tr[data-id='{ids['unknown']}']"), "Offer again")
    page.wait_for_function(
        "() => document.querySelector('#result-list li time') && "
        "!document.querySelector('#result-list').textContent.includes('Off duty')"
    )
    assert results.count() == 5
