"""The application factory: one app, one blueprint per area, the services from bootstrap.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix

from bootstrap import Wiring, bootstrap
from logs import add_id_source, ids_in
from webhooks.api_token_cli import api_token_cli
from webhooks.coverage_cli import coverage_cli
from webhooks.fallback import install_error_handlers
from webhooks.refusals import RefusalLog
from webhooks.twilio_auth import Signer
from webhooks.twilio_cli import twilio_cli
from webhooks.webhook_request import WebhookRequest

HSTS = "max-age=31536000; includeSubDomains"


STREAM_PATHS = ("/dashboard/stream",)
DASHBOARD_PATHS = ("/dashboard/",)
DASHBOARD_CONCURRENCY = 2


class RequestGate:
    """At most `limit` requests compute at once in this process, and dashboard requests
    (pages, snapshots, actions) at most `side_limit` of their own; event streams are exempt.

    It matters where one process has many threads: the Procfile's `dashboard` process,
    whose threads are mostly event streams holding a thread each for minutes. Streams
    mostly sleep; the rest compute, and past a few computing threads Python threads only
    fight over the GIL. A dashboard snapshot read costs CPU per open request: with their own
    slots, a burst of them never holds up the page's other requests. Requests past a limit
    wait here, as in a smaller thread pool.
    (A `web` process's 2 threads are below both limits.)
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        limit: int,
        exempt: tuple[str, ...] = (),
        side: tuple[str, ...] = (),
        side_limit: int = DASHBOARD_CONCURRENCY,
    ):
        self.app = app
        self.exempt = exempt
        self.side = side
        self.slots = threading.BoundedSemaphore(limit)
        self.side_slots = threading.BoundedSemaphore(side_limit)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.exempt):
            return self.app(environ, start_response)
        with self.side_slots if self.side and path.startswith(self.side) else self.slots:
            return self.app(environ, start_response)


def request_ids() -> dict[str, str]:
    """The request and call a web request is about, for JSON log lines (logs.py): our own
    callback URL's request id, and Twilio's CallSid only once the handler has parsed the form
    (a log line must not make us read a stranger's body)."""
    if not has_request_context():
        return {}
    values = [request.args.get("request") or request.args.get("r", "")]
    if "form" in request.__dict__:  # already parsed by the handler: reading it costs nothing more
        values.append(request.form.get("CallSid", ""))
    return ids_in(values)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, with the signing serializer built once per secret key.

    Flask builds a new serializer for every request, and every request opens the session,
    webhooks included (docs/performance.md).
    """

    _built: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = self._built
        if built is None or built[0] != key:
            built = self._built = (key, super().get_signing_serializer(app))
        return built[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No Cookie header, no session to read: Twilio's webhooks never carry one."""
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def create_app(wiring: Wiring | None = None) -> Flask:
    """Build the web app on `wiring` (by default bootstrap's, from the environment). Fails at
    start (ConfigError) on a bad roster or environment."""
    wiring = wiring or bootstrap()
    settings, context = wiring.settings, wiring.ctx
    app = Flask(__name__)
    app.request_class = WebhookRequest
    app.session_interface = _SessionInterface()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=64 * 1024,
        DASHBOARD_MAX_STREAMS=settings.dashboard_max_streams,
    )
    # Flask's documented way to add WSGI middleware is to replace the method.
    app.wsgi_app = RequestGate(  # type: ignore[method-assign]
        app.wsgi_app,
        settings.request_concurrency,
        exempt=STREAM_PATHS,
        side=DASHBOARD_PATHS,
    )
    if settings.trusted_proxies:
        # The client address and scheme as the proxies saw them, believing only the last N hops
        # (without proxies X-Forwarded-For is anyone's to forge). Never the Host, port or
        # prefix: signatures are checked against PUBLIC_BASE_URL, not the request's own URL.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)  # type: ignore[method-assign]  # as above
    app.extensions["wiring"] = wiring
    app.extensions["twilio_validator"] = RequestValidator(settings.twilio_auth_token)
    app.extensions["twilio_signer"] = Signer(settings.twilio_auth_token)
    app.extensions["refusals"] = RefusalLog(
        logging.getLogger("webhooks.refused"), settings.refused_log_lines, settings.refused_log_interval
    )
    if not settings.local_mode:

        @app.after_request
        def _hsts(response: Response) -> Response:
            """Browsers keep to https for this host (the dashboard's session cookie included)."""
            response.headers.setdefault("Strict-Transport-Security", HSTS)
            return response

    try:
        context.liaisons.sync([liaison.id for liaison in context.roster.liaisons])
    except Exception as exc:  # Redis down at start: still serve the no-Redis fallback TwiML
        logging.getLogger("webhooks").error(
            "Redis unavailable at start (%s); calls go direct to the vendor", type(exc).__name__
        )

    from webhooks import (
        codes,
        dashboard,
        fallback,
        health,
        metrics,
        sms,
        voice_callback,
        voice_interpreters,
        voice_ivr,
        voice_rejoin,
        voice_report,
        voice_room,
    )

    for module in (
        health,
        voice_ivr,
        voice_room,
        voice_interpreters,
        voice_rejoin,
        voice_report,
        fallback,
        codes,
        sms,
        voice_callback,
        dashboard,
        metrics,
    ):
        app.register_blueprint(module.bp)
    install_error_handlers(app)
    app.cli.add_command(api_token_cli)
    app.cli.add_command(twilio_cli)
    add_id_source("web request", request_ids)
    app.cli.add_command(coverage_cli)
    return app
