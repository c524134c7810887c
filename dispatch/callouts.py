"""Call-outs: when a language waits with no free liaison, text the off-duty ones who speak it.

The dashboard shows, on a request that waits (or went to the vendor) for lack of a liaison,
how many liaisons who speak its language are off duty or paused, and not booked elsewhere
("2 off-duty liaisons speak Bengali"); a sergeant's button texts them. A liaison who answers
ON is on duty until midnight (a duty override that ends by itself), not for good. One
call-out per language per CALLOUT_EVERY_SECONDS; each is audited; the text names the
language only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dispatch import clock, keys, rate_limit
from dispatch.audit_live import audit_live
from dispatch.availability import booked_now
from dispatch.context import Service
from dispatch.liaisons import ON_CALL, RINGING
from dispatch.pauses import Pauses
from dispatch.queue_view import on_duty
from dispatch.roster import Liaison
from dispatch.sms.to_liaisons import local, text_liaison

log = logging.getLogger("dispatch.callouts")


def callout_text(language: str) -> str:
    return f"{language} requests are waiting. Reply ON to take calls now."


@dataclass(frozen=True)
class CallOutResult:
    language: str
    texted: tuple[str, ...]  # liaison ids
    refused: str = ""  # why nobody was texted


@dataclass(eq=False)
class CallOuts(Service):
    def reachable(self, languages: Iterable[str], now: float | None = None) -> dict[str, list[Liaison]]:
        """Per language: liaisons who speak it (today's languages) and are off duty or paused,
        not booked and not on a call: those a call-out would text."""
        wanted = set(languages)
        if not wanted:
            return {}
        now = clock.now() if now is None else now
        roster = self.ctx.roster.liaisons
        statuses = {s.id: s for s in self.ctx.liaisons.statuses([liaison.id for liaison in roster])}
        paused = Pauses(self.ctx.redis).paused([liaison.id for liaison in roster])
        booked = booked_now(self.ctx, now)
        at = clock.utc_datetime(now)
        out: dict[str, list[Liaison]] = {language: [] for language in wanted}
        for liaison in roster:
            status = statuses[liaison.id]
            if liaison.id in booked or status.state in (RINGING, ON_CALL):
                continue
            if on_duty(liaison, status, at) and liaison.id not in paused:
                continue
            speaks = status.languages_override if status.languages_override is not None else liaison.languages
            for language in wanted.intersection(speaks):
                out[language].append(liaison)
        return out

    def call_out(self, language: str, who: str) -> CallOutResult:
        """Text every reachable speaker of `language`; refused (and audited) when nobody is
        reachable or a call-out for it went out within CALLOUT_EVERY_SECONDS."""
        found = self.ctx.catalog.get(language)
        name = found.name if found else language
        targets = self.reachable([language]).get(language, [])
        every = self.ctx.settings.callout_every_seconds
        if not targets:
            result = CallOutResult(language, (), f"no off-duty liaison speaks {name}")
        elif not rate_limit.allow(self.ctx.redis, "callout", language, 1, every):
            result = CallOutResult(language, (), f"{name} was called out less than {_minutes(every)} ago")
        else:
            midnight = next_midnight(self)
            texted = []
            for liaison in targets:
                self.ctx.redis.set(keys.callout_sent(liaison.id), language, exat=int(midnight))
                if text_liaison(self.ctx, liaison.id, callout_text(name)):
                    texted.append(liaison.id)
            result = CallOutResult(language, tuple(texted))
        outcome = f"refused: {result.refused}" if result.refused else f"done: texted {', '.join(result.texted)}"
        audit_live(self.ctx, who, "callout", language, outcome)
        log.info("call-out for %s by %s: %s", language, who, outcome)
        return result

    def answered_on(self, liaison_id: str) -> float | None:
        """A liaison's ON after a call-out today: until when it puts them on duty (the next
        midnight); None when no call-out reached them today."""
        if not self.ctx.redis.exists(keys.callout_sent(liaison_id)):
            return None
        self.ctx.redis.delete(keys.callout_sent(liaison_id))
        return next_midnight(self)


def next_midnight(service: Service) -> float:
    """The next midnight in the roster's time zone, as an epoch."""
    today = local(service.ctx)
    return datetime.combine(today.date() + timedelta(days=1), time(0), tzinfo=today.tzinfo).timestamp()


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
