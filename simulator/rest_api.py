"""The Twilio REST subset the app's SDK calls: Calls (create, fetch, update, list), Messages,
Conferences (list, fetch) and their Participants (list); IncomingPhoneNumbers in numbers.py.

Errors use Twilio's JSON shape ({"code", "message", "more_info", "status"}) so the SDK
raises TwilioRestException with the right status and code. Faults queued through the
control API (429, 500, a hang) are served to the next REST requests, in order.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from simulator.calls import API_VERSION
from simulator.network import Network, UpdateError
from simulator.sms import message_resource, record_outbound

bp = Blueprint("twilio_rest", __name__, url_prefix=f"/{API_VERSION}")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
FAULT_MESSAGES = {
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


def net() -> Network:
    return current_app.extensions["sim_network"]


def twilio_error(status: int, code: int, message: str) -> Response:
    resp = jsonify(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    )
    resp.status_code = status
    return resp


def not_found() -> Response:
    return twilio_error(404, 20404, f"The requested resource {request.path} was not found")


@bp.before_request
def authenticate_and_inject_faults() -> Response | None:
    # Read the whole body first: the connection is kept alive (HTTP/1.1), and an early
    # answer (a fault, a 401) must not leave the body there for the next request to trip on.
    request.get_data()
    fault = net().faults.take(request.method, request.path)
    if fault is not None:
        if "hang" in fault:
            net().log.add(None, f"fault: REST {request.method} {request.path} hangs {fault['hang']}s")
            time.sleep(float(fault["hang"]))
        else:
            status = int(fault.get("status", 500))
            code, message = FAULT_MESSAGES.get(status, (20500, "Injected fault"))
            net().log.add(None, f"fault: REST {request.method} {request.path} answered {status}")
            return twilio_error(status, code, message)
    auth = request.authorization
    cfg = net().config
    if auth is None or auth.username != cfg.account_sid or auth.password != cfg.auth_token:
        resp = twilio_error(401, 20003, "Authenticate")
        resp.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return resp
    account = (request.view_args or {}).get("account")
    if account is not None and account != cfg.account_sid:
        return not_found()
    return None


def _list(values: list[str]) -> set[str]:
    out: set[str] = set()
    for value in values:
        out.update(value.replace(",", " ").split())
    return out


@bp.post("/Accounts/<account>/Calls.json")
def create_call(account: str) -> Response | tuple[Any, int]:
    form = request.form
    to, from_ = form.get("To", "").strip(), form.get("From", "").strip()
    url, twiml = form.get("Url") or None, form.get("Twiml") or None
    if not to:
        return twilio_error(400, 21201, "No 'To' number is specified")
    if not E164.match(to):
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not from_:
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not url and not twiml and not form.get("ApplicationSid"):
        return twilio_error(400, 21205, "Url parameter is required.")
    try:
        timeout = min(600.0, max(1.0, float(form.get("Timeout") or 60)))
    except ValueError:
        return twilio_error(400, 21209, "Invalid Timeout value")
    call = net().create_outbound(
        to=to,
        from_=from_,
        url=url,
        method=(form.get("Method") or "POST").upper(),
        twiml=twiml,
        status_callback=form.get("StatusCallback") or None,
        status_method=(form.get("StatusCallbackMethod") or "POST").upper(),
        status_events=_list(form.getlist("StatusCallbackEvent")),
        send_digits=form.get("SendDigits", ""),
        timeout=timeout,
        fallback_url=form.get("FallbackUrl") or None,
        fallback_method=(form.get("FallbackMethod") or "POST").upper(),
    )
    with net().lock:
        resource = call.resource()
    resource["status"] = "queued"  # what Twilio answers to a create, whatever happened since
    return jsonify(resource), 201


@bp.get("/Accounts/<account>/Calls.json")
def list_calls(account: str) -> Response:
    wanted = {k: request.args.get(k) for k in ("To", "From", "Status") if request.args.get(k)}
    with net().lock:
        calls = [c.resource() for c in net().calls.values()]
    calls = [c for c in calls if all(c[k.lower()] == v for k, v in wanted.items())]
    calls.reverse()  # Twilio lists newest first
    return page("calls", calls)


def page(key: str, items: list[dict[str, Any]]) -> Response:
    """One page holding every item, with Twilio's paging fields (no next page)."""
    uri = request.full_path.rstrip("?")
    return jsonify(
        {
            key: items,
            "start": 0,
            "end": max(0, len(items) - 1),
            "page": 0,
            "page_size": len(items) or 50,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
            "uri": uri,
        }
    )


