"""The telephony port and its adapter on the official twilio SDK."""

from dispatch.telephony.port import CallInfo, CallRequest, Telephony, TelephonyError

__all__ = ["CallInfo", "CallRequest", "Telephony", "TelephonyError"]
