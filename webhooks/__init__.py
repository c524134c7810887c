"""Flask entry points: thin handlers that parse Twilio's request, call dispatch/, answer TwiML."""

from webhooks.app import create_app

__all__ = ["create_app"]
