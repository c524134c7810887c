"""Texted requests: from an inbound SMS to a call back that joins the request's conference.

`SmsService.handle` answers one inbound text and returns the reply; the webhook only
wraps it in TwiML. The rules it keeps:

- The same MessageSid is handled once: the first reply is stored under a once-key
  and every redelivery gets it back, with nothing new queued.
- An unregistered number is refused politely and audited (counted per hour), without
  its text or number; rate limits count senders by a keyed hash (dispatch.pseudonyms), so
  it is never written down.
- Free text is never stored: a request record holds the language id; a pending
  confirmation holds the language id, the URGENT flag and the E.164 callback number.
- A texted callback number that is not in the roster (a scene's phone) is kept in full
  only until it is dialled: then the record holds it masked, with a keyed hash to spot a
  repeated request (dispatch.pseudonyms); replies show it masked.
- Phone numbers appear masked in every log line.

The call back is placed by a job (`place_callback`), answered at /voice/callback
(`callback_answered`), and ends at /voice/callback/status (`callback_ended`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import phonenumbers

from config.phone import mask, to_e164
from config.roster import Liaison, Supervisor
from dispatch import clock, events, keys, rate_limit
from dispatch import urls as paths
from dispatch.context import Context
from dispatch.languages import Language
from dispatch.pseudonyms import kept_number
from dispatch.records import RequestRecord
from dispatch.routing import Caller, Dispatcher
from dispatch.sms import replies
from dispatch.sms.parse import MAX_BODY, Parsed, parse, read_language
from dispatch.states import State
from dispatch.telephony import CallRequest, TelephonyError

log = logging.getLogger("dispatch.sms")

REPLY_TTL = 24 * 3600  # how long a MessageSid's reply is kept for redeliveries
PENDING_TTL = 10 * 60  # how long "Reply YES" stays answerable
CODES_SHOWN = 20
_WORKING = b"\x00working"  # placeholder while the first delivery is being handled
_DUPLICATE_WAIT = 3.0  # seconds a concurrent redelivery waits for the first reply


@dataclass(frozen=True)
class Inbound:
    """One inbound text as Twilio posts it (only the fields the service uses)."""

    sender: str
    body: str
    message_sid: str = ""
    num_media: int = 0


class SmsService:
    """Answers texts from supervisors (requests, commands) and liaisons (duty)."""

    def __init__(self, ctx: Context, dispatcher: Dispatcher) -> None:
        self.ctx = ctx
        self.r = ctx.redis
        self.dispatcher = dispatcher

    # ---------------------------------------------------------------- entry point
    def handle(self, msg: Inbound) -> str:
        """The reply to `msg`; a redelivered MessageSid gets the first reply, nothing redone."""
        msg = Inbound(msg.sender, (msg.body or "")[:MAX_BODY], msg.message_sid[:64], msg.num_media)
        key = keys.once("sms", msg.message_sid) if msg.message_sid else None
        if key and not self.r.set(key, _WORKING, nx=True, ex=REPLY_TTL):
            log.info("text %s from %s delivered again; answering as before", msg.message_sid[:12], mask(msg.sender))
            return self._earlier_reply(key)
        try:
            reply = self._handle(msg)
        except Exception:
            if key:
                self.r.delete(key)  # let a retry do the work
            raise
        if key:
            self.r.set(key, reply.encode(), ex=REPLY_TTL)
        return reply

    def _earlier_reply(self, key: str) -> str:
        deadline = time.monotonic() + _DUPLICATE_WAIT
        while True:
            stored = self.r.get(key)
            if stored is None:
                return replies.IN_PROGRESS  # the first delivery failed; Twilio's retry will redo it
            if stored != _WORKING:
                return stored.decode()
            if time.monotonic() >= deadline:
                return replies.IN_PROGRESS
            time.sleep(0.05)

    def _handle(self, msg: Inbound) -> str:
        number = _normalise(msg.sender)
        s = self.ctx.settings
        if not rate_limit.allow(
            self.r, "sms", self.ctx.pseudonyms.of(number), s.caller_rate_limit, s.caller_rate_window
        ):
            log.warning(
                "text from %s refused: over %d texts in %ds", mask(number), s.caller_rate_limit, s.caller_rate_window
            )
            return replies.TOO_MANY
        supervisor = self.ctx.roster.supervisor_by_cell(number) if number else None
        liaison = self.ctx.roster.liaison_by_phone(number) if number else None
        if supervisor is None and liaison is None:
            # One audit entry per hour with a count, whoever texts: strangers cannot flood the log.
            self.ctx.audit.refused("sms_request", "unregistered numbers", "", "refused: unregistered number")
            log.info("text from unregistered %s refused", mask(msg.sender))
            return replies.UNREGISTERED
        parsed = parse(msg.body)
        log.info(
            "text from %s (%s): %d chars, %d media, command %s",
            mask(number),
            supervisor.id if supervisor else liaison.id,  # type: ignore[union-attr]
            len(parsed.text),
            msg.num_media,
            parsed.command or "-",
        )
        if parsed.empty:
            if msg.num_media > 0:
                return replies.PICTURE
            return replies.EMPTY if supervisor else replies.LIAISON_HELP
        if liaison is not None and (supervisor is None or parsed.command in ("ON", "OFF")):
            return self._liaison(liaison, parsed)
        assert supervisor is not None
        return self._supervisor(supervisor, number, parsed)

    # ---------------------------------------------------------------- supervisors
    def _supervisor(self, supervisor: Supervisor, number: str, p: Parsed) -> str:
        command = p.command
        if command == "HELP":
            return replies.HELP
        if command == "CODES":
            return replies.codes(self.ctx.catalog.top(CODES_SHOWN))
        if command == "STATUS":
            return self._status(number, p.args[0] if p.args else None)
        if command == "CANCEL":
            return self._cancel(number, p.args[0] if p.args else None)
        pending = self._take_pending(number) if command in ("YES", "NO") else None
        if command == "YES":
            if pending is None or not pending.get("language"):
                return replies.NOTHING_TO_CONFIRM
            language = self.ctx.catalog.get(pending["language"])
            if language is None:
                return replies.NOTHING_TO_CONFIRM
            return self._request(
                supervisor, number, language, p.urgent or pending.get("urgent") == "1", pending.get("callback") or None
            )
        if command == "NO" and pending is not None:
            return replies.DECLINED
        # Anything else (ON/OFF from a supervisor, "no" with nothing pending) is read as a language.
        if p.callback_invalid or (p.callback and not self._may_call(p.callback)):
            return replies.BAD_CALLBACK
        earlier = self._peek_pending(number)
        urgent = p.urgent or bool(earlier and earlier.get("urgent") == "1")
        callback = p.callback or (earlier.get("callback") if earlier else None) or None
        if p.unknown_language:
            return self._request(supervisor, number, None, urgent, callback)
        if not p.language_text:
            self._remember(number, None, urgent, callback)
            return replies.NEED_LANGUAGE
        choice = read_language(self.ctx.catalog, p.language_text)
        log.info(
            "text from %s read as %s %s (%s)",
            mask(number),
            choice.kind,
            choice.language.id if choice.language else "-",
            choice.via or "-",
        )
        if choice.kind == "request" and choice.language is not None:
            return self._request(supervisor, number, choice.language, urgent, callback)
        if choice.kind == "confirm" and choice.language is not None:
            self._remember(number, choice.language, urgent, callback)
            if choice.via == "detected":
                return replies.confirm_detected(choice.language)
            return replies.confirm_near_miss(choice.language)
        if choice.kind == "choose":
            self._remember(number, None, urgent, callback)
            return replies.choose(choice.choices)
        self._remember(number, None, urgent, callback)
        return replies.not_recognised(choice.choices)

    def _request(
        self, supervisor: Supervisor, number: str, language: Language | None, urgent: bool, callback: str | None
    ) -> str:
        """Open a NEW request and ask a worker to call back; a repeat of an open one is not doubled."""
        self.r.delete(keys.sms_pending(number))
        for rec in self._open_for(number):
            if (
                rec.waiting
                and rec.language == (language.id if language else None)
                and self._same_callback(rec, callback or "")
            ):
                return replies.already(rec)
        caller = Caller(number, "supervisor", supervisor.precinct, supervisor.id)
        rec = self.dispatcher.open_request(
            caller, language, urgent=urgent, channel="sms", callback_number=callback or "", state=State.NEW
        )
        s = self.ctx.settings
        # The sweeper fails it if the call back is never answered (Dispatcher.review).
        self.ctx.requests.set_deadline(rec.id, rec.created_at + s.callback_ring_timeout + s.grace_seconds + 0.01)
        self.ctx.jobs.submit("call_back", rec.id)
        return replies.requested(rec, callback)

    def _same_callback(self, rec: RequestRecord, callback: str) -> bool:
        """Whether `rec` calls back `callback` (once dialled, a record holds only its hash)."""
        if rec.callback_number == callback:
            return True
        return bool(callback) and rec.extra.get("callback_key") == self.ctx.pseudonyms.of(callback)

    def _may_call(self, e164: str) -> bool:
        """Only numbers in the service number's country, and never premium-rate ones: a
        texted callback number must not be a way to run up charges."""
        try:
            number = phonenumbers.parse(e164, None)
            home = phonenumbers.parse(self.ctx.roster.service_number, None).country_code
        except phonenumbers.NumberParseException:
            return False
        kind = phonenumbers.number_type(number)
        return number.country_code == home and kind not in (
            phonenumbers.PhoneNumberType.PREMIUM_RATE,
            phonenumbers.PhoneNumberType.SHARED_COST,
            phonenumbers.PhoneNumberType.UAN,
            phonenumbers.PhoneNumberType.PAGER,
        )

    def _open_for(self, number: str) -> list[RequestRecord]:
        """The sender's open requests, newest first."""
        store = self.ctx.requests
        mine = [rec for rec in store.get_many(store.open_ids()) if rec.caller == number and not rec.finished]
        return sorted(mine, key=lambda rec: rec.created_at, reverse=True)

    def _find(self, number: str, request_id: str | None) -> RequestRecord | None:
        if request_id:
            rec = self.ctx.requests.get(request_id)
            return rec if rec is not None and rec.caller == number else None
        mine = self._open_for(number)
        return mine[0] if mine else None

    def _status(self, number: str, request_id: str | None) -> str:
        rec = self._find(number, request_id)
        if rec is None:
            return replies.NO_OPEN
        place = self.dispatcher.position(rec) if rec.state == State.QUEUED else None
        return replies.status(rec, place)

    def _cancel(self, number: str, request_id: str | None) -> str:
        rec = self._find(number, request_id)
        if rec is None:
            return replies.NO_OPEN
        self.r.delete(keys.sms_pending(number))
        if not rec.waiting:
            return replies.cannot_cancel(rec)
        if not self.dispatcher.cancel(rec.id, "cancelled by text"):
            fresh = self.ctx.requests.get(rec.id) or rec
            return replies.cannot_cancel(fresh)
        ringing = rec.extra.get("callback_call")
        if rec.state == State.NEW and ringing:
            self.ctx.jobs.submit("hang_up", rec.id, ringing)  # a webhook never waits on the phone network
        events.audit(self.r, rec.unit or mask(number), "cancel", rec.id, "done by text")
        log.info("request %s cancelled by text from %s", rec.id, mask(number))
        return replies.cancelled(rec)

    # ---------------------------------------------------------------- pending confirmation
    def _remember(self, number: str, language: Language | None, urgent: bool, callback: str | None) -> None:
        """Keep what a follow-up text needs: the language id to confirm, URGENT, the
        callback number. Never the text itself."""
        key = keys.sms_pending(number)
        if language is None and not urgent and not callback:
            self.r.delete(key)
            return
        pipe = self.r.pipeline()
        pipe.delete(key)
        pipe.hset(
            key,
            mapping={
                "language": language.id if language else "",
                "urgent": "1" if urgent else "0",
                "callback": callback or "",
            },
        )
        pipe.expire(key, PENDING_TTL)
        pipe.execute()

    def _peek_pending(self, number: str) -> dict[str, str] | None:
        raw = self.r.hgetall(keys.sms_pending(number))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    def _take_pending(self, number: str) -> dict[str, str] | None:
        pipe = self.r.pipeline()
        pipe.hgetall(keys.sms_pending(number))
        pipe.delete(keys.sms_pending(number))
        raw, _ = pipe.execute()
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    # ---------------------------------------------------------------- liaisons
    def _liaison(self, liaison: Liaison, p: Parsed) -> str:
        board = self.ctx.liaisons
        if p.command == "OFF":
            board.set_duty(liaison.id, False)
            events.audit(self.r, liaison.id, "duty_off", liaison.id, "by text")
            return replies.LIAISON_OFF
        if p.command == "ON":
            if not p.args:
                board.set_languages(liaison.id, None)
                board.set_duty(liaison.id, True)
                events.audit(self.r, liaison.id, "duty_on", liaison.id, "by text; usual languages")
                return replies.liaison_on(self._languages(liaison.languages), usual=True)
            found, missed = self._read_codes(p.args)
            if not found:
                return replies.LIAISON_NO_CODES
            board.set_languages(liaison.id, [l.id for l in found])
            board.set_duty(liaison.id, True)
            events.audit(
                self.r, liaison.id, "duty_on", liaison.id, "by text; languages " + ",".join(l.id for l in found)
            )
            return replies.liaison_on(found, usual=False, unrecognised=missed)
        if p.command == "STATUS":
            status = board.status(liaison.id)
            if status.duty_override:
                on, source = status.duty_override == "on", "set by text"
            else:
                on, source = liaison.on_duty_at(clock.utc_datetime()), "schedule"
            langs = status.languages_override if status.languages_override is not None else liaison.languages
            return replies.liaison_status(on, self._languages(langs), source)
        if p.command == "CODES":
            return replies.codes(self.ctx.catalog.top(CODES_SHOWN))
        return replies.LIAISON_HELP

    def _languages(self, ids: tuple[str, ...] | list[str]) -> list[Language]:
        return [l for l in (self.ctx.catalog.get(i) for i in ids) if l is not None]

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


