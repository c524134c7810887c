"""A liaison's texts: ON (with today's languages, or the usual ones), OFF, STATUS, CODES.

Duty set by text overrides the roster's schedule until the next ON or OFF (or a sergeant's
change on the dashboard); an ON that answers a call-out lasts until midnight (callouts.py). ON
also lifts a pause after missed offers. CANCEL <booking no.> drops the liaison out of a
booking (booking_desk.py). Every change is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch import clock, events
from dispatch.booking_desk import BookingDesk
from dispatch.callouts import CallOuts
from dispatch.context import Service
from dispatch.languages import Language
from dispatch.missed_offers import paused_label, resume
from dispatch.pauses import Pauses
from dispatch.roster import Liaison
from dispatch.sms import replies
from dispatch.sms.parse import Parsed

CODES_SHOWN = 20


@dataclass(eq=False)
class LiaisonTexts(Service):
    def answer(self, liaison: Liaison, p: Parsed) -> str:
        board = self.ctx.liaisons
        number = BookingDesk.cancel_text(p.text)
        if number is not None:
            return BookingDesk(self.ctx).drop_out(liaison, number)
        if p.command == "ON":
            resume(self.ctx, liaison.id, liaison.id)
        until = CallOuts(self.ctx).answered_on(liaison.id) if p.command == "ON" else None
        if p.command == "OFF":
            board.set_duty(liaison.id, False)
            events.audit(self.ctx.redis, liaison.id, "duty_off", liaison.id, "by text")
            return replies.LIAISON_OFF
        if p.command == "ON":
            if not p.args:
                board.set_languages(liaison.id, None)
                board.set_duty(liaison.id, True, until)
                events.audit(self.ctx.redis, liaison.id, "duty_on", liaison.id, "by text; usual languages")
                return replies.liaison_on(self._languages(liaison.languages), usual=True)
            found, missed = self._read_codes(p.args)
            if not found:
                return replies.LIAISON_NO_CODES
            board.set_languages(liaison.id, [language.id for language in found])
            board.set_duty(liaison.id, True, until)
            events.audit(
                self.ctx.redis,
                liaison.id,
                "duty_on",
                liaison.id,
                "by text; languages " + ",".join(language.id for language in found),
            )
            return replies.liaison_on(found, usual=False, unrecognised=missed)
        if p.command == "STATUS":
            status = board.status(liaison.id)
            if status.duty_override:
                on, source = status.duty_override == "on", "set by text"
            else:
                on, source = liaison.on_duty_at(clock.utc_datetime()), "schedule"
            langs = status.languages_override if status.languages_override is not None else liaison.languages
            misses = Pauses(self.ctx.redis).paused([liaison.id]).get(liaison.id)
            if misses:
                on, source = False, paused_label(misses)
            return replies.liaison_status(on, self._languages(langs), source)
        if p.command == "CODES":
            return replies.codes(self.ctx.catalog.top(CODES_SHOWN))
        return replies.LIAISON_HELP

    def _languages(self, ids: tuple[str, ...] | list[str]) -> list[Language]:
        return [language for language in (self.ctx.catalog.get(i) for i in ids) if language is not None]

    def _read_codes(self, pieces: tuple[str, ...]) -> tuple[list[Language], int]:
        """ "ES BN", "spanish, haitian creole" → languages, and how many words named none.

        Greedy, longest first over up to three words, so "haitian creole" is one
        language and a stray word is counted, not silently dropped."""
        found: list[Language] = []
        missed = 0

        def one(text: str, single: bool) -> Language | None:
            res = self.ctx.catalog.resolve(text)
            if res.kind != "match" or (not single and res.via == "speech"):
                return None
            return res.language

        for piece in pieces:
            words = piece.split()
            i = 0
            while i < len(words):
                for size in range(min(3, len(words) - i), 0, -1):
                    language = one(" ".join(words[i : i + size]), size == 1)
                    if language is not None:
                        found.append(language)
                        i += size
                        break
                else:
                    missed += 1
                    i += 1
        return list(dict.fromkeys(found)), missed
