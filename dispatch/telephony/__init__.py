"""The telephony port: the small surface the domain needs from a phone network (the adapter on
the twilio SDK is adapters/twilio_telephony.py)."""

from dispatch.telephony.port import ENDED, LIVE, NOT_ANSWERED, CallInfo, CallRequest, Telephony, TelephonyError

__all__ = ["ENDED", "LIVE", "NOT_ANSWERED", "CallInfo", "CallRequest", "Telephony", "TelephonyError"]
