"""The worker process's wiring, built once per process and reused by every job."""

from __future__ import annotations

import functools

from config.settings import Settings
from dispatch.context import Context, build_context
from dispatch.routing import Dispatcher
from workers.jobqueue import RQJobs


@functools.lru_cache(maxsize=1)
def context() -> Context:
    settings = Settings.from_env()
    return build_context(settings, jobs=RQJobs.from_settings(settings))


@functools.lru_cache(maxsize=1)
def dispatcher() -> Dispatcher:
    from workers.notifications import on_failed  # imported late: it uses context()

    return Dispatcher(context(), on_failed=on_failed)
