"""IncomingPhoneNumbers: the service number's webhooks, as Twilio's REST API holds them.

`GET IncomingPhoneNumbers.json` (PhoneNumber filter: digits, `*` for any digit, matched
anywhere in the number, as Twilio's), `GET` and `POST IncomingPhoneNumbers/{sid}.json`
(fetch, update), in the JSON shape the twilio SDK reads. The number's voice, fallback,
status callback and SMS URLs and methods are the simulator's own configuration, so an
update changes where the next inbound call or text goes, as it does on Twilio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from simulator.calls import API_VERSION, new_sid, rfc2822, utcnow
from simulator.config import SimulatorConfig
from simulator.rest_api import authenticate_and_inject_faults, net, not_found, page, twilio_error

bp = Blueprint("twilio_numbers", __name__, url_prefix=f"/{API_VERSION}")
bp.before_request(authenticate_and_inject_faults)

# Form field → (SimulatorConfig attribute, kind). URLs may be "" (unset); methods GET or POST.
UPDATABLE = {
    "VoiceUrl": ("voice_url", "url"),
    "VoiceMethod": ("voice_method", "method"),
    "VoiceFallbackUrl": ("voice_fallback_url", "url"),
    "VoiceFallbackMethod": ("voice_fallback_method", "method"),
    "StatusCallback": ("voice_status_url", "url"),
    "StatusCallbackMethod": ("voice_status_method", "method"),
    "SmsUrl": ("sms_url", "url"),
    "SmsMethod": ("sms_method", "method"),
}


@dataclass
class ServiceNumber:
    """The account's one number: its webhooks live in `config`, the rest here."""

    config: SimulatorConfig
    sid: str = field(default_factory=lambda: new_sid("PN"))
    friendly_name: str = ""
    voice_application_sid: str = ""
    sms_application_sid: str = ""
    created: datetime = field(default_factory=utcnow)
    updated: datetime = field(default_factory=utcnow)

    def resource(self) -> dict[str, Any]:
        c = self.config
        uri = f"/{API_VERSION}/Accounts/{c.account_sid}/IncomingPhoneNumbers/{self.sid}.json"
        return {
            "sid": self.sid,
            "account_sid": c.account_sid,
            "phone_number": c.number,
            "friendly_name": self.friendly_name or c.number,
            "api_version": API_VERSION,
            "voice_url": c.voice_url or None,
            "voice_method": c.voice_method,
            "voice_fallback_url": c.voice_fallback_url or None,
            "voice_fallback_method": c.voice_fallback_method,
            "status_callback": c.voice_status_url or None,
            "status_callback_method": c.voice_status_method,
            "voice_caller_id_lookup": False,
            "voice_application_sid": self.voice_application_sid or None,
            "sms_url": c.sms_url or None,
            "sms_method": c.sms_method,
            "sms_fallback_url": None,
            "sms_fallback_method": "POST",
            "sms_application_sid": self.sms_application_sid or None,
            "trunk_sid": None,
            "voice_receive_mode": "voice",
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "address_requirements": "none",
            "address_sid": None,
            "identity_sid": None,
            "bundle_sid": None,
            "beta": False,
            "origin": "twilio",
            "status": "in-use",
            "type": "local",
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.updated),
            "uri": uri,
            "subresource_uris": {"assigned_add_ons": uri.replace(".json", "/AssignedAddOns.json")},
        }


def service_number() -> ServiceNumber:
    found = current_app.extensions.get("sim_service_number")
    if found is None:
        found = current_app.extensions["sim_service_number"] = ServiceNumber(net().config)
    return found


def matches(pattern: str, number: str) -> bool:
    """Twilio's PhoneNumber filter: its digits (`*` any one) anywhere in the number."""
    digits = re.sub(r"[^0-9*]", "", pattern)
    return bool(digits) and re.search(digits.replace("*", "[0-9]"), number) is not None


@bp.get("/Accounts/<account>/IncomingPhoneNumbers.json")
def list_numbers(account: str) -> Response:
    number = service_number()
    wanted = request.args.get("PhoneNumber")
    friendly = request.args.get("FriendlyName")
    found = [number.resource()]
    if wanted is not None and not matches(wanted, number.config.number):
        found = []
    if friendly is not None and found and found[0]["friendly_name"] != friendly:
        found = []
    return page("incoming_phone_numbers", found)


@bp.get("/Accounts/<account>/IncomingPhoneNumbers/<sid>.json")
def fetch_number(account: str, sid: str) -> Response:
    number = service_number()
    return jsonify(number.resource()) if sid == number.sid else not_found()


@bp.post("/Accounts/<account>/IncomingPhoneNumbers/<sid>.json")
def update_number(account: str, sid: str) -> Response:
    number = service_number()
    if sid != number.sid:
        return not_found()
    form = request.form
    values: dict[str, str] = {}
    for name, (attribute, kind) in UPDATABLE.items():
        if name not in form:
            continue
        value = form[name].strip()
        if kind == "url" and value and not value.startswith(("http://", "https://")):
            return twilio_error(400, 21502, f"{name} is not a valid URL: {value[:100]}")
        if kind == "method":
            value = value.upper()
            if value not in ("GET", "POST"):
                return twilio_error(400, 21503, f"{name} must be GET or POST")
        values[attribute] = value
    with net().lock:
        for attribute, value in values.items():
            setattr(number.config, attribute, value)
        if "FriendlyName" in form:
            number.friendly_name = form["FriendlyName"][:64]
        for name, attribute in (
            ("VoiceApplicationSid", "voice_application_sid"),
            ("SmsApplicationSid", "sms_application_sid"),
        ):
            if name in form:
                setattr(number, attribute, form[name].strip())
        number.updated = utcnow()
    changed = ", ".join(sorted(k for k in form if k in UPDATABLE or k.endswith("ApplicationSid")))
    net().log.add(None, f"REST update of the service number: {changed or 'nothing'}")
    return jsonify(number.resource())
