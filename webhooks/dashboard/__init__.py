"""The duty sergeant's live queue: page, actions, JSON API and event stream under /dashboard.

One blueprint (blueprint.py), split by concern: auth (sign-in, sessions, CSRF, roles), views
(the page and the actions), api (JSON), stream (server-sent events, fanned out by broadcast),
coverage (the coverage report for sergeants and commanders).
Data shaping lives in dispatch.queue_view and dispatch.stats; reading Redis for it in snapshot.
"""

from webhooks.dashboard import api, auth, coverage, stream, views
from webhooks.dashboard.blueprint import bp

__all__ = ["api", "auth", "bp", "coverage", "stream", "views"]
