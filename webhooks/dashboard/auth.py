"""Who may see the dashboard and who may act on it.

- Sign-in checks the roster's werkzeug password hashes. The browser's cookie (Flask's
  signed session: HttpOnly, SameSite=Strict, Secure outside local runs, set by the app
  factory) carries only a random session id; the session itself (username, CSRF token)
  is a Redis hash whose TTL is the idle timeout. So every web process agrees on it,
  signing out really ends it, and an idle session simply expires.
- Idle means no *person* activity: page loads and POSTs (actions, the page's keep-alive
  after a key press or tap) renew the TTL; the page's own background refreshes and the
  event stream do not, or an unattended tab would stay signed in forever.
- Every POST carries the session's CSRF token (form field or X-CSRF-Token header):
  missing → 400, wrong → 403, before anything else happens. The sign-in form has its
  own token in the cookie session, against login CSRF.
- Failed sign-ins lock the guesser out, not everyone (dispatch.signin_lock): counted per
  (client address, username) and per client address; while locked, an attempt gets 429
  with the time left (page and Retry-After) and its password is not checked. The client
  address is the socket's, or X-Forwarded-For's as far as TRUSTED_PROXIES allows (the app
  factory's ProxyFix). Failures are audited as aggregated refusals (dispatch.audit):
  the username tried (escaped, bounded) and the masked address, never the password.
- Role "viewer" sees everything; only "sergeant" may act (403 otherwise).
- Other tools read the JSON API and the event stream with an API token
  (`Authorization: Bearer ...`, dispatch.api_tokens): one SHA-256 per request instead of a
  scrypt check, so polling tools do not slow the sergeants. Tokens cannot act: actions need
  a session and its CSRF token. HTTP Basic is not accepted (it cost scrypt per request).
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import (
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash

from config.roster import User
from dispatch import api_tokens, clock, client_address, events, keys
from dispatch.audit import printable
from dispatch.signin_lock import Locked, SigninLock
from webhooks.dashboard import bp
from webhooks.deps import ctx

log = logging.getLogger("webhooks.dashboard.auth")

SERGEANT = "sergeant"  # the role that may act; "viewer" only sees
API_READER = "api"  # an API token's role: reads only
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
MAX_USERNAME, MAX_PASSWORD = 64, 256


@dataclass(frozen=True)
class SignedIn:
    """Who is behind this request: a person's session, or a tool's API token (`token` set,
    `csrf` and `session_id` empty)."""

    username: str
    name: str
    role: str
    csrf: str
    session_id: str
    token: str = ""

    @property
    def can_act(self) -> bool:
        return self.role == SERGEANT

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "role": self.role, "can_act": self.can_act}


# --------------------------------------------------------------------------- sessions
def idle_seconds() -> int:
    return max(60, int(ctx().settings.session_idle_minutes) * 60)


def start_session(user: User) -> SignedIn:
    """A fresh session id and CSRF token (rotated at every sign-in: no fixation)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    key = keys.dashboard_session(sid)
    pipe = ctx().redis.pipeline()
    old = session.get("sid")
    if isinstance(old, str) and old:
        pipe.delete(keys.dashboard_session(old))  # signing in again ends the previous session
    pipe.hset(key, mapping={"username": user.username, "csrf": csrf, "created": repr(clock.now())})
    pipe.expire(key, idle_seconds())
    pipe.execute()
    session.clear()
    session["sid"] = sid
    return SignedIn(user.username, user.name, user.role, csrf, sid)


def end_session() -> None:
    sid = session.get("sid")
    if isinstance(sid, str):
        ctx().redis.delete(keys.dashboard_session(sid))
    session.clear()


def session_alive(r: redis.Redis, session_id: str) -> bool:
    """Still signed in? (The event stream asks this between reads, without a request.)"""
    return bool(r.exists(keys.dashboard_session(session_id)))


