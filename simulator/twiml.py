"""The TwiML interpreter: runs a call leg's documents verb by verb, as Twilio does.

Supported: Say, Play, Pause, Gather (dtmf / speech, nested Say/Play/Pause), Redirect,
Hangup, Reject, Dial (Number, Conference). An unknown verb is a Twilio 12200-style
error: logged, then the call is hung up. When a document runs out of verbs the call
ends (mode "call"); a whisper ("whisper" mode) or wait music ("music" mode) just returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree as ET

from simulator.calls import CallEnded, Redirected, Source
from simulator.webhook import TwimlError, parse_twiml

if TYPE_CHECKING:
    from simulator.legs import LegRunner

APP_ERROR = "We are sorry, an application error has occurred. Goodbye."
MUSIC_VERBS = {"Say", "Play", "Pause", "Redirect"}
WORDS_PER_SECOND = 2.5


class AppError(Exception):
    """No usable TwiML (primary and fallback both failed)."""


class BargeIn(Exception):
    """The person pressed a key while a <Gather>'s prompt was still playing: the prompt stops."""


def attr_bool(el: ET.Element, name: str, default: bool) -> bool:
    value = el.get(name)
    return default if value is None else value.strip().lower() == "true"


def attr_float(el: ET.Element, name: str, default: float) -> float:
    try:
        return float(el.get(name, default))
    except (TypeError, ValueError):
        return default


def short_url(url: str | None) -> str:
    """Path and query only: enough to follow a call in the log."""
    if not url:
        return "inline TwiML"
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


Dial = Callable[["Interpreter", ET.Element, "str | None"], "Source | None"]


