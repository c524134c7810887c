"""Request-scope access to the wiring the app factory built (bootstrap.Wiring)."""
from __future__ import annotations

from flask import current_app, request

from bootstrap import Wiring
from config.settings import Settings
from dispatch.context import Context


def wiring() -> Wiring:
    wired: Wiring = current_app.extensions["wiring"]
    return wired


def ctx() -> Context:
    return wiring().ctx


def settings() -> Settings:
    return wiring().settings


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
