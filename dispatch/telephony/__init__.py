"""The telephony port and its adapter on the official twilio SDK."""
from dispatch.telephony.port import CallRequest, Telephony, TelephonyError

__all__ = ["CallRequest", "Telephony", "TelephonyError"]
