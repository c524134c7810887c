"""The queue and liaison view model: order, waits, alerts, handlers, masking (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.duty import parse_duty
from dispatch.liaisons import LiaisonStatus
from dispatch.queue_view import build_liaisons, build_queue, queue_row
from dispatch.records import RequestRecord
from dispatch.roster import Liaison

NOW = 1_700_000_000.0
CALLER = "+17185550101"
NAMES = {"l-a": "Ana Garcia", "l-b": "Luis Reyes"}


def rec(n: int, state: str, queued_ago: float, **extra: str) -> RequestRecord:
    raw = {
        "id": f"R{n:05d}",
        "state": state,
        "language_name": "Spanish",
        "caller": CALLER,
        "precinct": "75",
        "unit": "Sector B",
        "created_at": repr(NOW - queued_ago - 5),
        "queued_at": repr(NOW - queued_ago),
    }
    raw.update(extra)
    return RequestRecord.from_hash(raw)


def view(open_records, finished=(), alert_after=30.0, limit=25):  # type: ignore[no-untyped-def]
    return build_queue(
        open_records,
        finished,
        NOW,
        alert_after,
        precinct_name=lambda p: f"{p}th Precinct",
        liaison_name=lambda liaison_id: NAMES.get(liaison_id, liaison_id),
        vendor_name="LanguageLine",
        finished_limit=limit,
    )


def test_waiting_requests_come_first_urgent_then_longest_wait_then_connected():
    board = view(
        [
            rec(1, "connected", 100, connected_at=repr(NOW - 80), handler_kind="liaison", handler_name="Ana Garcia"),
            rec(2, "queued", 10),
            rec(3, "offering", 50, offer_liaison="l-b"),
            rec(4, "queued", 5, urgent="1"),
            rec(5, "vendor_dialing", 40),
            rec(6, "connected", 200, connected_at=repr(NOW - 150), handler_kind="vendor", handler_name="LanguageLine"),
        ]
    )
    assert [r.id for r in board.active] == ["R00004", "R00003", "R00005", "R00002", "R00006", "R00001"]


def test_wait_ticks_for_waiting_and_freezes_at_time_to_interpreter_once_connected():
    waiting = queue_row(rec(1, "queued", 12.34), NOW, 30, str, str, "V")
    assert waiting.wait_seconds == 12.3 and waiting.since == NOW - 12.34
    connected = queue_row(rec(2, "connected", 100, connected_at=repr(NOW - 70)), NOW, 30, str, str, "V")
    assert connected.wait_seconds == 30.0 and connected.time_to_interpreter == 30.0
    assert not connected.alert  # connected after 30 s: no longer anyone's emergency


def test_alert_only_beyond_the_threshold_and_only_while_waiting():
    at = [queue_row(rec(1, "queued", s), NOW, 30, str, str, "V").alert for s in (29.9, 30.0, 30.1)]
    assert at == [False, False, True]
    assert queue_row(rec(2, "offering", 90), NOW, 30, str, str, "V").alert
    assert not queue_row(rec(3, "completed", 90, ended_at=repr(NOW)), NOW, 30, str, str, "V").alert


def test_a_call_connected_past_the_bound_is_marked_while_an_interpreter_is_on_the_line():
    """CONNECTED_ALERT_MINUTES: a call nobody hung up (or a ghost) stands out; waiting and
    finished rows never carry this mark, and without a bound nothing is marked."""
    hour = 3600.0

    def marked(state: str, connected_ago: float, bound: float | None = hour, **extra: str) -> bool:
        record = rec(1, state, connected_ago + 10, connected_at=repr(NOW - connected_ago), **extra)
        return queue_row(record, NOW, 30, str, str, "V", connected_alert_after=bound).connected_alert

    assert [marked("connected", ago) for ago in (hour - 1, hour, hour + 1)] == [False, False, True]
    assert marked("rejoining", hour + 1), "the interpreter still waits on the line"
    assert not marked("completed", hour + 1, ended_at=repr(NOW))
    assert not marked("connected", 10 * hour, bound=None)
    assert not queue_row(rec(2, "queued", 2 * hour), NOW, 30, str, str, "V", connected_alert_after=hour).connected_alert
    board = build_queue(
        [rec(3, "connected", hour + 70, connected_at=repr(NOW - hour - 60))],
        [],
        NOW,
        30.0,
        precinct_name=str,
        liaison_name=str,
        vendor_name="V",
        connected_alert_after=hour,
    )
    assert board.as_dict()["connected_alert_after"] == hour and board.active[0].connected_alert


def test_handler_is_the_ringing_liaison_the_vendor_or_whoever_connected():
    board = view(
        [
            rec(1, "offering", 3, offer_liaison="l-a"),
            rec(2, "vendor_dialing", 2),
            rec(3, "connected", 9, connected_at=repr(NOW - 1), handler_kind="liaison", handler_name="Luis Reyes"),
            rec(4, "queued", 1),
        ]
    )
    rows = {r.id: (r.handler, r.handler_kind) for r in board.active}
    assert rows == {
        "R00001": ("Ana Garcia", "liaison"),
        "R00002": ("LanguageLine", "vendor"),
        "R00003": ("Luis Reyes", "liaison"),
        "R00004": ("", ""),
    }


def test_the_caller_number_is_masked_and_the_precinct_named():
    row = queue_row(rec(1, "queued", 1), NOW, 30, lambda p: f"{p}th Precinct", str, "V")
    assert row.caller != CALLER and row.caller.endswith("0101") and "718555" not in row.caller
    assert CALLER not in repr(row.as_dict())
    assert (row.precinct, row.unit) == ("75th Precinct", "Sector B")


def test_actions_offered_follow_the_state_machine():
    def allowed(state: str) -> tuple[bool, bool, bool]:
        row = queue_row(rec(1, state, 1, ended_at=repr(NOW)), NOW, 30, str, str, "V")
        return row.can_send_to_vendor, row.can_cancel, row.can_offer_again

    assert allowed("queued") == (True, True, True)
    assert allowed("offering") == (True, True, False)
    assert allowed("vendor_dialing") == (False, True, False)
    assert allowed("new") == (False, True, False)
    assert allowed("connected") == (False, False, False)
    assert allowed("completed") == (False, False, False)


def test_finished_are_newest_first_with_an_outcome_and_bounded():
    finished = [
        rec(1, "completed", 100, ended_at=repr(NOW - 50), handler_kind="vendor", connected_at=repr(NOW - 90)),
        rec(2, "failed", 100, ended_at=repr(NOW - 10), outcome="vendor busy"),
        rec(3, "abandoned", 100, ended_at=repr(NOW - 30)),
        rec(4, "cancelled", 100, ended_at=repr(NOW - 20)),
    ]
    board = view([], finished, limit=3)
    assert [(r.id, r.outcome) for r in board.finished] == [
        ("R00002", "Failed: vendor busy"),
        ("R00004", "Cancelled"),
        ("R00003", "Caller hung up"),
    ]
    assert view([], finished).finished[-1].outcome == "Completed (vendor)"


def liaison(lid: str, duty: str = "always", languages: tuple[str, ...] = ("spa",)) -> Liaison:
    return Liaison(lid, NAMES[lid], "+16465550120" if lid == "l-a" else "+16465550121", languages, parse_duty([duty]))


def status(
    lid: str, state: str = "idle", duty: str = "", request: str = "", languages: tuple[str, ...] | None = None
) -> LiaisonStatus:
    return LiaisonStatus(lid, state, request, NOW - 60, None, duty, languages)


def test_liaison_rows_show_duty_state_and_todays_languages():
    monday_noon = datetime(2024, 1, 8, 17, 0, tzinfo=UTC)
    names = {"spa": "Spanish", "por": "Portuguese", "kor": "Korean"}.get
    rows = build_liaisons(
        [liaison("l-a"), liaison("l-b", duty="sat,sun 08:00-20:00", languages=("kor",))],
        [status("l-a", "ringing", request="R00007", languages=("spa", "por")), status("l-b")],
        monday_noon,
        lambda c: names(c) or c,
    )
    a, b = rows
    assert (a.name, a.state, a.state_label, a.request, a.on_duty) == (
        "Ana Garcia",
        "ringing",
        "Ringing",
        "R00007",
        True,
    )
    assert a.languages == ("Spanish", "Portuguese")
    assert (b.state, b.on_duty, b.duty_override) == ("off", False, "")
    assert "+16465550120" not in repr(a.as_dict()) and a.phone.endswith("0120")


def test_a_duty_override_wins_and_a_call_in_progress_still_shows():
    at = datetime(2024, 1, 8, 17, 0, tzinfo=UTC)
    rows = build_liaisons(
        [liaison("l-a"), liaison("l-b")],
        [status("l-a", "on_call", duty="off", request="R00002"), status("l-b", duty="off")],
        at,
        str,
    )
    by_id = {r.id: r for r in rows}
    assert (by_id["l-a"].state, by_id["l-a"].on_duty) == ("on_call", False)
    assert (by_id["l-b"].state, by_id["l-b"].duty_override) == ("off", "off")
    on = build_liaisons([liaison("l-b", duty="sat 08:00-09:00")], [status("l-b", duty="on")], at, str)
    assert (on[0].state, on[0].on_duty) == ("idle", True)


def test_a_row_as_json_carries_every_field_and_is_a_copy():
    """as_dict is the row the page draws: every field, and changing it changes nothing else."""
    import dataclasses
    import json

    row = queue_row(rec(1, "connected", 100, connected_at=repr(NOW - 70)), NOW, 30, str, str, "V")
    out = row.as_dict()
    assert out == dataclasses.asdict(row) and json.loads(json.dumps(out)) == out
    out["id"] = "changed"
    assert row.id == "R00001"


def test_a_dropped_officer_s_request_stays_with_the_connected_and_shows_drops_and_rejoins():
    board = view(
        [
            rec(
                1,
                "connected",
                100,
                connected_at=repr(NOW - 90),
                handler_kind="liaison",
                handler_name="Ana Garcia",
                drops="1",
                rejoins="1",
            ),
            rec(
                2,
                "rejoining",
                200,
                connected_at=repr(NOW - 150),
                handler_kind="vendor",
                handler_name="LanguageLine",
                drops="1",
            ),
            rec(3, "queued", 10),
        ],
        finished=[
            rec(
                4,
                "completed",
                300,
                connected_at=repr(NOW - 250),
                ended_at=repr(NOW - 5),
                handler_kind="liaison",
                outcome="officer did not rejoin",
                drops="1",
            )
        ],
    )
    assert [(r.id, r.state_label, r.handler, r.drops, r.rejoins, r.alert) for r in board.active] == [
        ("R00003", "Waiting", "", 0, 0, False),
        ("R00002", "Officer dropped, rejoining", "LanguageLine", 1, 0, False),
        ("R00001", "Connected, officer rejoined", "Ana Garcia", 1, 1, False),
    ]
    assert board.active[1].wait_seconds == 50.0, "rejoining keeps the time to an interpreter, not a wait"
    assert not board.active[1].can_cancel and not board.active[1].can_send_to_vendor
    assert board.finished[0].outcome == "Completed (liaison): officer did not rejoin"
