"""What the domain reads of the process's settings, and the bounds it derives from them.

`DispatchSettings` names the durations and limits the services use; config.settings.Settings
(read from the environment, with what the web and worker processes read besides) has them
all, and bootstrap.py hands it in. Declaring them here, read-only, keeps dispatch/ from
importing config/: config/ builds the domain's types (the roster), so an arrow back would tie
the two layers into one.
"""

from __future__ import annotations

from typing import Protocol


class DispatchSettings(Protocol):
    @property
    def liaison_ring_timeout(self) -> int: ...  # a liaison's phone rings this long
    @property
    def whisper_timeout(self) -> int: ...  # the whisper waits this long for a key
    @property
    def liaison_window(self) -> float: ...  # then a waiting request goes to the vendor
    @property
    def wrapup_seconds(self) -> float: ...  # a liaison's rest after a call
    @property
    def parallel_offers(self) -> int: ...  # liaisons rung at once for one request
    @property
    def vendor_hedge_after(self) -> float: ...  # the vendor dialled this long into a wait while liaisons ring (0: off)
    @property
    def vendor_ring_timeout(self) -> int: ...
    @property
    def callback_ring_timeout(self) -> int: ...  # ringing a texting supervisor back
    @property
    def queued_stuck_after(self) -> float: ...  # a queued request nobody took is routed by the sweeper
    @property
    def grace_seconds(self) -> float: ...  # slack on every bound, for late callbacks
    @property
    def reconnect_grace(self) -> float: ...  # a dropped officer may rejoin within this
    @property
    def sweep_interval(self) -> float: ...
    @property
    def reconcile_seconds(self) -> float: ...
    @property
    def retention_seconds(self) -> int: ...  # request records expire after this
    @property
    def events_maxlen(self) -> int: ...  # the events stream's cap
    @property
    def caller_rate_limit(self) -> int: ...  # requests per caller ...
    @property
    def caller_rate_window(self) -> int: ...  # ... per this many seconds
    @property
    def wait_alert_seconds(self) -> float: ...  # a wait longer than this is flagged on the queue
    @property
    def connected_alert_minutes(self) -> float: ...  # a call connected longer than this is marked on the queue
    @property
    def missed_offers_to_pause(self) -> int: ...  # consecutive missed offers, then a liaison is paused
    @property
    def booking_travel_minutes(self) -> float: ...  # a booked liaison is kept off calls this long either side
    @property
    def liaison_texts_per_hour(self) -> int: ...  # the service's texts to one liaison
    @property
    def callout_every_seconds(self) -> int: ...  # one call-out per language per this long


def offer_bound(s: DispatchSettings) -> float:
    """An offer's longest life: the ring, the whisper asked twice, and the grace period."""
    return s.liaison_ring_timeout + 2 * s.whisper_timeout + s.grace_seconds


def vendor_bound(s: DispatchSettings) -> float:
    """A vendor dial's longest life."""
    return s.vendor_ring_timeout + s.grace_seconds


def callback_bound(s: DispatchSettings) -> float:
    """How long a texted request's call-back may ring before the request fails."""
    return s.callback_ring_timeout + s.grace_seconds