@bp.get("/Accounts/<account>/Calls/<sid>.json")
def fetch_call(account: str, sid: str) -> Response:
    with net().lock:
        call = net().calls.get(sid)
        return jsonify(call.resource()) if call else not_found()


@bp.post("/Accounts/<account>/Calls/<sid>.json")
def update_call(account: str, sid: str) -> Response:
    form = request.form
    try:
        call = net().update_call(
            sid,
            status=form.get("Status") or None,
            url=form.get("Url") or None,
            method=form.get("Method") or "POST",
            twiml=form.get("Twiml") or None,
            status_callback=form.get("StatusCallback") or None,
        )
    except UpdateError as exc:
        return not_found() if exc.status == 404 else twilio_error(exc.status, exc.code, exc.message)
    with net().lock:
        return jsonify(call.resource())


@bp.get("/Accounts/<account>/Conferences.json")
def list_conferences(account: str) -> Response:
    """FriendlyName and Status (init, in-progress, completed) filter, as Twilio's do; newest first."""
    name, status = request.args.get("FriendlyName"), request.args.get("Status")
    with net().lock:
        rooms = [
            room.resource()
            for room in net().rooms.rooms.values()
            if (name is None or room.name == name) and (status is None or room.state == status)
        ]
    rooms.reverse()
    return page("conferences", rooms)


@bp.get("/Accounts/<account>/Conferences/<sid>.json")
def fetch_conference(account: str, sid: str) -> Response:
    with net().lock:
        room = net().rooms.rooms.get(sid)
        return jsonify(room.resource()) if room else not_found()


@bp.get("/Accounts/<account>/Conferences/<sid>/Participants.json")
def list_participants(account: str, sid: str) -> Response:
    """The calls in the room now (a room that is over has none), oldest first."""
    muted = request.args.get("Muted")
    with net().lock:
        room = net().rooms.rooms.get(sid)
        if room is None:
            return not_found()
        people = [
            p.resource(room)
            for p in room.participants.values()
            if room.state != "completed" and not p.removed and (muted is None or str(p.muted).lower() == muted.lower())
        ]
    return page("participants", people)


@bp.post("/Accounts/<account>/Messages.json")
def create_message(account: str) -> Response | tuple[Any, int]:
    form = request.form
    to, from_, body = form.get("To", "").strip(), form.get("From", "").strip(), form.get("Body", "")
    media = form.getlist("MediaUrl")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to):
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not from_ and not form.get("MessagingServiceSid"):
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not body and not media:
        return twilio_error(400, 21602, "Message body is required.")
    msg = record_outbound(
        net(), to, from_ or net().config.number, body, "rest", form.get("StatusCallback") or None, media
    )
    resource = message_resource(msg)
    resource["status"] = "queued"
    return jsonify(resource), 201


@bp.get("/Accounts/<account>/Messages/<sid>.json")
def fetch_message(account: str, sid: str) -> Response:
    with net().lock:
        msg = next((m for m in net().messages if m["sid"] == sid), None)
        return jsonify(message_resource(msg)) if msg else not_found()


@bp.route("/<path:anything>", methods=["GET", "POST", "DELETE"])
def unknown(anything: str) -> Response:
    return not_found()
