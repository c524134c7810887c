"""Texts to supervisors about their texted request (voice callers hear it instead)."""
from __future__ import annotations

from dispatch.records import RequestRecord
from workers.runtime import context

TEXTS = {
    "failed": "Request {id} ({language}): no interpreter could be reached. "
              "Call the desk sergeant, or text the language again.",
    "connecting": "Request {id}: a {language} interpreter is being connected.",
}


def on_failed(rec: RequestRecord) -> None:
    """Hook for Dispatcher: a texted request failed → queue the text."""
    if rec.channel == "sms":
        context().jobs.submit("notify", rec.id, "failed")


def notify(request_id: str, what: str) -> None:
    """Send one of TEXTS to the supervisor who texted the request."""
    c = context()
    rec = c.requests.get(request_id)
    if rec is None or what not in TEXTS:
        return
    c.telephony.send_sms(rec.caller, c.roster.service_number,
                         TEXTS[what].format(id=rec.id, language=rec.language_name))
