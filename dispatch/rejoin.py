"""A dropped officer rejoins their interpreter: connected → rejoining → connected.

Patrol cells drop in elevators and subways. When the officer's leg ends while an interpreter
is connected, the interpreter's leg is kept (the officer's conference leg no longer ends the
room) and a job moves it out of the room to a prompt: press 1 and the officer is called back.
The officer answering the call-back and pressing 1 (a voicemail never does), or calling the
service again from the same number, goes back into the request's room with the same
interpreter leg. After RECONNECT_GRACE the sweeper hangs the interpreter up and completes the
request, so the time billed while waiting is bounded.

Every step is a guarded transition (states.py): `rejoin_token` names the drop and `recall` the
call-back in flight ("" when none), so a repeated key press, a late status callback or a
redelivered webhook changes nothing. The officer's number is not stored for this: the call-back
asks the network for the dropped call's number, and "the same number calls again" is matched
through a key holding its keyed hash (dispatch.pseudonyms, keys.rejoin_number) that expires
with the grace period.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import time
from enum import Enum

import redis

from config.phone import mask
from dispatch import clock, keys
from dispatch import urls as paths
from dispatch.context import Context
from dispatch.liaisons import ON_CALL
from dispatch.records import RequestRecord
from dispatch.states import State
from dispatch.telephony import CallRequest, TelephonyError

log = logging.getLogger("dispatch.rejoin")

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
GATE_MAX_SECONDS = 1.0

# KEYS: the number's key, REJOIN_UNTIL; ARGV: request id, grace end (epoch), ms to it.
_REMEMBER = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
if tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1
"""


class Step(str, Enum):
    """Where the interpreter's leg goes next (the rejoin webhooks turn it into TwiML)."""

    PROMPT = "prompt"  # ask: press 1 to call the officer back
    CALLING = "calling"  # a call-back is on its way: wait in the room
    ROOM = "room"  # the officer is back: into the room
    GONE = "gone"  # nothing to wait for (request over, or not this request's interpreter)


