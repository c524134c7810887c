"""Small steps every service takes with a call leg: a fresh token, a hang-up that never stops
the caller's work, a failed dial put where the sergeants see it."""

from __future__ import annotations

import logging
import secrets

from dispatch import events
from dispatch.context import Context
from dispatch.liaisons import ON_CALL
from dispatch.records import RequestRecord
from dispatch.states import State
from dispatch.telephony import TelephonyError

log = logging.getLogger("dispatch.legs")


def new_token() -> str:
    """Names one offer, vendor dial, drop or call-back: a callback carrying an older one is late."""
    return secrets.token_hex(6)


def hang_up(ctx: Context, request_id: str, call_sid: str) -> None:
    """Stop a call (inline in a worker, or as the hang_up job); if the phone network refuses
    after its retries, log it and go on: a failed hang-up must not keep a request from moving
    on or a liaison from being freed (the call's own status callback is guarded by its token)."""
    try:
        ctx.telephony.hangup(call_sid)
    except TelephonyError as exc:
        log.warning("request %s: could not hang up a call: %s", request_id, exc)


def dial_error(ctx: Context, request_id: str, who: str, exc: TelephonyError) -> None:
    """Put a failed or uncertain dial on the events stream the dashboard reads."""
    events.publish(
        ctx.redis,
        "dial_error",
        {"to": who, "status": exc.status, "maybe_placed": exc.maybe_placed},
        request=request_id,
        maxlen=ctx.settings.events_maxlen,
    )


def already_connected(ctx: Context, request_id: str, call_sid: str) -> RequestRecord | None:
    """The request, if `call_sid` is already its connected interpreter (an answer delivered
    again joins the room again)."""
    rec = ctx.requests.get(request_id)
    if call_sid and rec is not None and rec.state == State.CONNECTED and rec.handler_call == call_sid:
        return rec
    return None


def free_interpreter(ctx: Context, rec: RequestRecord) -> None:
    """The call is over for the interpreter: a liaison goes back to the pool after their wrap-up
    (only from "on a call" for this request, so a late report never frees them from another)."""
    if rec.handler_kind == "liaison":
        ctx.liaisons.release(rec.handler_id, rec.id, wrapup=ctx.settings.wrapup_seconds, only_if=(ON_CALL,))