def load_session(touch: bool) -> SignedIn | None:
    """The signed-in user from the cookie's session id; `touch` renews the idle timeout.

    Sets g.session_expired when the cookie named a session that no longer exists,
    so the sign-in page can say why.
    """
    sid = session.get("sid")
    if not isinstance(sid, str) or not sid:
        return None
    r = ctx().redis
    key = keys.dashboard_session(sid)
    raw = {k.decode(): v.decode() for k, v in r.hgetall(key).items()}
    user = ctx().roster.user(raw.get("username", "")) if raw else None
    if user is None:  # expired, signed out elsewhere, or the user left the roster
        g.session_expired = True
        session.pop("sid", None)  # say so once, then it is an ordinary signed-out browser
        return None
    if touch:
        r.expire(key, idle_seconds())
    return SignedIn(user.username, user.name, user.role, raw.get("csrf", ""), sid)


def still_signed_in(r: redis.Redis, user: SignedIn) -> bool:
    """The session not ended (signed out, idle) or the token not revoked."""
    return api_tokens.alive(r, user.token) if user.token else session_alive(r, user.session_id)


# --------------------------------------------------------------------------- sign-in lock
def signin_lock() -> SigninLock:
    s = ctx().settings
    return SigninLock(ctx().redis, s.signin_max_failures, s.signin_ip_max_failures, s.signin_lock_seconds)


@functools.cache
def _decoy_hash() -> str:
    """Checked for unknown usernames so a wrong name costs as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


def verify(username: str, password: str) -> User | None:
    """The roster user if the password matches its hash, else None (constant-ish time)."""
    user = ctx().roster.user(username)
    ok = check_password_hash(user.password_hash if user else _decoy_hash(), password)
    return user if ok and user is not None else None


def _refused(username: str, address: str, outcome: str) -> None:
    """Audit a refused sign-in (one entry per username, masked address, outcome and hour);
    log only the hour's first, so a flood writes one line."""
    who, where = printable(username) or "(empty)", client_address.masked(address)
    if ctx().audit.refused("sign_in", who, where, outcome) == 1:
        log.info("sign-in %s: %s from %s (more this hour are counted in the audit log)", outcome, who, where)


def authenticate(username: str, password: str) -> User | None:
    """Check the password unless this client is locked out (raises Locked, nothing checked)."""
    username, password = username.strip()[:MAX_USERNAME], password[:MAX_PASSWORD]
    address = request.remote_addr or ""
    lock = signin_lock()
    try:
        attempt = lock.begin(client_address.throttle_key(address), username)
    except Locked:
        _refused(username, address, "refused: locked out")
        raise
    user = verify(username, password) if username and password else None
    if user is not None:
        lock.succeeded(attempt)
        return user
    locked = lock.failed(attempt)
    known = ctx().roster.user(username) is not None
    _refused(username, address, "refused: wrong password" if known else "refused: unknown username")
    if locked:
        log.warning(
            "sign-in locked out for %d s: %s from %s", locked, printable(username), client_address.masked(address)
        )
    return None


def _bearer() -> SignedIn | None:
    """An API token from `Authorization: Bearer ...`; None when absent, unknown or revoked."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    name = api_tokens.reader_name(ctx().redis, token)
    if name is None:
        return None
    return SignedIn(f"token:{name}", name, API_READER, "", "", token=token)


# --------------------------------------------------------------------------- CSRF
def csrf_ok(expected: str) -> None:
    """Abort 400 when the token is missing, 403 when it does not match."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not sent:
        abort(400, description="CSRF token missing")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(403, description="CSRF token invalid")


def signin_csrf() -> str:
    """The sign-in form's token, kept in the cookie session until sign-in succeeds."""
    token = session.get("signin_csrf")
    if not isinstance(token, str) or not token:
        token = session["signin_csrf"] = secrets.token_urlsafe(32)
    return token


