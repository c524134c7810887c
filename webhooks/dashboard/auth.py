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
- Sign-in attempts are counted per username + address (and, with a higher limit, per
  address) in Redis before the password is checked; a success clears the count. Past
  the limit the password is not even checked (429 + Retry-After) until THROTTLE_WINDOW
  has passed since the last attempt.
- Role "viewer" sees everything; only "sergeant" may act (403 otherwise).
- Other tools may read the JSON API with HTTP Basic credentials (same hashes, same
  throttle); they cannot act, as actions need a session and its CSRF token.
"""
from __future__ import annotations

import base64
import functools
import hmac
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
from dispatch import clock, events, keys
from webhooks.dashboard import bp
from webhooks.deps import ctx

SERGEANT = "sergeant"             # the role that may act; "viewer" only sees
THROTTLE_WINDOW = 15 * 60        # seconds a failed sign-in counts against the limit
IP_LIMIT_FACTOR = 4              # an address may fail this many times the per-user limit
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
MAX_USERNAME, MAX_PASSWORD = 64, 256


@dataclass(frozen=True)
class SignedIn:
    """The person behind this request. `csrf` is empty for Basic-auth API readers."""

    username: str
    name: str
    role: str
    csrf: str
    session_id: str

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


# --------------------------------------------------------------------------- throttling
def _client_ip() -> str:
    return request.remote_addr or "unknown"


def count_attempt(username: str, ip: str) -> int:
    """Count a sign-in attempt before checking it; seconds to wait if over the limit, else 0.

    Counting first (INCR is atomic) means parallel guesses cannot slip past the limit
    between a check and an increment. A success clears the username's count.
    """
    limit = max(1, ctx().settings.signin_max_failures)
    user_key, ip_key = keys.signin_failures_for(username, ip), keys.signin_failures_ip(ip)
    pipe = ctx().redis.pipeline()
    for key in (user_key, ip_key):
        pipe.incr(key)
        pipe.expire(key, THROTTLE_WINDOW)  # sliding: the window restarts at each attempt
    user_count, _, ip_count, _ = pipe.execute()
    if int(user_count) > limit or int(ip_count) > limit * IP_LIMIT_FACTOR:
        return THROTTLE_WINDOW
    return 0


def clear_attempts(username: str, ip: str) -> None:
    pipe = ctx().redis.pipeline()
    pipe.delete(keys.signin_failures_for(username, ip))
    pipe.decr(keys.signin_failures_ip(ip))  # a success is not a failure from this address
    pipe.execute()


@functools.cache
def _decoy_hash() -> str:
    """Checked for unknown usernames so a wrong name costs as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


def verify(username: str, password: str) -> User | None:
    """The roster user if the password matches its hash, else None (constant-ish time)."""
    user = ctx().roster.user(username)
    ok = check_password_hash(user.password_hash if user else _decoy_hash(), password)
    return user if ok and user is not None else None


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def authenticate(username: str, password: str) -> User | None:
    """Count the attempt, then check the password. Raises Throttled past the limit."""
    username, password = username.strip()[:MAX_USERNAME], password[:MAX_PASSWORD]
    ip = _client_ip()
    wait = count_attempt(username, ip)
    if wait:
        raise Throttled(wait)
    user = verify(username, password) if username and password else None
    if user is not None:
        clear_attempts(username, ip)
    return user


def _basic_auth() -> SignedIn | None:
    """HTTP Basic for read-only tools; None when absent or wrong (throttled like sign-in)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        username, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    try:
        user = authenticate(username, password)
    except Throttled:
        return None
    return SignedIn(user.username, user.name, user.role, "", "") if user else None


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
    resp = jsonify(error="signed out after inactivity" if expired else "sign in required",
                   reason="expired" if expired else "signin")
    resp.status_code = 401
    if "Authorization" in request.headers:  # a tool that tried Basic; never prompt the page's fetches
        resp.headers["WWW-Authenticate"] = 'Basic realm="dispatch dashboard", charset="UTF-8"'
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
    """Read-only data (JSON, the stream): session or Basic; does not renew the idle timeout."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = load_session(touch=False) or _basic_auth()
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
def _signin_page(message: str = "", status: int = 200, username: str = "") -> Response:
    html = render_template("dashboard/signin.html", csrf=signin_csrf(), message=message, username=username,
                           idle_minutes=ctx().settings.session_idle_minutes)
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
    except Throttled as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        resp = _signin_page(f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                            status=429, username=username[:MAX_USERNAME])
        resp.headers["Retry-After"] = str(exc.retry_after)
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
