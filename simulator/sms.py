"""Text messages: the app's outbound SMS (REST or TwiML reply) and inbound SMS to the app.

An inbound SMS is POSTed, signed, to the messaging webhook with Twilio's fields; every
<Message> in the TwiML reply is recorded as an outbound SMS to the sender.
"""

from __future__ import annotations

import math
import mimetypes
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from simulator.calls import API_VERSION, new_sid, rfc2822, utcnow
from simulator.eventlog import mask
from simulator.webhook import TwimlError, parse_twiml

if TYPE_CHECKING:
    from simulator.network import Network


def segments(body: str) -> int:
    """GSM-7 fits 160 characters (153 when split); anything else UCS-2, 70 (67)."""
    gsm = all(ord(ch) < 128 for ch in body)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / multi)


def message_resource(msg: dict[str, Any]) -> dict[str, Any]:
    """Twilio's Message JSON for a recorded message."""
    base = f"/{API_VERSION}/Accounts/{msg['account_sid']}/Messages/{msg['sid']}"
    return {
        "sid": msg["sid"],
        "account_sid": msg["account_sid"],
        "to": msg["to"],
        "from": msg["from"],
        "body": msg["body"],
        "status": msg["status"],
        "direction": msg["direction"],
        "num_segments": str(segments(msg["body"])),
        "num_media": str(len(msg.get("media_urls", []))),
        "api_version": API_VERSION,
        "date_created": msg["date_created"],
        "date_updated": msg["date_created"],
        "date_sent": None,
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "messaging_service_sid": None,
        "uri": base + ".json",
        "subresource_uris": {"media": base + "/Media.json", "feedback": base + "/Feedback.json"},
    }


def record_outbound(
    net: Network,
    to: str,
    from_: str,
    body: str,
    source: str,
    status_callback: str | None = None,
    media_urls: list[str] | None = None,
) -> dict[str, Any]:
    msg = {
        "sid": new_sid("SM"),
        "account_sid": net.config.account_sid,
        "to": to,
        "from": from_,
        "body": body,
        "status": "queued",
        "direction": "outbound-api" if source == "rest" else "outbound-reply",
        "source": source,
        "media_urls": list(media_urls or []),
        "date_created": rfc2822(utcnow()),
        "generation": net.generation,
    }
    with net.lock:
        net.messages.append(msg)
    net.log.add(None, f'sms → {mask(to)} ({source}): "{body[:80]}"')
    threading.Thread(target=_deliver, args=(net, msg, status_callback), daemon=True).start()
    return msg


def _deliver(net: Network, msg: dict[str, Any], status_callback: str | None) -> None:
    """queued → sent → delivered, with the status callback for each step when asked."""
    for status in ("sent", "delivered"):
        with net.lock:
            if msg["generation"] != net.generation:
                return
            msg["status"] = status
        if status_callback:
            params = {
                "AccountSid": msg["account_sid"],
                "ApiVersion": API_VERSION,
                "MessageSid": msg["sid"],
                "SmsSid": msg["sid"],
                "MessageStatus": status,
                "SmsStatus": status,
                "From": msg["from"],
                "To": msg["to"],
            }
            result = net.webhooks.send(status_callback, params, "POST")
            if not result.ok:
                net.log.add(None, f"sms status callback ({status}) failed: {result.error or result.status}")


def receive(net: Network, from_: str, to: str, body: str, media_urls: list[str]) -> str:
    """Deliver an inbound SMS to the app in the background; returns its MessageSid."""
    sid = new_sid("SM")
    with net.lock:
        net.inbound_messages.append(
            {
                "sid": sid,
                "from": from_,
                "to": to,
                "body": body,
                "media_urls": list(media_urls),
                "date_created": rfc2822(utcnow()),
            }
        )
    threading.Thread(
        target=_post_inbound, args=(net, sid, from_, to, body, media_urls, net.generation), daemon=True
    ).start()
    return sid


def _post_inbound(
    net: Network, sid: str, from_: str, to: str, body: str, media_urls: list[str], generation: int
) -> None:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": net.config.account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": str(len(media_urls)),
        "NumSegments": str(segments(body)),
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    for i, url in enumerate(media_urls):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = mimetypes.guess_type(url)[0] or "image/jpeg"
    net.log.add(None, f'sms ← {mask(from_)}: "{body[:80]}"' + (f" +{len(media_urls)} media" if media_urls else ""))
    url = net.config.sms_url
    for _ in range(10):  # <Redirect> hops
        if generation != net.generation:
            return
        result = net.webhooks.send(url, params, "POST")
        if not result.ok:
            net.log.add(None, f"error 11200: sms webhook {result.error or 'HTTP ' + str(result.status)}")
            return
        if not result.text.strip():
            return
        try:
            root = parse_twiml(result.text, url)
        except TwimlError as exc:
            net.log.add(None, f"error 12100: sms reply: {exc.detail}")
            return
        redirect = None
        for el in root:
            if el.tag == "Message":
                body_el = el.find("Body")
                text = (body_el.text if body_el is not None else el.text) or ""
                media = [m.text.strip() for m in el.findall("Media") if m.text]
                if generation == net.generation:
                    record_outbound(
                        net,
                        el.get("to") or from_,
                        el.get("from") or to,
                        text.strip(),
                        "twiml",
                        el.get("statusCallback") or el.get("action"),
                        media,
                    )
            elif el.tag == "Redirect":
                redirect = urljoin(url, (el.text or "").strip())
                break
        if redirect is None:
            return
        url = redirect
