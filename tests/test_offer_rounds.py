"""The offer-round store on a real Redis: who still rings, and who ends the round."""

from __future__ import annotations

from dispatch import offer_rounds

TTL = offer_rounds.key_ttl(120)  # RETENTION_SECONDS=120, as the memory benchmark runs


def test_only_the_last_offer_out_of_a_round_sees_it_empty(r):
    offer_rounds.start(r, "R1", "t1", ["a", "b", "c"], TTL)
    offer_rounds.set_call(r, "R1", "t1", "b", "CAb")
    assert offer_rounds.members(r, "R1", "t1") == {"a": "", "b": "CAb", "c": ""}
    assert offer_rounds.drop(r, "R1", "t1", "a") == 2
    assert offer_rounds.drop(r, "R1", "t1", "a") == -1, "an end delivered twice counts once"
    assert offer_rounds.drop(r, "R1", "t1", "b") == 1
    assert offer_rounds.drop(r, "R1", "t1", "c") == 0
    assert offer_rounds.take(r, "R1", "t1", TTL) == [], "ended by its offers: nobody left to stop"


def test_taking_a_round_hands_over_who_still_rings_once(r):
    offer_rounds.start(r, "R1", "t1", ["a", "b"], TTL)
    offer_rounds.set_call(r, "R1", "t1", "a", "CAa")
    offer_rounds.answered(r, "R1", "t1", "a", TTL)
    taken = offer_rounds.take(r, "R1", "t1", TTL)
    assert taken == [offer_rounds.Ringer("a", "CAa", True), offer_rounds.Ringer("b", "", False)]
    assert offer_rounds.was_withdrawn(r, "R1", "t1", "a") and not offer_rounds.was_withdrawn(r, "R1", "t1", "b")
    assert offer_rounds.take(r, "R1", "t1", TTL) is None, "taken already"
    assert offer_rounds.drop(r, "R1", "t1", "b") == 0, "a late end finds the round over"
    offer_rounds.set_call(r, "R1", "t1", "b", "CAb")
    assert offer_rounds.members(r, "R1", "t1") == {}, "a late call sid does not bring the round back"


def test_a_round_a_version_without_round_records_opened_is_not_taken(r):
    assert offer_rounds.take(r, "R9", "old", TTL) is None


def test_a_round_s_keys_are_kept_no_longer_than_the_request_s_records(r):
    """The memory benchmark found the withdrawn sets kept a day with RETENTION_SECONDS=120: 713 keys
    outliving their requests after ten minutes of traffic."""
    assert offer_rounds.key_ttl(120) == 120
    assert offer_rounds.key_ttl(30 * 24 * 3600) == offer_rounds.ROUND_TTL
    assert offer_rounds.key_ttl(5) == offer_rounds.MIN_TTL, "a minute at least, for the calls' final callbacks"
    offer_rounds.start(r, "R1", "t1", ["a", "b"], TTL)
    offer_rounds.answered(r, "R1", "t1", "a", TTL)
    assert 0 < r.ttl("ird:request:R1:round:t1") <= 120, "a round a crash never ends goes with its request too"
    assert 0 < r.ttl("ird:request:R1:round:t1:up") <= 120
    offer_rounds.take(r, "R1", "t1", TTL)
    assert 0 < r.ttl("ird:request:R1:round:t1:out") <= 120
    assert offer_rounds.was_withdrawn(r, "R1", "t1", "a")
