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
    wired: Wiring = current_app.extensions["wiring"]
    return wired.ctx


def settings() -> Settings:
    wired: Wiring = current_app.extensions["wiring"]
    return wired.settings


# The names the query parameters had before they were spelled out. A call in flight during a
# deploy still posts to URLs handed out before it (a hold loop, a menu, a status callback), and
# Twilio signed them as they are: they are read under their new names.
LEGACY_NAMES = {
    "request": "r",
    "offer": "o",
    "liaison": "l",
    "dial": "v",
    "drop": "k",
    "recall": "k",
    "why": "m",
    "main_menu": "m",
    "tries": "t",
    "urgent": "u",
    "precinct": "p",
    "again": "c",
    "prompts": "n",
    "language": "lang",
    "choices": "opts",
}


def arg(name: str, default: str = "") -> str:
    """A query parameter we put in our own callback URL (covered by the signature)."""
    args = request.args  # (`in` first: a miss in werkzeug's MultiDict.get builds an exception)
    if name in args:
        return str(args[name])
    old = LEGACY_NAMES.get(name)
    return str(args[old]) if old is not None and old in args else default


def form(name: str, default: str = "") -> str:
    """A Twilio form field, bounded so absurd input cannot cost us."""
    return request.form.get(name, default)[:2000]


def int_arg(name: str, default: int = 0) -> int:
    try:
        return int(arg(name, str(default)))
    except ValueError:
        return default
