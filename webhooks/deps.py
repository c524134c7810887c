"""Request-scope access to the wiring built by the app factory."""

from __future__ import annotations

from flask import current_app, request

from dispatch.context import Context
from dispatch.routing import Dispatcher


def ctx() -> Context:
    return current_app.extensions["dispatch_context"]


def dispatcher() -> Dispatcher:
    return current_app.extensions["dispatcher"]


def arg(name: str, default: str = "") -> str:
    """A query parameter we put in our own callback URL (covered by the signature)."""
    return request.args.get(name, default)


def form(name: str, default: str = "") -> str:
    """A Twilio form field, bounded so absurd input cannot cost us."""
    return request.form.get(name, default)[:2000]


def int_arg(name: str, default: int = 0) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default