# --------------------------------------------------------------------------- guards
def _unauthenticated(wants_html: bool) -> Response:
    expired = bool(g.get("session_expired"))
    if wants_html:
        return redirect(url_for("dashboard.signin", expired=1) if expired else url_for("dashboard.signin"))
    resp = jsonify(
        error="signed out after inactivity" if expired else "sign in required",
        reason="expired" if expired else "signin",
    )
    resp.status_code = 401
    sent = request.headers.get("Authorization", "").partition(" ")[0].lower()
    if sent == "basic":  # a tool written for the old API: say what to do instead
        resp = jsonify(error="HTTP Basic is not accepted: use an API token (Authorization: Bearer ...)", reason="token")
        resp.status_code = 401
    if sent:  # a tool (the page's own fetches send no Authorization: never prompt them)
        challenge = 'Bearer realm="dispatch dashboard"'
        resp.headers["WWW-Authenticate"] = challenge + (', error="invalid_token"' if sent == "bearer" else "")
    return resp


def page(view: Callable[..., Any]) -> Callable[..., Any]:
    """An HTML page for a signed-in person; loading it counts as activity."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = load_session(touch=True)
        if user is None:
            return _unauthenticated(wants_html=True)
        g.user = user
        return view(*args, **kwargs)

    return wrapper


def reader(view: Callable[..., Any]) -> Callable[..., Any]:
    """Read-only data (JSON, the stream): session or API token; does not renew the idle timeout."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = load_session(touch=False) or _bearer()
        if user is None:
            return _unauthenticated(wants_html=False)
        g.user = user
        return view(*args, **kwargs)

    return wrapper


def post(role: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A POST from a signed-in page: session, then CSRF, then role (`None` = any role)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = load_session(touch=False)
            if user is None:
                return _unauthenticated(wants_html=False)
            csrf_ok(user.csrf)
            if role is not None and user.role != role:
                abort(403, description="your role may not do this")
            ctx().redis.expire(keys.dashboard_session(user.session_id), idle_seconds())
            g.user = user
            return view(*args, **kwargs)

        return wrapper

    return decorate


# --------------------------------------------------------------------------- routes
def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _signin_page(message: str = "", status: int = 200, username: str = "") -> Response:
    html = render_template(
        "dashboard/signin.html",
        csrf=signin_csrf(),
        message=message,
        username=username,
        idle_minutes=ctx().settings.session_idle_minutes,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/signin")
def signin() -> Response:
    if load_session(touch=False) is not None:
        return redirect(url_for("dashboard.index"))
    if request.args.get("expired") or g.get("session_expired"):
        minutes = ctx().settings.session_idle_minutes
        return _signin_page(f"You were signed out after {minutes} minutes without activity. Please sign in again.")
    if request.args.get("out"):
        return _signin_page("You have signed out.")
    return _signin_page()


@bp.post("/signin")
def signin_post() -> Response:
    csrf_ok(session.get("signin_csrf", ""))
    username = request.form.get("username", "")
    try:
        user = authenticate(username, request.form.get("password", ""))
    except Locked as exc:
        why = (
            "Another sign-in from your address is being checked."
            if exc.parallel
            else "Too many failed sign-ins from your address."
        )
        resp = _signin_page(
            f"{why} Try again in {_wait_text(exc.seconds)}.", status=429, username=username.strip()[:MAX_USERNAME]
        )
        resp.headers["Retry-After"] = str(exc.seconds)
        return resp
    if user is None:
        return _signin_page("Wrong username or password.", status=401, username=username[:MAX_USERNAME])
    start_session(user)
    events.audit(ctx().redis, user.username, "sign_in", "", "ok")
    return redirect(url_for("dashboard.index"), code=303)


@bp.post("/signout")
@post()
def signout() -> Response:
    events.audit(ctx().redis, g.user.username, "sign_out", "", "ok")
    end_session()
    return redirect(url_for("dashboard.signin", out=1), code=303)
