"""Stopping an offer round: every liaison phone still ringing for a request, stopped and freed.

Whatever ends a round (a liaison's accept, the vendor's interpreter, the officer hanging up,
a cancel, the liaison window, the round's deadline) ends it here, so a round of several
phones (PARALLEL_OFFERS) is stopped as one. A liaison still ringing is cancelled and free at
once, keeping their place in line; one already hearing the whisper is redirected to hear that
the request was taken, and stays held until that call ends (dispatch/offers.py frees them, in
their place), so no new offer rings a phone that is still on ours.
"""

from __future__ import annotations

from dispatch import offer_rounds
from dispatch.context import Context
from dispatch.legs import hang_up
from dispatch.liaisons import RINGING
from dispatch.records import RequestRecord


def stop_round(
    ctx: Context, rec: RequestRecord, keep: str = "", inline: bool = False, keep_place: bool = True
) -> list[str]:
    """Stop the phones of `rec`'s current round but `keep`'s: as jobs, or `inline` in a worker.
    `keep_place`: those freed keep their place in line (not when the window closed on them).
    The liaisons stopped."""
    if not rec.offer_id:
        return []
    ringers = offer_rounds.take(ctx.redis, rec.id, rec.offer_id, offer_rounds.key_ttl(ctx.settings.retention_seconds))
    if ringers is None:  # taken already, or opened by a version without round records: the record's offer
        ringers = [offer_rounds.Ringer(rec.offer_liaison, rec.offer_call, answered=False)] if rec.offer_liaison else []
    stopped = []
    for ringer in ringers:
        if ringer.liaison == keep:
            continue
        stopped.append(ringer.liaison)
        if ringer.answered and ringer.call:
            ctx.liaisons.hold(ringer.liaison, rec.id)
            ctx.jobs.submit("withdraw_offer", rec.id, rec.offer_id, ringer.liaison, ringer.call)
            continue
        if ringer.call:
            if inline:
                hang_up(ctx, rec.id, ringer.call)
            else:
                ctx.jobs.submit("hang_up", rec.id, ringer.call)
        ctx.liaisons.release(ringer.liaison, rec.id, keep_place=keep_place, only_if=(RINGING,))
    return stopped
