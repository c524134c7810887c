"""Liaison claims on a real Redis: atomic, longest idle first, never two offers at once."""

from __future__ import annotations

import threading
import time

from dispatch import keys
from dispatch.liaisons import IDLE, ON_CALL, RINGING, WRAPUP, LiaisonBoard


def test_longest_idle_is_claimed_first(r):
    board = LiaisonBoard(r)
    board.sync(["a", "b", "c"])
    r.zadd(keys.LIAISONS_AVAILABLE, {"a": 300, "b": 100, "c": 200})
    assert board.claim(["a", "b", "c"], "R1") == "b"
    assert board.claim(["a", "b", "c"], "R2") == "c"
    assert board.status("b").state == RINGING and board.status("b").request == "R1"


def test_a_ringing_liaison_cannot_be_claimed_again(r):
    board = LiaisonBoard(r)
    board.sync(["a"])
    assert board.claim(["a"], "R1") == "a"
    assert board.claim(["a"], "R2") is None


def test_concurrent_claims_never_double_book(r, redis_server):
    board = LiaisonBoard(r)
    ids = [f"l{i}" for i in range(5)]
    board.sync(ids)
    won: list[str] = []
    lock = threading.Lock()

    def grab(n: int) -> None:
        mine = LiaisonBoard(redis_server.client())
        for k in range(20):
            got = mine.claim(ids, f"R{n}-{k}")
            if got:
                with lock:
                    won.append(got)

    threads = [threading.Thread(target=grab, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == sorted(ids)


def test_release_with_wrapup_delays_availability(r):
    board = LiaisonBoard(r)
    board.sync(["a"])
    board.claim(["a"], "R1")
    board.mark_on_call("a", "R1")
    assert board.status("a").state == ON_CALL
    assert board.release("a", "R1", wrapup=0.3, only_if=(ON_CALL,))
    assert board.status("a").state == WRAPUP
    assert board.claim(["a"], "R2") is None
    time.sleep(0.35)
    assert board.status("a").state == IDLE
    assert board.claim(["a"], "R2") == "a"


def test_release_for_another_request_or_state_is_refused(r):
    board = LiaisonBoard(r)
    board.sync(["a"])
    board.claim(["a"], "R1")
    assert not board.release("a", "R2")
    board.mark_on_call("a", "R1")
    assert not board.release("a", "R1", only_if=(RINGING,)), "a late no-answer must not free an accepted liaison"
    assert board.status("a").state == ON_CALL


def test_keep_place_restores_the_idle_time(r):
    board = LiaisonBoard(r)
    board.sync(["a", "b"])
    r.zadd(keys.LIAISONS_AVAILABLE, {"a": 100, "b": 200})
    board.claim(["a"], "R1")
    board.release("a", "R1", keep_place=True)
    assert board.claim(["a", "b"], "R2") == "a"


def test_sync_keeps_live_state_and_drops_removed_liaisons(r):
    board = LiaisonBoard(r)
    board.sync(["a", "b"])
    board.claim(["a"], "R1")
    board.sync(["a", "c"])
    assert board.status("a").state == RINGING
    assert r.zscore(keys.LIAISONS_AVAILABLE, "b") is None
    assert r.zscore(keys.LIAISONS_AVAILABLE, "c") is not None


def test_duty_and_language_overrides(r):
    board = LiaisonBoard(r)
    board.sync(["a"])
    board.set_duty("a", False)
    board.set_languages("a", ["spa", "por"])
    status = board.status("a")
    assert status.duty_override == "off" and status.languages_override == ("spa", "por")
    board.set_duty("a", None)
    board.set_languages("a", None)
    status = board.status("a")
    assert status.duty_override == "" and status.languages_override is None


def test_liaison_events_respect_the_configured_stream_cap(r):
    board = LiaisonBoard(r, events_maxlen=5)
    board.sync(["a"])
    for n in range(300):
        board.set_duty("a", n % 2 == 0)
    # XADD MAXLEN ~ trims whole macro nodes, so "about 5": far below the 300 written.
    assert r.xlen(keys.EVENTS) < 150