# ---------------------------------------------------------------- the call back


def place_callback(ctx: Context, request_id: str) -> str | None:
    """Ring the supervisor (or the texted callback number) for a NEW request; the job body.

    Runs once per request even if the job is delivered twice. A dial the network
    refused outright fails the request and texts the supervisor.
    """
    rec = ctx.requests.get(request_id)
    if rec is None or rec.state != State.NEW:
        return None
    if not ctx.redis.set(keys.once("callback", request_id), "1", nx=True, ex=ctx.settings.retention_seconds):
        return None
    to = rec.callback_number or rec.caller
    try:
        sid = ctx.telephony.place_call(
            CallRequest(
                to=to,
                from_=ctx.roster.service_number,
                url=ctx.urls(paths.CALLBACK, r=request_id),
                status_callback=ctx.urls(paths.CALLBACK_STATUS, r=request_id),
                timeout=ctx.settings.callback_ring_timeout,
            )
        )
    except TelephonyError as exc:
        log.warning("request %s: could not call back %s: %s", request_id, mask(to), exc)
        _forget_callback_number(ctx, rec)
        if not exc.maybe_placed:
            fail_callback(ctx, request_id, "dial-failed")
        return None
    ctx.requests.link_call(sid, request_id, "callback")
    ctx.requests.set_fields(request_id, {"callback_call": sid})
    _forget_callback_number(ctx, rec)
    log.info("request %s: calling back %s", request_id, mask(to))
    return sid


