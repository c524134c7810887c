"""The simulated network's state and the operations the REST and control APIs call.

One re-entrant lock guards everything; each call leg has a Condition on that lock so
a leg's thread can sleep until something concerning it changes. HTTP to the app is
never made while the lock is held.
"""

from __future__ import annotations

import threading
from typing import Any

from simulator.calls import Call, CallEnded, Redirected, Source, new_sid, utcnow
from simulator.conference import Conferences, Room
from simulator.config import SimulatorConfig
from simulator.eventlog import EventLog, mask
from simulator.faults import Faults
from simulator.legs import LegRunner
from simulator.parties import PartyBook
from simulator.webhook import Webhooks


class UpdateError(Exception):
    """A REST update Twilio would refuse: HTTP status, Twilio code, message."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Network:
    """Every call, room, message and fault of one simulated phone network."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.lock = threading.RLock()
        self.generation = 0
        self.calls: dict[str, Call] = {}
        self.messages: list[dict[str, Any]] = []
        self.inbound_messages: list[dict[str, Any]] = []
        self.faults = Faults()
        self.rooms = Conferences(config.account_sid)
        self.parties = PartyBook(config.default_answer_after)
        self.log = EventLog(echo=config.echo, limit=config.log_limit)
        self.webhooks = Webhooks(config.auth_token, config.webhook_timeout)

    # ---- bookkeeping ----------------------------------------------------------------------
    def event(self, call: Call | None, text: str) -> None:
        if call is not None and call.generation != self.generation:
            return
        route = f"{mask(call.from_)}→{mask(call.to)}" if call is not None else ""
        entry = self.log.add(call.sid if call else None, text, route)
        if call is not None:
            with self.lock:
                call.timeline.append({"t": entry["t"], "text": entry["text"]})

    def notify_related(self, call: Call) -> None:
        """Wake the leg itself, its parent and its children (caller holds the lock)."""
        call.cond.notify_all()
        for sid in [call.parent, *call.children]:
            other = self.calls.get(sid) if sid else None
            if other is not None:
                other.cond.notify_all()

    def notify_room(self, room: Room, extra: list[str] | None = None) -> None:
        for sid in [*room.participants, *(extra or [])]:
            other = self.calls.get(sid)
            if other is not None:
                other.cond.notify_all()

    def post_events(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            if self.faults.lose_callback(ev["url"]):
                self.log.add(None, f"conference status callback {ev['params']['StatusCallbackEvent']} lost (fault)")
                continue
            result = self.webhooks.send(ev["url"], ev["params"], ev["method"])
            if not result.ok:
                self.log.add(
                    None,
                    f"conference status callback {ev['params']['StatusCallbackEvent']} failed: "
                    f"{result.error or 'HTTP ' + str(result.status)}",
                )

    def interrupt(self, call: Call, exc: Exception) -> bool:
        """Ask a leg's thread to hang up or switch TwiML; a pending hang-up wins over a redirect."""
        with self.lock:
            if call.ended or isinstance(call.pending, CallEnded):
                return False
            call.pending = exc
            call.cond.notify_all()
            return True

    def _new_call(self, **kwargs: Any) -> Call:
        call = Call(
            sid=new_sid("CA"),
            account_sid=self.config.account_sid,
            cond=threading.Condition(self.lock),
            generation=self.generation,
            **kwargs,
        )
        with self.lock:
            self.calls[call.sid] = call
        return call

    def _start(self, call: Call) -> None:
        threading.Thread(target=LegRunner(self, call).run, name=f"leg-{call.sid[:10]}", daemon=True).start()

    # ---- placing calls --------------------------------------------------------------------
    def place_inbound(self, from_: str, to: str = "", **overrides: Any) -> Call:
        """A simulated person dials the service number."""
        cfg = self.config
        call = self._new_call(
            direction="inbound",
            from_=from_,
            to=to or cfg.number,
            party=self.parties.run_for(from_, **overrides),
            status="ringing",
            url=cfg.voice_url,
            method=cfg.voice_method,
            fallback_url=cfg.voice_fallback_url,
            fallback_method=cfg.voice_fallback_method,
            status_callback=cfg.voice_status_url,
            status_method=cfg.voice_status_method,
            status_events={"completed"},
        )
        self._start(call)
        return call

    def create_outbound(
        self,
        to: str,
        from_: str,
        url: str | None,
        method: str,
        twiml: str | None,
        status_callback: str | None,
        status_method: str,
        status_events: set[str],
        send_digits: str,
        timeout: float,
        fallback_url: str | None,
        fallback_method: str,
    ) -> Call:
        """REST Calls.json: ring `to`'s scripted party and, once answered, run the app's TwiML."""
        call = self._new_call(
            direction="outbound-api",
            from_=from_,
            to=to,
            party=self.parties.run_for(to),
            url=url,
            method=method,
            twiml=twiml,
            status_callback=status_callback,
            status_method=status_method,
            status_events=status_events,
            send_digits=send_digits,
            timeout=timeout,
            fallback_url=fallback_url,
            fallback_method=fallback_method,
        )
        self._start(call)
        return call

    def start_child(self, parent: Call, number: str, attrs: dict[str, str], timeout: float, caller_id: str) -> Call:
        """A <Dial><Number> leg from `parent` to `number`."""
        events = set((attrs.get("statusCallbackEvent") or "").replace(",", " ").split())
        call = self._new_call(
            direction="outbound-dial",
            from_=caller_id,
            to=number,
            parent=parent.sid,
            party=self.parties.run_for(number),
            url=attrs.get("url") or None,
            method=(attrs.get("method") or "POST").upper(),
            send_digits=attrs.get("sendDigits", ""),
            status_callback=attrs.get("statusCallback") or None,
            status_method=(attrs.get("statusCallbackMethod") or "POST").upper(),
            status_events=events,
            timeout=timeout,
        )
        with self.lock:
            parent.children.append(call.sid)
        self._start(call)
        return call

    def update_call(
        self,
        sid: str,
        status: str | None,
        url: str | None,
        method: str,
        twiml: str | None,
        status_callback: str | None = None,
    ) -> Call:
        """REST update: hang up / cancel, or replace the running TwiML."""
        with self.lock:
            call = self.calls.get(sid)
            if call is None:
                raise UpdateError(404, 20404, "not found")
            if call.ended or isinstance(call.pending, CallEnded):
                raise UpdateError(400, 21220, "Call is not in-progress. Cannot redirect.")
            if status_callback:
                call.status_callback = status_callback
            call.updated = utcnow()
            if status:
                if status not in ("completed", "canceled"):
                    raise UpdateError(400, 21218, f"Invalid Status: {status}")
                if status == "canceled" and call.answered:
                    return call  # Twilio: canceling an answered call changes nothing
                self.interrupt(
                    call,
                    CallEnded(
                        f"{'hung up' if call.answered else 'canceled'} by the app (REST)",
                        status=None if call.answered else "canceled",
                        via_api=True,
                    ),
                )
                return call
            if url or twiml:
                source = Source(twiml=twiml) if twiml else Source(url, (method or "POST").upper())
                if not call.answered:
                    call.url, call.method, call.twiml = source.url, source.method, source.twiml
                else:
                    self.interrupt(call, Redirected(source))
        self.event(call, f"REST update: {'hang up' if status else 'redirect to ' + (url or 'inline TwiML')}")
        return call

    def party_hangup(self, sid: str) -> Call:
        """The simulated person hangs up now (a ringing phone declines: busy)."""
        with self.lock:
            call = self.calls.get(sid)
            if call is None:
                raise UpdateError(404, 20404, "not found")
            who = "caller" if call.direction == "inbound" else "callee"
            if call.answered or call.direction == "inbound":
                self.interrupt(call, CallEnded(f"{who} hung up", by_party=True))
            else:
                self.interrupt(call, CallEnded(f"{who} declined", status="busy", by_party=True))
            return call

    # ---- inspection and reset ---------------------------------------------------------------
    def snapshot_calls(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.snapshot() for c in self.calls.values()]

    def reset(self) -> None:
        """Forget everything; live legs stop at once and post nothing more to the app."""
        with self.lock:
            self.generation += 1
            for call in self.calls.values():
                if not call.ended:
                    call.pending = CallEnded("network reset", silent=True)
                    call.cond.notify_all()
            self.calls.clear()
            self.messages.clear()
            self.inbound_messages.clear()
            self.rooms = Conferences(self.config.account_sid)
        self.faults.clear()
        self.parties.clear()
        self.log.clear()