def _token() -> str:
    return secrets.token_hex(6)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _float(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


class Rejoin:
    """The rejoining services; Dispatcher, the rejoin webhooks and jobs call these."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.s = ctx.settings
        self.store = ctx.requests
        self._remember = ctx.redis.register_script(_REMEMBER)
        # What this process knows of REJOIN_UNTIL (see _may_be_waiting): a change is seen within
        # a sweep interval (at most a second), as the sweeper sees deadlines.
        self._gate_seconds = min(GATE_MAX_SECONDS, self.s.sweep_interval)
        self._gate_read_at = -math.inf
        self._gate_until = 0.0

    # ---------------------------------------------------------------- the drop
    def officer_dropped(self, rec: RequestRecord, call_sid: str) -> bool:
        """The officer's leg `call_sid` ended while an interpreter was connected: keep the
        interpreter, and (a job) prompt them and remember the officer's number."""
        token = _token()
        now = clock.now()
        until = now + self.s.reconnect_grace
        out = self.store.apply(
            rec.id,
            "officer_dropped",
            guard=("officer_call", call_sid),
            fields={
                "rejoin_token": token,
                "rejoin_until": until,
                "dropped_call": call_sid,
                "dropped_at": now,
                "drops": _int(rec.extra.get("drops")) + 1,
                "recall": "",
                "recall_call": None,
                "interpreter_at": "room",
            },
            data={"interpreter": rec.handler_kind, "grace": self.s.reconnect_grace},
            deadline=until,
        )
        if out.applied:
            log.info(
                "request %s: the officer's leg ended; %s interpreter waits up to %gs",
                rec.id,
                rec.handler_kind or "the",
                self.s.reconnect_grace,
            )
            self.ctx.jobs.submit("rejoin_dropped", rec.id, token)
        return out.applied

    def dropped(self, request_id: str, token: str) -> None:
        """Job: remember the officer's number (hashed) for the grace period, and move the
        interpreter from the now silent room to the prompt."""
        rec = self._rejoining(request_id, token)
        if rec is None:
            return
        number = self.officer_number(rec)
        until = _float(rec.extra.get("rejoin_until"))
        remaining = until - clock.now()
        if number and remaining > 0:
            self._remember(
                keys=[keys.rejoin_number(self.ctx.pseudonyms.of(number)), keys.REJOIN_UNTIL],
                args=[rec.id, repr(until), max(1, int(remaining * 1000))],
            )
        self.redirect(request_id, token, "dropped")

    def officer_number(self, rec: RequestRecord) -> str | None:
        """The dropped officer's number, from the network (records may hold it only masked);
        the record's own number if the network cannot say and it is a full one."""
        dropped = rec.extra.get("dropped_call", "")
        try:
            info = self.ctx.telephony.fetch_call(dropped) if dropped else None
        except TelephonyError as exc:
            log.warning("request %s: could not look up the dropped call: %s", rec.id, exc)
            info = None
        if info is not None:
            # An officer who called in is the caller; one we called (a texted request's
            # call-back, an earlier rejoin call-back) is the callee.
            number = info.to if info.from_ == self.ctx.roster.service_number else info.from_
            if _E164.fullmatch(number):
                return number
        for number in (rec.callback_number, rec.caller):
            if number and _E164.fullmatch(number):
                return number
        return None

    # ---------------------------------------------------------------- the interpreter
    def interpreter_step(self, request_id: str, call_sid: str) -> Step:
        """The interpreter's leg asks what to do now (the prompt URL, looping)."""
        rec = self.store.get(request_id)
        if rec is None or rec.finished or not call_sid or rec.extra.get("handler_call") != call_sid:
            return Step.GONE
        if rec.state == State.CONNECTED:
            self._interpreter_at(rec.id, "room")
            return Step.ROOM
        if rec.extra.get("recall"):
            self._interpreter_at(rec.id, "room")
            return Step.CALLING
        self._interpreter_at(rec.id, "prompt")
        return Step.PROMPT

    def call_back_asked(self, request_id: str, token: str, call_sid: str) -> Step:
        """The interpreter pressed 1 at the prompt of drop `token`: call the officer back,
        once however often they press it."""
        rec = self.store.get(request_id)
        if (
            rec is None
            or rec.state != State.REJOINING
            or rec.extra.get("rejoin_token") != token
            or rec.extra.get("handler_call") != call_sid
        ):
            return self.interpreter_step(request_id, call_sid)
        recall = _token()
        now = clock.now()
        out = self.store.apply(
            request_id,
            "call_officer_back",
            guard=("recall", ""),
            fields={
                "recall": recall,
                "recall_at": now,
                "recall_call": None,
                "interpreter_at": "room",
            },
            data={"asked_by": rec.handler_kind or "interpreter"},
        )
        if out.applied:
            log.info("request %s: the interpreter asked for the officer to be called back", request_id)
            self.ctx.jobs.submit("rejoin_call_back", request_id, recall)
            return Step.CALLING
        after = self.store.get(request_id)
        if after is not None and after.state == State.REJOINING and after.extra.get("recall"):
            return Step.CALLING  # already calling: the same answer, no second call
        return self.interpreter_step(request_id, call_sid)

    def redirect(self, request_id: str, token: str, why: str) -> None:
        """Job: move the interpreter's leg to the prompt URL, which decides where it goes.

        `why` is "dropped", "no-answer" or "call-failed" (to the prompt, while rejoining) or
        "back" (into the room: the officer called in again while the interpreter was at the prompt)."""
        rec = self.store.get(request_id)
        if rec is None or not rec.extra.get("handler_call"):
            return
        if why == "back":
            if rec.state != State.CONNECTED or rec.extra.get("interpreter_at") != "prompt":
                return
        elif rec.state != State.REJOINING or rec.extra.get("rejoin_token") != token or rec.extra.get("recall"):
            return
        url = self.ctx.urls(paths.REJOIN, r=rec.id, k=rec.extra.get("rejoin_token", ""), m=why)
        try:
            if not self.ctx.telephony.redirect(rec.extra["handler_call"], url):
                log.info("request %s: the interpreter's leg had already ended", rec.id)
        except TelephonyError as exc:
            log.warning("request %s: could not move the interpreter (%s): %s", rec.id, why, exc)

    # ---------------------------------------------------------------- the call-back
    def call_back(self, request_id: str, recall: str) -> None:
        """Job: ring the dropped officer's number; answering and pressing 1 rejoins."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.extra.get("recall") != recall:
            return
        if not self.ctx.redis.set(keys.once("recall", recall), "1", nx=True, ex=self.s.retention_seconds):
            return  # this call-back was placed already (the job delivered twice)
        number = self.officer_number(rec)
        if number is None:
            log.warning("request %s: the officer's number is unknown; cannot call back", request_id)
            self.call_back_ended(request_id, recall, "", "number-unknown")
            return
        q = dict(r=request_id, k=recall)
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=number,
                    from_=self.ctx.roster.service_number,
                    url=self.ctx.urls(paths.REJOIN_OFFICER, **q),
                    status_callback=self.ctx.urls(paths.REJOIN_OFFICER_STATUS, **q),
                    timeout=self.s.callback_ring_timeout,
                    status_events=("completed",),
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: could not call the officer back at %s: %s", request_id, mask(number), exc)
            if not exc.maybe_placed:
                self.call_back_ended(request_id, recall, "", "dial-failed")
            return
        self.store.link_call(sid, request_id, "recall", fields={"recall_call": sid})
        log.info("request %s: calling the officer back at %s", request_id, mask(number))

    def call_back_answered(self, request_id: str, recall: str) -> RequestRecord | None:
        """The call-back was answered: the request, if the officer may still rejoin with it."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.extra.get("recall") != recall:
            return None
        return rec

    def call_back_ended(self, request_id: str, recall: str, call_sid: str, status: str) -> None:
        """How a call-back ended. Before the officer rejoined: it failed, and the interpreter
        is told (they may press 1 again); after: the officer's leg ended again."""
        rec = self.store.get(request_id)
        if rec is None:
            return
        if call_sid and rec.state == State.CONNECTED and rec.officer_call == call_sid:
            self.officer_dropped(rec, call_sid)
            return
        if call_sid and rec.extra.get("recall_call") not in (None, "", call_sid):
            return  # not the call-back in flight
        out = self.store.apply(
            request_id,
            "call_back_failed",
            guard=("recall", recall),
            fields={
                "recall": "",
                "recall_call": None,
                "recall_at": None,
            },
            data={"outcome": status},
        )
        if out.applied and out.record is not None:
            log.info("request %s: the call-back ended %s before the officer rejoined", request_id, status)
            why = "call-failed" if status in ("failed", "dial-failed", "number-unknown") else "no-answer"
            self.ctx.jobs.submit("rejoin_redirect", request_id, out.record.extra.get("rejoin_token", ""), why)

    # ---------------------------------------------------------------- the officer is back
    def waiting_for(self, number: str) -> RequestRecord | None:
        """The request whose interpreter waits for this number's officer, if any."""
        if not number or not self._may_be_waiting():
            return None
        raw = self.ctx.redis.get(keys.rejoin_number(self.ctx.pseudonyms.of(number)))
        rec = self.store.get(raw.decode() if isinstance(raw, bytes) else str(raw)) if raw else None
        return rec if rec is not None and rec.state == State.REJOINING else None

    def officer_back(self, request_id: str, call_sid: str, via: str, guard: tuple[str, str]) -> RequestRecord | None:
        """The officer's new leg `call_sid` rejoins: the record to put them in its room, or None.

        `guard` is ("recall", token) for the call-back the officer answered, or
        ("rejoin_token", token) for the drop a new call from their number rejoins."""
        rec = self.store.get(request_id)
        if rec is None or not call_sid:
            return None
        out = self.store.apply(
            request_id,
            "officer_rejoined",
            guard=guard,
            fields={
                "officer_call": call_sid,
                "recall": "",
                "recall_at": None,
                "rejoin_until": None,
                "rejoins": _int(rec.extra.get("rejoins")) + 1,
            },
            data={"via": via, "after": round(clock.now() - _float(rec.extra.get("dropped_at")), 1)},
            deadline=None,
        )
        if not out.applied:
            again = self.store.get(request_id)
            # the same key press delivered twice: the same answer
            return again if again and again.state == State.CONNECTED and again.officer_call == call_sid else None
        self.store.link_call(call_sid, request_id, "officer")
        log.info("request %s: the officer rejoined (%s)", request_id, via)
        recall_call = rec.extra.get("recall_call", "")
        if recall_call and recall_call != call_sid:
            self.ctx.jobs.submit("hang_up", request_id, recall_call)  # a call-back still ringing
        if rec.extra.get("interpreter_at") == "prompt":
            self.ctx.jobs.submit("rejoin_redirect", request_id, rec.extra.get("rejoin_token", ""), "back")
        return out.record

    # ---------------------------------------------------------------- ends
    def interpreter_left(self, rec: RequestRecord) -> None:
        """The interpreter hung up while the officer was away (the request is complete):
        stop a call-back that may still be ringing."""
        if rec.extra.get("recall_call"):
            self.ctx.jobs.submit("hang_up", rec.id, rec.extra["recall_call"])

    def review(self, rec: RequestRecord) -> None:
        """The sweeper: past the grace period, release the interpreter and complete the
        request, whatever was lost on the way (a job, a callback, a worker)."""
        until = _float(rec.extra.get("rejoin_until"))
        now = clock.now()
        if now < until:
            self.store.set_deadline(rec.id, until)
            return
        out = self.store.apply(
            rec.id,
            "rejoin_expired",
            guard=("rejoin_token", rec.extra.get("rejoin_token", "")),
            fields={"outcome": "officer did not rejoin"},
            data={"after": self.s.reconnect_grace},
            deadline=None,
        )
        if not out.applied:
            return
        log.info(
            "request %s: the officer did not rejoin within %gs; interpreter released", rec.id, self.s.reconnect_grace
        )
        if rec.handler_kind == "liaison":
            self.ctx.liaisons.release(rec.handler_id, rec.id, wrapup=self.s.wrapup_seconds, only_if=(ON_CALL,))
        for sid in (rec.extra.get("handler_call", ""), rec.extra.get("recall_call", "")):
            if sid:
                self._hang_up(rec.id, sid)

    # ---------------------------------------------------------------- helpers
    def _rejoining(self, request_id: str, token: str) -> RequestRecord | None:
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.extra.get("rejoin_token") != token:
            return None
        return rec

    def _may_be_waiting(self) -> bool:
        """False when no officer anywhere can be waiting to rejoin: the latest grace end has
        passed. Known without a Redis round trip on most calls (REJOIN_UNTIL is read at most
        every `_gate_seconds`): the first menu, which asks, is the busiest webhook, and a
        dropped officer takes longer than that to call again."""
        now = time.monotonic()
        if now - self._gate_read_at >= self._gate_seconds:
            self._gate_read_at = now
            try:
                raw = self.ctx.redis.get(keys.REJOIN_UNTIL)
            except redis.RedisError:  # the menu works without Redis: no rejoin offer meanwhile
                raw = None
            self._gate_until = _float(raw.decode() if isinstance(raw, bytes) else raw)
        return clock.now() < self._gate_until

    def _interpreter_at(self, request_id: str, where: str) -> None:
        """Where the interpreter's TwiML last put them: a rejoining officer's job moves them
        into the room only if they are at the prompt."""
        self.store.set_fields(request_id, {"interpreter_at": where})

    def _hang_up(self, request_id: str, call_sid: str) -> None:
        try:
            self.ctx.telephony.hangup(call_sid)
        except TelephonyError as exc:
            log.warning("request %s: could not hang up a call: %s", request_id, exc)