def _forget_callback_number(ctx: Context, rec: RequestRecord) -> None:
    """The call back is dialled (once per request): a callback number outside the roster is
    needed no more, so the record keeps it masked, with its keyed hash for `_same_callback`."""
    number = rec.callback_number
    if number and kept_number(ctx.roster, number) != number:
        ctx.requests.set_fields(rec.id, {"callback_number": mask(number), "callback_key": ctx.pseudonyms.of(number)})


def callback_answered(ctx: Context, dispatcher: Dispatcher, request_id: str, call_sid: str) -> RequestRecord | None:
    """The called-back phone answered: queue the request for an interpreter (once) and
    text that one is being connected. Returns the record (None if unknown)."""
    rec = ctx.requests.get(request_id)
    if rec is None or rec.state != State.NEW or not call_sid:
        return rec
    after = dispatcher.start(request_id, call_sid)
    if (
        after is not None
        and after.state != State.NEW
        and after.officer_call == call_sid
        and ctx.redis.set(keys.once("callback-answered", request_id), "1", nx=True, ex=ctx.settings.retention_seconds)
    ):
        log.info("request %s: call back answered, queued", request_id)
        ctx.jobs.submit("notify", request_id, "connecting")
    return after


def callback_ended(ctx: Context, dispatcher: Dispatcher, request_id: str, call_sid: str, status: str) -> None:
    """Status callback for the call back: unanswered → the request fails and the supervisor
    gets a text; hung up after joining → the officer-left path of the voice flow."""
    rec = ctx.requests.get(request_id)
    if rec is None:
        return
    if rec.state == State.NEW:
        if status in ("no-answer", "busy", "failed", "canceled", "completed"):
            fail_callback(ctx, request_id, status)
        return
    if status in ("completed", "no-answer", "busy", "failed", "canceled") and rec.officer_call == call_sid:
        dispatcher.officer_call_ended(call_sid)


