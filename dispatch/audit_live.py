"""An audit entry the sergeants see at once: written to the audit log and announced on the
event stream as the dashboard's own actions are (webhooks/dashboard/views.py), so every open
page redraws its "Recent actions" and, when a liaison is named, that liaison's row."""

from __future__ import annotations

from dispatch import events
from dispatch.context import Context


def audit_live(ctx: Context, who: str, action: str, target: str, outcome: str, liaison: str = "") -> None:
    events.audit(ctx.redis, who, action, target, outcome)
    data = {"action": action, "target": target, "outcome": outcome, **({"liaison": liaison} if liaison else {})}
    events.publish(ctx.redis, "audit", data, maxlen=ctx.settings.events_maxlen)
