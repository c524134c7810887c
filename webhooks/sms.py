"""The service number's messaging webhook: every text gets one short TwiML reply.

The handler is a few lines on purpose: the body is capped, the domain service
decides the reply, and the SDK's MessagingResponse escapes it, so a text that looks
like TwiML stays text and the answer is always one well-formed <Message>.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from dispatch import urls as paths
from dispatch.sms.parse import MAX_BODY
from dispatch.sms.service import Inbound, SmsService
from webhooks.deps import ctx, dispatcher, form
from webhooks.twilio_auth import twilio_only

bp = Blueprint("sms", __name__)


def _media_count() -> int:
    try:
        return max(0, int(form("NumMedia") or "0"))
    except ValueError:
        return 0


@bp.post(paths.SMS_INCOMING)
@twilio_only
def incoming() -> Response:
    """A text to the service number."""
    inbound = Inbound(
        sender=form("From")[:40],
        body=request.form.get("Body", "")[:MAX_BODY],
        message_sid=form("MessageSid")[:64],
        num_media=_media_count(),
    )
    reply = SmsService(ctx(), dispatcher()).handle(inbound)
    response = MessagingResponse()
    response.message(reply)
    return Response(str(response), mimetype="text/xml")
