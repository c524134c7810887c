"""The duty sergeant's live queue: page, actions, JSON API and event stream under /dashboard.

One blueprint (blueprint.py), split by concern: auth (sign-in, sessions, CSRF, roles), views
(the page and the actions), bookings (liaisons' bookings, call-outs, calendar feeds), api
(JSON), stream (server-sent events, fanned out by broadcast), coverage (the coverage report for
sergeants and commanders).
Data shaping lives in dispatch.queue_view and dispatch.stats; reading Redis for it in snapshot.
"""

from webhooks.dashboard import api, auth, bookings, coverage, favicon, receipt, stream, views
from webhooks.dashboard.blueprint import bp

__all__ = ["api", "auth", "bookings", "bp", "coverage", "favicon", "receipt", "stream", "views"]