class Interpreter:
    """Runs a leg's TwiML. `dial` runs a <Dial> verb (simulator/dial.py, which itself runs
    TwiML for the legs it bridges; the leg runner passes it in)."""

    def __init__(self, leg: LegRunner, mode: str = "call", dial: Dial | None = None):
        self.leg = leg
        self.mode = mode
        self.dial = dial
        self.config = leg.net.config
        self.barge_at: float | None = None  # monotonic instant a key cuts the current Gather's prompt
        self.handlers: dict[str, Callable[[ET.Element, str | None], Source | None]] = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause,
            "Gather": self._gather,
            "Redirect": self._redirect,
            "Hangup": self._hangup,
            "Reject": self._reject,
            "Dial": self._dial,
        }

    # ---- documents ------------------------------------------------------------------------
    def run(self, source: Source | None) -> None:
        """Follow documents until one runs out of verbs (returns) or the leg ends (raises)."""
        while source is not None:
            try:
                root, base = self.load(source)
                if self.mode == "call" and not self.leg.call.answered:
                    first = next(iter(root), None)
                    if first is None or first.tag != "Reject":
                        self.leg.answer()
                source = self.execute(list(root), base)
            except Redirected as redirect:
                if self.mode != "call":
                    raise
                self.leg.event(f"redirected by the app → {short_url(redirect.source.url)}")
                source = redirect.source
            except AppError:
                if self.mode == "music":
                    raise
                if self.mode == "call":
                    self.leg.answer()  # Twilio answers to play the error message
                self.say_text(APP_ERROR)
                raise CallEnded("application error") from None

    def load(self, source: Source) -> tuple[ET.Element, str | None]:
        """Fetch (or parse) one document; on failure use the fallback URL once, as Twilio does."""
        self.leg.check()
        if source.twiml is not None:
            try:
                return parse_twiml(source.twiml), None
            except TwimlError as exc:
                self.leg.event(f"error {exc.code}: inline TwiML: {exc.detail}")
                raise AppError() from None
        call = self.leg.call
        with self.leg.net.lock:
            params = call.webhook_params()
        params.update(source.params)
        try:
            root = self.leg.net.webhooks.fetch_twiml(source.url or "", params, source.method)
        except TwimlError as exc:
            self.leg.event(f"error {exc.code} from {short_url(exc.url)}: {exc.detail}")
            self.leg.check()
            if self.mode == "call" and call.fallback_url and not source.is_fallback:
                self.leg.event(f"trying the fallback URL {short_url(call.fallback_url)}")
                return self.load(
                    Source(
                        call.fallback_url,
                        call.fallback_method,
                        {"ErrorCode": str(exc.code), "ErrorUrl": exc.url},
                        is_fallback=True,
                    )
                )
            raise AppError() from None
        if self.mode != "music":
            self.leg.event(f"{source.method.upper()} {short_url(source.url)}")
        return root, source.url

    def execute(self, verbs: list[ET.Element], base: str | None) -> Source | None:
        """Run verbs in order; a verb that moves the call elsewhere returns the next Source."""
        for el in verbs:
            self.leg.check()
            if self.mode == "music" and el.tag not in MUSIC_VERBS:
                self.leg.event(f"wait music: <{el.tag}> is not allowed there, skipped")
                continue
            handler = self.handlers.get(el.tag)
            if handler is None:
                self.leg.event(f"error 12200: unsupported TwiML verb <{el.tag}>: hanging up")
                raise CallEnded(f"TwiML error 12200 (<{el.tag}>)")
            following = handler(el, base)
            if following is not None:
                return following
        return None

    def resolve(self, base: str | None, url: str) -> str:
        url = url.strip()
        if base:
            return urljoin(base, url)
        if not urlsplit(url).scheme:
            self.leg.event(f"error 11100: relative URL {url!r} in inline TwiML")
            raise CallEnded("TwiML error 11100")
        return url

    # ---- verbs ----------------------------------------------------------------------------
    def say_text(self, text: str, voice: str = "", loop: int = 1) -> None:
        words = max(1, len(text.split()))
        detail = f" ({voice})" if voice else ""
        prefix = "wait music: " if self.mode == "music" else ""
        self.leg.event(f'{prefix}say{detail}: "{text}"')
        for _ in range(loop):
            self.prompt_wait(self.config.scaled(words / WORDS_PER_SECOND))

    def _loops(self, el: ET.Element) -> int:
        loop = int(attr_float(el, "loop", 1))
        return 1000 if loop <= 0 else loop

    def _say(self, el: ET.Element, base: str | None) -> None:
        text = " ".join("".join(el.itertext()).split())
        voice = ", ".join(v for v in (el.get("voice"), el.get("language")) if v)
        self.say_text(text, voice, self._loops(el))
        return None

    def _play(self, el: ET.Element, base: str | None) -> None:
        digits = el.get("digits")
        if digits:
            self.leg.send_dtmf(digits, "play digits")
            return None
        url = (el.text or "").strip()
        self.leg.event(f"{'wait music: ' if self.mode == 'music' else ''}play {short_url(url) or url}")
        self.prompt_wait(self.config.scaled(1.0 * self._loops(el)))
        return None

    def _pause(self, el: ET.Element, base: str | None) -> None:
        self.prompt_wait(self.config.scaled(attr_float(el, "length", 1.0)))
        return None

    def prompt_wait(self, seconds: float) -> None:
        """Play a prompt for `seconds`, unless a key pressed inside a <Gather> cuts it (BargeIn)."""
        if self.barge_at is None:
            self.leg.wait(seconds)
            return
        left = self.barge_at - time.monotonic()
        if left < seconds:
            self.leg.wait(max(0.0, left))
            raise BargeIn()
        self.leg.wait(seconds)

    def _redirect(self, el: ET.Element, base: str | None) -> Source:
        return Source(self.resolve(base, el.text or ""), (el.get("method") or "POST").upper())

    def _hangup(self, el: ET.Element, base: str | None) -> None:
        self.leg.event("<Hangup>")
        raise CallEnded("TwiML <Hangup>")

    def _reject(self, el: ET.Element, base: str | None) -> None:
        reason = el.get("reason", "rejected")
        if self.leg.call.answered:
            self.leg.event("<Reject> after answering: hanging up")
            raise CallEnded("TwiML <Reject>")
        self.leg.event(f"<Reject reason={reason}>")
        raise CallEnded(f"rejected ({reason})", status="busy")

    def _gather(self, el: ET.Element, base: str | None) -> Source | None:
        modes = set((el.get("input") or "dtmf").split())
        finish = el.get("finishOnKey", "#")
        num_digits = int(attr_float(el, "numDigits", 0)) or None
        timeout = attr_float(el, "timeout", 5.0)
        action_url = el.get("action")
        action = self.resolve(base, action_url) if action_url else base
        method = (el.get("method") or "POST").upper()
        with self.leg.net.lock:
            upcoming = self.leg.call.party.inputs[0] if self.leg.call.party.inputs else {}
        started = time.monotonic()
        after = upcoming.get("after")  # the person's keys come this long after the Gather starts, prompt or not
        self.barge_at = None if after is None else started + after
        try:
            for child in el:
                if child.tag in ("Say", "Play", "Pause"):
                    self.handlers[child.tag](child, base)
        except BargeIn:
            self.leg.event("gather: a key cut the prompt (barge-in)")
        finally:
            self.barge_at = None
        with self.leg.net.lock:
            reply = self.leg.call.party.next_input()
        # Keys that come after the prompt: the person's own pause first, within the Gather's timeout.
        late = started + after - time.monotonic() if after is not None else float(reply.get("pause", 0.0))
        if late > 0:
            if late > self.config.scaled(timeout):
                reply = {"silence": True}
            else:
                self.leg.wait(late)
        params = self._gather_result(reply, modes, finish, num_digits, timeout)
        if params is None:
            if attr_bool(el, "actionOnEmptyResult", False) and action:
                return Source(action, method, {})
            return None  # Twilio falls through to the next verb
        return Source(action, method, params) if action else None

    def _gather_result(
        self, reply: dict, modes: set[str], finish: str, num_digits: int | None, timeout: float
    ) -> dict[str, str] | None:
        """Turn the party's reply into Twilio's Gather parameters; None means no input."""
        wait = self.config.scaled(timeout)
        if "speech" in reply:
            if "speech" not in modes:
                self.leg.event(f"gather: party spoke but only {' '.join(sorted(modes))} is listened for")
                self.leg.wait(wait)
                return None
            confidence = f"{float(reply.get('confidence', 0.9)):.2f}"
            self.leg.event(f'gather: speech "{reply["speech"]}" (confidence {confidence})')
            return {"SpeechResult": reply["speech"], "Confidence": confidence}
        keys = reply.get("digits", "").replace("w", "").replace("W", "")
        if not keys or "dtmf" not in modes:
            self.leg.event("gather: no input" if not keys else "gather: keys pressed but dtmf is not listened for")
            self.leg.wait(wait)
            return None
        digits, finished = "", ""
        for key in keys:
            if finish and key in finish:
                finished = key
                break
            digits += key
            if num_digits and len(digits) >= num_digits:
                break
        if not finished and not (num_digits and len(digits) >= num_digits):
            self.leg.wait(wait)  # no finishing key: Twilio submits what it has after the timeout
        if not digits:
            self.leg.event("gather: only the finish key was pressed")
            return None
        self.leg.event(f"gather: digits {digits}{finished}")
        return {"Digits": digits, "FinishedOnKey": finished}

    def _dial(self, el: ET.Element, base: str | None) -> Source | None:
        if self.dial is None:
            raise AppError("<Dial> cannot run here")
        return self.dial(self, el, base)
