"""Sign test webhooks exactly as Twilio does, with the SDK's RequestValidator."""

from __future__ import annotations

from typing import Mapping

from twilio.request_validator import RequestValidator

from config.settings import Settings


def signature(settings: Settings, path_and_query: str, params: Mapping[str, str]) -> str:
    url = settings.public_base_url.rstrip("/") + path_and_query
    return RequestValidator(settings.twilio_auth_token).compute_signature(url, dict(params))


def signed_post(client, settings: Settings, path_and_query: str, params: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """POST form `params` to the Flask test client with a valid X-Twilio-Signature."""
    sig = signature(settings, path_and_query, params)
    return client.post(path_and_query, data=dict(params), headers={"X-Twilio-Signature": sig})