def fail_callback(ctx: Context, request_id: str, why: str) -> bool:
    """A NEW request whose call back did not connect: fail it and queue the text."""
    out = ctx.requests.apply(
        request_id, "fail", fields={"outcome": f"call-back {why}"}, data={"outcome": why}, deadline=None
    )
    if out.applied:
        log.info("request %s: call back %s; failed", request_id, why)
        ctx.jobs.submit("notify", request_id, "failed")
    return out.applied


# ---------------------------------------------------------------- notices


def send_notice(ctx: Context, request_id: str, what: str) -> str | None:
    """Text the supervisor of a texted request one of replies.NOTICES; the notify job's body."""
    rec = ctx.requests.get(request_id)
    build = replies.NOTICES.get(what)
    if rec is None or build is None or rec.channel != "sms" or not rec.caller:
        return None
    try:
        sid = ctx.telephony.send_sms(rec.caller, ctx.roster.service_number, build(rec))
    except TelephonyError as exc:
        log.warning("request %s: could not text %s the %s notice: %s", request_id, mask(rec.caller), what, exc)
        return None
    log.info("request %s: texted %s the %s notice", request_id, mask(rec.caller), what)
    return sid


def failure_hook(ctx: Context) -> Callable[[RequestRecord], None]:
    """Dispatcher's on_failed: a texted request that failed gets its text (sent by a worker)."""

    def on_failed(rec: RequestRecord) -> None:
        if rec is not None and rec.channel == "sms":
            ctx.jobs.submit("notify", rec.id, "failed")

    return on_failed


def _normalise(sender: str) -> str:
    """Twilio sends E.164; anything else is normalised, or kept as-is (and matches nobody)."""
    raw = (sender or "").strip()[:40]
    if not raw:
        return ""
    try:
        return to_e164(raw)
    except ValueError:
        return raw
