"""One thread per call leg: ringing, answering, running TwiML, hanging up, status callbacks.

Three kinds of leg, as Twilio has them:
- inbound: a simulated person calls the service number; the Voice URL's TwiML runs.
- outbound-api: the app created the call over REST; it rings the scripted party and,
  once answered, sends SendDigits and runs the Url's TwiML.
- outbound-dial: a <Dial><Number> child leg; rings, answers, optionally runs the
  Number's url (a whisper) on the callee, then stays bridged until a side hangs up.

Waiting is always interruptible: another thread sets `call.pending` (hang up, redirect)
and notifies `call.cond`; the party's own hang-up time is checked on every wake-up.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from simulator.calls import Call, CallEnded, MusicOver, Redirected, Source, rfc2822, utcnow
from simulator.dial import run_dial
from simulator.twiml import Interpreter

if TYPE_CHECKING:
    from simulator.network import Network

log = logging.getLogger(__name__)


def dtmf_seconds(keys: str) -> float:
    """How long keys take to play: w = half a second, W = a second, a tone ~0.1 s."""
    return sum(0.5 if k == "w" else 1.0 if k == "W" else 0.1 for k in keys)


class LegRunner:
    def __init__(self, net: Network, call: Call):
        self.net = net
        self.call = call
        self.music_stop: Callable[[], bool] | None = None

    # ---- waiting -------------------------------------------------------------------------
    def _check_locked(self) -> None:
        c = self.call
        if c.generation != self.net.generation:
            raise CallEnded("network reset", silent=True)
        if c.pending is not None:
            exc = c.pending
            if isinstance(exc, Redirected):
                c.pending = None
            raise exc
        if c.hangup_at is not None and time.monotonic() >= c.hangup_at:
            raise CallEnded(f"{'caller' if c.direction == 'inbound' else 'callee'} hung up", by_party=True)
        if self.music_stop is not None and self.music_stop():
            raise MusicOver()

    def check(self) -> None:
        with self.net.lock:
            self._check_locked()

    def wait(self, seconds: float | None, until: Callable[[], bool] | None = None) -> bool:
        """Sleep `seconds` (None: until interrupted); True as soon as `until()` holds.

        Raises CallEnded / Redirected / MusicOver the moment one applies.
        """
        c = self.call
        deadline = None if seconds is None else time.monotonic() + seconds
        with self.net.lock:
            while True:
                self._check_locked()
                if until is not None and until():
                    return True
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                limits = [t - now for t in (deadline, c.hangup_at) if t is not None]
                c.cond.wait(timeout=max(0.0, min(limits)) if limits else 5.0)

    # ---- talking to the app ---------------------------------------------------------------
    def event(self, text: str) -> None:
        self.net.event(self.call, text)

    def live(self) -> bool:
        return self.call.generation == self.net.generation

    def status_event(self, event: str) -> None:
        """POST a call-progress event if the app asked for it (the terminal one always)."""
        c = self.call
        if not c.status_callback or not self.live():
            return
        if event != "completed" and event not in c.status_events:
            return
        with self.net.lock:
            seq = c.callback_seq
            c.callback_seq += 1
            params = c.webhook_params()
        params.update(CallbackSource="call-progress-events", SequenceNumber=str(seq), Timestamp=rfc2822(utcnow()) or "")
        if event == "initiated":
            params["CallStatus"] = "initiated"
        if event == "completed":
            params["CallDuration"] = str(c.duration())
            params["Duration"] = str((c.duration() + 59) // 60)
        if self.net.faults.lose_callback(c.status_callback):
            self.event(f"status callback ({event}) lost (fault)")
            return
        result = self.net.webhooks.send(c.status_callback, params, c.status_method)
        if not result.ok:
            self.event(f"status callback ({event}) failed: {result.error or 'HTTP ' + str(result.status)}")

    # ---- lifecycle ----------------------------------------------------------------------
    def run(self) -> None:
        c = self.call
        try:
            try:
                if c.direction == "inbound":
                    self._run_inbound()
                elif c.direction == "outbound-api":
                    self._run_outbound()
                else:
                    self._run_child()
                self.finish(CallEnded("no more TwiML: the network hung up"))
            except CallEnded as ended:
                self.finish(ended)
        except Exception as exc:  # a simulator bug must not leave a call hanging forever
            log.error("leg %s crashed: %s", c.sid, traceback.format_exc())
            self.event(f"simulator error: {type(exc).__name__}: {exc}")
            self.finish(CallEnded("simulator error", status="failed"))

    def answer(self) -> None:
        c = self.call
        with self.net.lock:
            if c.answered:
                return
            now = time.monotonic()
            c.status, c.answered_mono, c.start_time, c.updated = "in-progress", now, utcnow(), utcnow()
            c.marks["answered"] = time.time()
            if c.party.hangup_after is not None:
                c.hangup_at = now + c.party.hangup_after
        self.event("answered")

    def finish(self, ended: CallEnded) -> None:
        c = self.call
        with self.net.lock:
            if c.ended:
                return
            status = ended.status or ("completed" if c.answered else "canceled")
            c.status, c.ended_mono, c.updated, c.end_reason = status, time.monotonic(), utcnow(), ended.reason
            c.marks["ended"] = time.time()
            c.end_time = utcnow() if c.answered else None
            c.pending = None
            c.party.finish()
            self.net.notify_related(c)
        if ended.silent or not self.live():
            return
        self.event(f"ended: {status} ({ended.reason}) after {c.duration()}s")
        self.status_event("completed")

    def send_dtmf(self, keys: str, what: str) -> None:
        """Play `keys` to this leg's party; a party expecting other keys hangs up."""
        self.wait(self.net.config.scaled(dtmf_seconds(keys)))
        with self.net.lock:
            ok = self.call.party.receive_dtmf(keys)
            party = self.call.party
            self.call.marks["digits_sent"] = time.time()
        note = ""
        if party.expect_send_digits is not None:
            note = ", expected sequence complete" if party.digits_matched else ""
        self.event(f"{what}: {len(keys)} DTMF keys sent{note}")
        if not ok:
            got = party.received_digits
            at = next(
                (i for i, (a, b) in enumerate(zip(got, party.expect_send_digits or "", strict=False)) if a != b),
                min(len(got), len(party.expect_send_digits or "")),
            )
            self.event(f"DTMF mismatch at key {at + 1} of {len(party.expect_send_digits or '')}: party hangs up")
            raise CallEnded("party hung up: unexpected DTMF", by_party=True)

    def _ring(self) -> None:
        """From queued to answered, or raise CallEnded with busy / failed / no-answer / canceled."""
        c, p = self.call, self.call.party
        self.status_event("initiated")
        delay = min(p.answer_after, c.timeout)
        if p.answer in ("busy", "failed"):
            self.wait(min(delay, 1.0))
            self.event(p.answer)
            raise CallEnded(f"line {p.answer}", status=p.answer)
        with self.net.lock:
            c.status, c.updated = "ringing", utcnow()
        self.event(f"ringing (timeout {c.timeout:g}s)")
        self.status_event("ringing")
        ring_for = c.timeout if p.answer == "never" or p.answer_after > c.timeout else p.answer_after
        self.wait(ring_for)
        if p.answer == "never" or p.answer_after > c.timeout:
            raise CallEnded(f"no answer within {c.timeout:g}s", status="no-answer")

    def _run_inbound(self) -> None:
        self.event("incoming call to the service number")
        Interpreter(self, dial=run_dial).run(Source(self.call.url, self.call.method))

    def _run_outbound(self) -> None:
        c = self.call
        self.event("outbound call via REST")
        self._ring()
        self.answer()
        self.status_event("answered")
        with self.net.lock:
            source = Source(twiml=c.twiml) if c.twiml else Source(c.url, c.method)
        try:
            if c.send_digits:
                self.send_dtmf(c.send_digits, "SendDigits")
        except Redirected as redirect:
            source = redirect.source
        Interpreter(self, dial=run_dial).run(source)

    def _run_child(self) -> None:
        c = self.call
        self._ring()
        self.answer()
        self.status_event("answered")
        try:
            if c.send_digits:
                self.send_dtmf(c.send_digits, "sendDigits")
            if c.url:
                Interpreter(self, mode="whisper", dial=run_dial).run(Source(c.url, c.method))
            with self.net.lock:
                c.bridged = True
                self.net.notify_related(c)
            self.event("bridged to the caller")
            self.wait(None)
        except Redirected as redirect:  # the app took this leg out of the bridge
            with self.net.lock:
                c.bridged = False
                self.net.notify_related(c)
            self.event("left the bridge: redirected by the app")
            Interpreter(self, dial=run_dial).run(redirect.source)
